/// What the station repository refuses.
enum StationError: DomainError {
    case connectorNotFound(stationID: String, connectorID: Int)
    case duplicateConnector(stationID: String, connectorID: Int)
    case unknownTariff(String)

    var kind: DomainErrorKind {
        switch self {
        case .connectorNotFound: .notFound
        case .duplicateConnector: .conflict
        case .unknownTariff: .invalid
        }
    }

    var fields: [FieldError] {
        switch self {
        case .unknownTariff(let id): [FieldError(field: "tariffId", message: "no tariff \(id)")]
        default: []
        }
    }

    var description: String {
        switch self {
        case .connectorNotFound(let station, let connector): "station \(station) has no connector \(connector)"
        case .duplicateConnector(let station, let connector): "station \(station) already has a connector \(connector)"
        case .unknownTariff(let id): "tariffId: no tariff \(id)"
        }
    }
}
