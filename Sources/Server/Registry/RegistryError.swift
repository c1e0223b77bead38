/// What the service registry refuses.
enum RegistryError: DomainError {
    case inProcess(String, action: String)
    case notFound(String)

    var kind: DomainErrorKind {
        switch self {
        case .inProcess: .conflict
        case .notFound: .notFound
        }
    }

    var description: String {
        switch self {
        case .inProcess(let name, let action): "'\(name)' is an in-process service and cannot be \(action)"
        case .notFound(let name): "no service named '\(name)' is registered"
        }
    }
}
