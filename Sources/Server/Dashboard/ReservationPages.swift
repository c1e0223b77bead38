import Foundation
import Storage

/// Reservations: the list with its filters and the form that reserves, and the table of a
/// station's open ones on the station page.
enum ReservationPages {
    static func list(
        _ reservations: Page<Reservation>, filter: ReservationListFilter, driverNames: [String: String], stationIDs: [String],
        tags: [String], notice: FormOutcome?, session: WebSession, format: DisplayFormat
    ) -> HTML {
        let statuses = [(value: "", label: "any")] + ReservationStatus.allCases.map { (value: $0.rawValue, label: $0.rawValue) }
        let csrf = DashboardLayout.csrfField(session)
        return """
            <h1>Reservations</h1>
            \(DashboardLayout.notice(notice))
            <datalist id="station-ids">\(HTML(stationIDs.map { "<option value=\"\($0)\"></option>" }))</datalist>
            <datalist id="id-tags">\(HTML(tags.map { "<option value=\"\($0)\"></option>" }))</datalist>
            <form class="inline" method="get" action="/ui/reservations" role="search">
              <label for="filter-station">Station <input id="filter-station" name="stationId" list="station-ids" maxlength="100" value="\(filter.stationID)"></label>
              <label for="filter-status">Status <select id="filter-status" name="status">\(DashboardLayout.options(statuses, selected: filter.status?.rawValue ?? ""))</select></label>
              <button type="submit">Filter</button>
            </form>
            <section class="panel">
              \(table(reservations.items, showStation: true, driverNames: driverNames, returnTo: nil, session: session, format: format))
              \(DashboardLayout.nextPage("/ui/reservations", cursor: reservations.nextCursor, filter.parameters))
            </section>
            <section class="panel">
              <h2>Reserve a connector</h2>
              <form class="inline" method="post" action="/ui/reservations" id="reservation-form">
                \(csrf)
                <label for="reserve-station">Station <input id="reserve-station" name="stationId" list="station-ids" required maxlength="100" value="\(filter.stationID)"></label>
                <label for="reserve-connector">Connector (0: any) <input id="reserve-connector" name="connectorId" type="number" min="0" max="100" required value="0"></label>
                <label for="reserve-tag">Id tag <input id="reserve-tag" name="idTag" list="id-tags" required maxlength="20"></label>
                <label for="reserve-minutes">Expires in (minutes) <input id="reserve-minutes" name="expiresInMinutes" type="number" min="\(DashboardController.reservationMinutes.lowerBound)" max="\(DashboardController.reservationMinutes.upperBound)" required value="60"></label>
                <button type="submit">Reserve</button>
              </form>
            </section>
            """
    }

    /// Reservations with a cancel button on the open ones; `returnTo` "station" brings the
    /// operator back to the station page after cancelling.
    static func table(
        _ reservations: [Reservation], showStation: Bool, driverNames: [String: String], returnTo: String?, session: WebSession,
        format: DisplayFormat
    ) -> HTML {
        let csrf = DashboardLayout.csrfField(session)
        let rows = reservations.map { reservation -> HTML in
            let cancel: HTML =
                reservation.status.isOpen
                ? """
                <form method="post" action="/ui/reservations/\(DashboardLayout.segment(reservation.id))/cancel" class="inline" data-confirm="Cancel this reservation?">
                  \(csrf)\(returnTo.map { "<input type=\"hidden\" name=\"returnTo\" value=\"\($0)\">" as HTML } ?? .empty)
                  <button type="submit" class="secondary">Cancel</button>
                </form>
                """ : .empty
            let answer = [reservation.chargerAnswer, reservation.failure, reservation.cancelAnswer.map { "cancel: " + $0 }]
                .compactMap { $0 }.joined(separator: " · ")
            let station: HTML =
                showStation
                ? "<td><a href=\"\(DashboardLayout.stationPath(reservation.stationId))\">\(reservation.stationId)</a></td>" : .empty
            return """
                <tr data-reservation="\(reservation.id)">
                  \(station)
                  <td>\(reservation.connectorId == 0 ? "any" : String(reservation.connectorId))</td>
                  <td>\(reservation.idTag)</td>
                  <td>\(reservation.driverId.map { driverNames[$0] ?? $0 } ?? "—")</td>
                  <td>\(format.time(reservation.expiresAt))</td>
                  <td class="reservation-status">\(reservation.status.rawValue)</td>
                  <td>\(answer.isEmpty ? "—" : answer)</td>
                  <td>\(cancel)</td>
                </tr>
                """
        }
        let headers = (showStation ? ["Station"] : []) + ["Connector", "Id tag", "Driver", "Expires", "Status", "Charger answer", ""]
        return DashboardLayout.table(
            id: "reservations", headers, rows, empty: showStation ? "No reservations match." : "No open reservations.")
    }
}
