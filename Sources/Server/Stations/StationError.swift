/// What the station repository refuses.
enum StationError: DomainError {
    case connectorNotFound(stationID: String, connectorID: Int)
    case duplicateConnector(stationID: String, connectorID: Int)
    case unknownTariff(String)
    case unknownSite(String)
    /// A change would leave one of latitude and longitude set without the other.
    case incompleteCoordinates

    var kind: DomainErrorKind {
        switch self {
        case .connectorNotFound: .notFound
        case .duplicateConnector: .conflict
        case .unknownTariff, .unknownSite, .incompleteCoordinates: .invalid
        }
    }

    var fields: [FieldError] {
        switch self {
        case .unknownTariff(let id): [FieldError(field: "tariffId", message: "no tariff \(id)")]
        case .unknownSite(let id): [FieldError(field: "siteId", message: "no site \(id)")]
        case .incompleteCoordinates: [FieldError(field: "latitude", message: "latitude and longitude are set together")]
        default: []
        }
    }

    var description: String {
        switch self {
        case .connectorNotFound(let station, let connector): "station \(station) has no connector \(connector)"
        case .duplicateConnector(let station, let connector): "station \(station) already has a connector \(connector)"
        case .unknownTariff(let id): "tariffId: no tariff \(id)"
        case .unknownSite(let id): "siteId: no site \(id)"
        case .incompleteCoordinates: "latitude: latitude and longitude are set together"
        }
    }
}
