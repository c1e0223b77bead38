import Foundation
import Hummingbird
import Storage

/// `/api/v1/reservations` (staff reserve for any tag or driver; drivers see and cancel their own)
/// and `/api/v1/me/reservations` (a driver reserves through the app).
struct ReservationsController {
    let service: ReservationService
    let drivers: DriverRepository

    struct CreateRequest: Decodable, Sendable {
        var stationId: String
        var connectorId: Int
        var idTag: String?
        var driverId: String?
        var expiresAt: Date
    }

    struct DriverRequest: Decodable, Sendable {
        var stationId: String
        var connectorId: Int
        var minutes: Int
    }

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post("/api/v1/reservations") { request, context in
            let identity = try context.requireSignedIn()
            let body = try await request.decodeJSON(as: CreateRequest.self)
            let stored = try await create(body, by: identity.userID)
            return try jsonResponse(stored, status: .created, headers: [.location: "/api/v1/reservations/\(stored.id)"])
        }
        router.post("/api/v1/me/reservations") { request, context in
            let identity = try context.requireSignedIn()
            let body = try await request.decodeJSON(as: DriverRequest.self)
            try Self.validateConnector(body.connectorId)
            let stored = try await OCPPController.mapCallErrors(station: body.stationId, action: "ReserveNow") {
                try await service.reserveForDriver(
                    userID: identity.userID, stationID: body.stationId, connectorID: body.connectorId, minutes: body.minutes)
            }
            return try jsonResponse(stored, status: .created, headers: [.location: "/api/v1/reservations/\(stored.id)"])
        }
        router.get("/api/v1/reservations") { request, context in
            let identity = try context.requireSignedIn()
            let parameters = request.uri.queryParameters
            var validator = Validator()
            var query = ReservationQuery(stationID: parameters.text("stationId"), driverID: parameters.text("driverId"))
            query.status = validator.parse(parameters.text("status"), as: ReservationStatus.self, field: "status")
            try validator.throwIfInvalid()
            if identity.role == .driver {
                // A driver's listing is theirs alone, whatever the query asks for.
                guard let driver = try await drivers.driver(forUser: identity.userID) else {
                    return try jsonResponse(ListResponse<Reservation>(items: [], nextCursor: nil))
                }
                query.driverID = driver.id
            }
            let page = try await service.reservations.list(query, page: try PageRequest(from: parameters))
            return try jsonResponse(ListResponse(items: page.items, nextCursor: page.nextCursor))
        }
        router.get("/api/v1/reservations/{id}") { _, context in
            try jsonResponse(try await visibleReservation(try context.parameters.require("id"), to: try context.requireSignedIn()))
        }
        router.delete("/api/v1/reservations/{id}") { _, context in
            let reservation = try await visibleReservation(
                try context.parameters.require("id"), to: try context.requireSignedIn())
            return try jsonResponse(try await cancel(reservation))
        }
    }

    // MARK: Shared with the dashboard

    func create(_ body: CreateRequest, by userID: String?) async throws -> Reservation {
        var validator = Validator()
        validator.check((body.idTag == nil) != (body.driverId == nil), "idTag", "give either idTag or driverId")
        if let idTag = body.idTag { validator.check(IdTag.isValid(idTag), "idTag", "must be 1–20 printable ASCII characters") }
        try validator.throwIfInvalid()
        try Self.validateConnector(body.connectorId)
        let holder: ReservationService.Holder = body.idTag.map { .idTag($0) } ?? .driver(body.driverId!)
        return try await OCPPController.mapCallErrors(station: body.stationId, action: "ReserveNow") {
            try await service.reserve(
                .init(
                    stationID: body.stationId, connectorID: body.connectorId, holder: holder, expiresAt: body.expiresAt,
                    createdBy: userID))
        }
    }

    func cancel(_ reservation: Reservation) async throws -> Reservation {
        try await OCPPController.mapCallErrors(station: reservation.stationId, action: "CancelReservation") {
            try await service.cancel(reservation)
        }
    }

    /// Staff see every reservation; a driver only their own (another's is "not found").
    private func visibleReservation(_ id: String, to identity: Identity) async throws -> Reservation {
        let reservation = try await service.reservations.reservation(id)
        if identity.role == .driver {
            let driver = try await drivers.driver(forUser: identity.userID)
            guard let driver, reservation.driverId == driver.id else { throw ReservationError.notFound(id) }
        }
        return reservation
    }

    private static func validateConnector(_ connectorID: Int) throws {
        guard (0...100).contains(connectorID) else {
            throw APIError.validation(field: "connectorId", "must be 0 (any connector) or a connector number up to 100")
        }
    }
}
