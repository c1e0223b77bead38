/// What the alert workflow refuses.
enum AlertError: DomainError {
    case notFound(String)
    case invalidTransition(from: AlertState, to: AlertState)

    var kind: DomainErrorKind {
        switch self {
        case .notFound: .notFound
        case .invalidTransition: .conflict
        }
    }

    var description: String {
        switch self {
        case .notFound(let id): "no alert \(id)"
        case .invalidTransition(let from, let to): "a \(from.rawValue) alert cannot become \(to.rawValue)"
        }
    }
}
