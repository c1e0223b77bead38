import Foundation
import Hummingbird
import Storage

/// The dashboard's reservations: reserving and cancelling through the reservations API's rules
/// (`ReservationsController`), so the charger's answer and its errors read the same.
extension DashboardController {
    /// How far ahead the form reserves: up to the seven days an operator may hold a connector.
    static let reservationMinutes = 1...Int(ReservationService.operatorMaximum / 60)

    func addReservationRoutes(to router: some RouterMethods<AppRequestContext>) {
        let reservationsAPI = ReservationsController(service: dependencies.reservations, drivers: dependencies.drivers)

        router.get("/ui/reservations") { request, context in
            let filter = try ReservationListFilter(context.form)
            let page = try await dependencies.reservations.reservations.list(
                filter.query, page: PageRequest(limit: 50, cursor: filter.cursor))
            let stations = try await dependencies.stations.list(StationQuery(), page: PageRequest(limit: 200))
            let tags = try await dependencies.drivers.idTags(status: .accepted, driverID: nil, kind: nil, page: PageRequest(limit: 200))
            let notice = try await takeNotice(request.uri.queryParameters.text("outcome"), context: context)
            return DashboardLayout.response(
                DashboardLayout.page(
                    title: "Reservations", current: "/ui/reservations", session: context.webSession,
                    ReservationPages.list(
                        page, filter: filter, driverNames: try await driverNames(page.items), stationIDs: stations.items.map(\.id),
                        tags: tags.items.map(\.id), notice: notice, session: try requireSession(context), format: format)))
        }
        router.post("/ui/reservations") { _, context in
            let form = context.form
            let stationID = form.text("stationId") ?? ""
            let outcome: FormOutcome
            do {
                var validator = Validator()
                let connector = form.text("connectorId").flatMap { Int($0) }
                validator.check(connector != nil, "connectorId", "must be 0 (any connector) or a connector number")
                let minutes = form.text("expiresInMinutes").flatMap { Int($0) }
                validator.check(
                    minutes.map(Self.reservationMinutes.contains) ?? false, "expiresInMinutes",
                    "must be from \(Self.reservationMinutes.lowerBound) to \(Self.reservationMinutes.upperBound) minutes")
                try validator.throwIfInvalid()
                let reservation = try await reservationsAPI.create(
                    .init(
                        stationId: stationID, connectorId: connector!, idTag: form.text("idTag"), driverId: nil,
                        expiresAt: dependencies.now().addingTimeInterval(TimeInterval(minutes! * 60))),
                    by: try context.requireSignedIn().userID)
                let held = reservation.connectorId == 0 ? "any connector" : "connector \(reservation.connectorId)"
                outcome = FormOutcome(
                    ok: reservation.status == .active,
                    message: "reservation: \(held) of \(stationID) for \(reservation.idTag) until \(format.time(reservation.expiresAt))"
                        + " is \(reservation.status.rawValue)" + (reservation.chargerAnswer.map { "; the charger answered \($0)" } ?? ""))
            } catch {
                outcome = try Self.failure("reservation at \(stationID)", error)
            }
            return try await redirect(to: "/ui/reservations", with: outcome, context: context)
        }
        router.post("/ui/reservations/{id}/cancel") { _, context in
            let id = try context.parameters.require("id")
            // Only the station the reservation names, never a path from the form.
            var back = "/ui/reservations"
            let outcome: FormOutcome
            do {
                let reservation = try await dependencies.reservations.reservations.reservation(id)
                if context.form.text("returnTo") == "station" { back = DashboardLayout.stationPath(reservation.stationId) }
                let cancelled = try await reservationsAPI.cancel(reservation)
                outcome = FormOutcome(
                    ok: cancelled.status == .cancelled,
                    message: "cancel: reservation \(cancelled.reservationId) at \(cancelled.stationId) is \(cancelled.status.rawValue)"
                        + (cancelled.cancelAnswer.map { "; the charger answered \($0)" } ?? ""))
            } catch {
                outcome = try Self.failure("cancel", error)
            }
            return try await redirect(to: back, with: outcome, context: context)
        }
    }

    /// The names of the reservations' drivers, by id; a driver since removed shows as its id.
    func driverNames(_ reservations: [Reservation]) async throws -> [String: String] {
        var names: [String: String] = [:]
        for id in Set(reservations.compactMap(\.driverId)) {
            if let driver = try await dependencies.drivers.get(id) { names[id] = driver.name }
        }
        return names
    }
}

/// The reservation list's filters, from the query string.
struct ReservationListFilter: Sendable {
    var stationID: String?
    var status: ReservationStatus?
    var cursor: String?

    init(_ fields: FormFields) throws {
        var validator = Validator()
        stationID = fields.text("stationId").map { String($0.prefix(100)) }
        status = fields.text("status").flatMap { validator.parse($0, as: ReservationStatus.self, field: "status") }
        cursor = fields.text("cursor")
        try validator.throwIfInvalid()
    }

    var query: ReservationQuery { ReservationQuery(stationID: stationID, status: status) }

    /// The filters as query parameters, for links that keep them.
    var parameters: [(String, String?)] { [("stationId", stationID), ("status", status?.rawValue)] }
}
