import Foundation
import OCPP

/// The station page's active charging profiles, each with the button that clears it.
extension StationPages {
    static func chargingProfiles(_ profiles: [ChargingProfileRecord], path: String, session: WebSession) -> HTML {
        let csrf = DashboardLayout.csrfField(session)
        let rows = profiles.map { record -> HTML in
            let schedule = record.profile.chargingSchedule
            let unit = schedule.chargingRateUnit.rawValue
            let firstLimit = schedule.chargingSchedulePeriod.first.map { DisplayFormat.number($0.limit) + " " + unit } ?? "—"
            return """
                <tr data-profile="\(record.chargingProfileId)">
                  <td>\(record.chargingProfileId)</td>
                  <td>\(record.connectorId == 0 ? "0 (whole station)" : String(record.connectorId))</td>
                  <td>\(record.purpose)\(record.transactionId.map { " · tx \($0)" } ?? "")</td>
                  <td>\(record.stackLevel)</td>
                  <td>\(unit)</td>
                  <td>\(firstLimit)</td>
                  <td>\(record.source.rawValue)</td>
                  <td>
                    <form class="inline" method="post" action="\(path)/charging-profiles/\(record.chargingProfileId)/clear" data-confirm="Clear profile \(record.chargingProfileId)?">
                      \(csrf)<button type="submit" class="secondary">Clear</button>
                    </form>
                  </td>
                </tr>
                """
        }
        return DashboardLayout.table(
            id: "charging-profiles", ["Id", "Connector", "Purpose", "Stack level", "Unit", "First limit", "Source", ""], rows,
            empty: "No active charging profiles.")
    }
}
