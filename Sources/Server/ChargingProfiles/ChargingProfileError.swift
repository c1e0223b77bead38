/// What charging profiles refuse.
enum ChargingProfileError: DomainError {
    case stationNotFound(String)
    /// The profile breaks OCPP's rules for its purpose, kind or schedule.
    case invalid([FieldError])
    /// The station has used up the profile ids below the range load management keeps.
    case idsExhausted(String)

    var kind: DomainErrorKind {
        switch self {
        case .stationNotFound: .notFound
        case .invalid: .invalid
        case .idsExhausted: .conflict
        }
    }

    var fields: [FieldError] {
        if case .invalid(let fields) = self { return fields }
        return []
    }

    var description: String {
        switch self {
        case .stationNotFound(let id): "no station \(id)"
        case .invalid(let fields): fields.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
        case .idsExhausted(let id): "station \(id) has no charging profile ids left"
        }
    }
}
