/// What the audit log refuses.
enum AuditError: DomainError {
    /// An export bigger than one request may build; a narrower time range gets through.
    case exportTooLarge(limit: Int)

    var kind: DomainErrorKind { .invalid }

    var fields: [FieldError] {
        switch self {
        case .exportTooLarge(let limit):
            [FieldError(field: "from", message: "the range holds more than \(limit) entries; narrow it")]
        }
    }

    var description: String {
        switch self {
        case .exportTooLarge(let limit): "the export would hold more than \(limit) entries; narrow the time range"
        }
    }
}
