import Foundation
import OCPP
import Storage

/// Reserving a connector for an id tag: the domain's checks, then ReserveNow through
/// `ChargePointCommands`, whose effects store the charger's answer (so the passthrough gets the
/// same). A session that starts on a reservation uses it (`ChargerActivity`); the expiry sweep
/// ends the rest.
struct ReservationService: Sendable {
    let reservations: ReservationRepository
    let stations: StationRepository
    let drivers: DriverRepository
    let authorizer: IdTagAuthorizer
    let commands: ChargePointCommands
    /// The longest a driver may reserve for through the app.
    let driverMaximum: Duration
    let now: @Sendable () -> Date

    /// The longest an operator may reserve for: beyond it a reservation is a blocked connector.
    static let operatorMaximum: TimeInterval = 7 * 86_400

    /// Who the connector is held for.
    enum Holder: Sendable {
        case idTag(String)
        /// The driver's app token, or else their first accepted tag.
        case driver(String)
    }

    struct Request: Sendable {
        var stationID: String
        var connectorID: Int
        var holder: Holder
        var expiresAt: Date
        var createdBy: String?
    }

    func reserve(_ request: Request) async throws -> Reservation {
        let at = now()
        guard let view = try await stations.get(request.stationID) else {
            throw ReservationError.stationNotFound(request.stationID)
        }
        guard view.station.status != .decommissioned, view.station.registration == .accepted else {
            throw ReservationError.stationNotReservable(request.stationID)
        }
        guard request.connectorID == 0 || view.connectors.contains(where: { $0.connectorId == request.connectorID }) else {
            throw ReservationError.connectorNotFound(stationID: request.stationID, connectorID: request.connectorID)
        }
        guard request.expiresAt > at, request.expiresAt.timeIntervalSince(at) <= Self.operatorMaximum else {
            throw ReservationError.invalid([FieldError(field: "expiresAt", message: "must be in the future and at most 7 days ahead")])
        }
        let (idTag, driverID) = try await resolve(request.holder)
        let decision = try await authorizer.authorize(idTag, forStartTransaction: false)
        guard decision.status == .accepted else { throw ReservationError.tagNotAccepted(idTag, status: decision.status.rawValue) }
        // Refused before anything is stored: a reservation the charger never heard of helps nobody.
        guard commands.connections.connection(request.stationID) != nil else { throw OutboundCallError.notConnected }

        let pending = try await reservations.insertPending(
            Reservation(
                id: Identifiers.make(), stationId: request.stationID, connectorId: request.connectorID, reservationId: 0,
                idTag: idTag, parentIdTag: decision.parentIdTag, driverId: driverID, expiresAt: request.expiresAt,
                createdBy: request.createdBy, now: at))
        do {
            _ = try await commands.send(
                OCPP16.ReserveNow.self,
                .init(
                    connectorId: pending.connectorId, expiryDate: OCPPDateTime(pending.expiresAt), idTag: pending.idTag,
                    parentIdTag: pending.parentIdTag, reservationId: pending.reservationId),
                to: pending.stationId)
        } catch {
            try await reservations.recordFailure(pending.id, reason: Self.describe(error), at: now())
            throw error
        }
        return try await reservations.reservation(pending.id)
    }

    /// CancelReservation for an open reservation; its effect ends ours.
    func cancel(_ reservation: Reservation) async throws -> Reservation {
        guard reservation.status.isOpen else { throw ReservationError.notOpen(id: reservation.id, status: reservation.status) }
        _ = try await commands.send(
            OCPP16.CancelReservation.self, .init(reservationId: reservation.reservationId), to: reservation.stationId)
        return try await reservations.reservation(reservation.id)
    }

    /// A driver's reservation through the app: for `minutes` from now, held for their tag.
    func reserveForDriver(userID: String, stationID: String, connectorID: Int, minutes: Int) async throws -> Reservation {
        guard let driver = try await drivers.driver(forUser: userID) else { throw ReservationError.noDriverProfile }
        let maximum = Int(driverMaximum.components.seconds / 60)
        guard (1...maximum).contains(minutes) else {
            throw ReservationError.invalid([FieldError(field: "minutes", message: "must be from 1 to \(maximum)")])
        }
        return try await reserve(
            Request(
                stationID: stationID, connectorID: connectorID, holder: .driver(driver.id),
                expiresAt: now().addingTimeInterval(TimeInterval(minutes * 60)), createdBy: userID))
    }

    private func resolve(_ holder: Holder) async throws -> (idTag: String, driverID: String?) {
        switch holder {
        case .idTag(let tag):
            guard let stored = try await drivers.idTag(tag) else { throw ReservationError.tagNotAccepted(tag, status: "Invalid") }
            return (stored.id, stored.driverId)
        case .driver(let driverID):
            guard try await drivers.get(driverID) != nil else {
                throw ReservationError.invalid([FieldError(field: "driverId", message: "no driver \(driverID)")])
            }
            let tags = try await drivers.idTags(status: .accepted, driverID: driverID, kind: nil, page: PageRequest(limit: 50))
            guard let tag = tags.items.first(where: { $0.kind == .app }) ?? tags.items.first else {
                throw ReservationError.driverHasNoTag(driverID)
            }
            return (tag.id, driverID)
        }
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case OutboundCallError.notConnected: "the station is not connected"
        case OutboundCallError.timedOut: "the station did not answer in time"
        case OutboundCallError.callError(let code, let description): "the station answered \(code): \(description)"
        default: "\(error)"
        }
    }
}
