import Foundation
import Hummingbird

/// Sending a station its local list from the station page, through the local list API's rules
/// (`LocalListController.send`), so the charger's answer and its errors read the same.
extension DashboardController {
    func addLocalListRoutes(to router: some RouterMethods<AppRequestContext>) {
        let localListAPI = LocalListController(service: dependencies.localLists)

        router.post("/ui/stations/{id}/local-list") { _, context in
            let id = try context.parameters.require("id")
            // An unknown station is the page's 404, not a notice on a page that does not exist.
            guard try await dependencies.stations.station(id) != nil else { throw APIError.notFound("no station \(id)") }
            let outcome: FormOutcome
            do {
                outcome = Self.localListOutcome(try await localListAPI.send(id, type: context.form.text("type") ?? ""))
            } catch {
                outcome = try Self.failure("local list", error)
            }
            return try await redirect(to: DashboardLayout.stationPath(id), with: outcome, context: context)
        }
    }

    static func localListOutcome(_ outcome: LocalListService.Outcome) -> FormOutcome {
        guard let sent = outcome.sent else {
            return .done("local list: nothing changed since the confirmed version; nothing was sent")
        }
        let entries = sent.entries == 1 ? "1 entry" : "\(sent.entries) entries"
        return FormOutcome(
            ok: sent.status == "Accepted",
            message: "local list: \(sent.updateType.rawValue) update to version \(sent.listVersion) with \(entries) sent;"
                + " the charger answered \(sent.status)")
    }
}
