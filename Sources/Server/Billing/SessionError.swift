/// What the session service refuses.
enum SessionError: DomainError {
    case notFound(String)
    case unknownStation(String)
    case unknownConnector(stationID: String, connectorID: Int)
    case transactionIDsExhausted
    case stopBeforeStart
    /// The session kept changing while it was being stopped; the client may retry.
    case concurrentUpdate
    /// Input outside the plausible range for its field.
    case implausible(field: String, String)
    /// An export would hold more rows than one response may.
    case exportTooLarge(limit: Int)

    var kind: DomainErrorKind {
        switch self {
        case .notFound: .notFound
        case .unknownStation, .unknownConnector, .stopBeforeStart, .implausible, .exportTooLarge: .invalid
        case .transactionIDsExhausted, .concurrentUpdate: .conflict
        }
    }

    var fields: [FieldError] {
        switch self {
        case .unknownStation(let id): [FieldError(field: "stationId", message: "no station \(id)")]
        case .unknownConnector(let station, let connector):
            [FieldError(field: "connectorId", message: "station \(station) has no connector \(connector)")]
        case .stopBeforeStart: [FieldError(field: "stoppedAt", message: "must not be before the session's start")]
        case .implausible(let field, let message): [FieldError(field: field, message: message)]
        case .exportTooLarge(let limit):
            [FieldError(field: "from", message: "the range holds more than \(limit) sessions; choose a narrower from/to")]
        default: []
        }
    }

    var description: String {
        switch self {
        case .notFound(let id): "no session \(id)"
        case .transactionIDsExhausted: "transaction ids are exhausted"
        case .concurrentUpdate: "the session changed concurrently; try again"
        default: fields.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
        }
    }
}
