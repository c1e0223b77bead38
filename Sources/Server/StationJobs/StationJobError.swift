/// What jobs and uploads refuse.
enum StationJobError: DomainError {
    case stationNotFound(String)
    case notFound(String)
    case noFile(String)
    case invalid([FieldError])
    /// The upload URL is unknown, used, or expired.
    case uploadNotAccepted

    var kind: DomainErrorKind {
        switch self {
        case .stationNotFound, .notFound, .noFile, .uploadNotAccepted: .notFound
        case .invalid: .invalid
        }
    }

    var fields: [FieldError] {
        if case .invalid(let fields) = self { return fields }
        return []
    }

    var description: String {
        switch self {
        case .stationNotFound(let id): "no station \(id)"
        case .notFound(let id): "no job \(id)"
        case .noFile(let id): "job \(id) has no uploaded file"
        case .invalid(let fields): fields.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
        case .uploadNotAccepted: "this upload URL is unknown, already used or expired"
        }
    }
}
