import Foundation

/// What reservations refuse.
enum ReservationError: DomainError {
    case notFound(String)
    /// A driver endpoint called by an account without a driver profile.
    case noDriverProfile
    case stationNotFound(String)
    case connectorNotFound(stationID: String, connectorID: Int)
    /// The station is decommissioned or pending registration.
    case stationNotReservable(String)
    /// The connector (or, for connector 0, the station) already has an open reservation.
    case connectorReserved(stationID: String, connectorID: Int)
    /// The tag already holds an open reservation; one at a time.
    case tagHoldsReservation(String)
    case tagNotAccepted(String, status: String)
    case driverHasNoTag(String)
    case invalid([FieldError])
    /// Cancelling a reservation that is already used, expired, cancelled, refused or failed.
    case notOpen(id: String, status: ReservationStatus)
    /// The station has used up the 32-bit reservation ids OCPP allows.
    case idsExhausted(String)

    var kind: DomainErrorKind {
        switch self {
        case .notFound, .noDriverProfile, .stationNotFound: .notFound
        case .connectorNotFound, .tagNotAccepted, .driverHasNoTag, .invalid: .invalid
        case .stationNotReservable, .connectorReserved, .tagHoldsReservation, .notOpen, .idsExhausted: .conflict
        }
    }

    var fields: [FieldError] {
        switch self {
        case .connectorNotFound(let station, let connector):
            [FieldError(field: "connectorId", message: "station \(station) has no connector \(connector)")]
        case .tagNotAccepted(let tag, let status): [FieldError(field: "idTag", message: "\(tag) is \(status), not Accepted")]
        case .driverHasNoTag(let driver): [FieldError(field: "driverId", message: "driver \(driver) has no accepted id tag")]
        case .invalid(let fields): fields
        default: []
        }
    }

    var description: String {
        switch self {
        case .notFound(let id): "no reservation \(id)"
        case .noDriverProfile: "your account has no driver profile"
        case .stationNotFound(let id): "no station \(id)"
        case .connectorNotFound(let station, let connector): "station \(station) has no connector \(connector)"
        case .stationNotReservable(let id): "station \(id) is decommissioned or pending registration"
        case .connectorReserved(let station, let connector):
            connector == 0
                ? "station \(station) already has an open reservation for any connector"
                : "connector \(connector) of station \(station) already has an open reservation"
        case .tagHoldsReservation(let tag): "id tag \(tag) already holds an open reservation"
        case .tagNotAccepted(let tag, let status): "id tag \(tag) is \(status), not Accepted"
        case .driverHasNoTag(let driver): "driver \(driver) has no accepted id tag"
        case .invalid(let fields): fields.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
        case .notOpen(let id, let status): "reservation \(id) is \(status.rawValue), not open"
        case .idsExhausted(let station): "station \(station) has no reservation ids left"
        }
    }
}
