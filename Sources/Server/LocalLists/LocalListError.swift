/// What local list updates refuse.
enum LocalListError: DomainError {
    case stationNotFound(String)
    /// More entries than the charger said it takes (its SendLocalListMaxLength).
    case tooManyEntries(count: Int, maximum: Int)

    var kind: DomainErrorKind {
        switch self {
        case .stationNotFound: .notFound
        case .tooManyEntries: .conflict
        }
    }

    var description: String {
        switch self {
        case .stationNotFound(let id): "no station \(id)"
        case .tooManyEntries(let count, let maximum):
            "the update holds \(count) entries; the charger takes at most \(maximum) (SendLocalListMaxLength)"
        }
    }
}
