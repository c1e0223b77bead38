/// What sites refuse.
enum SiteError: DomainError {
    case notFound(String)
    /// Deleting a site that stations still belong to would leave them pointing at nothing.
    case inUse(stationIDs: [String])

    var kind: DomainErrorKind {
        switch self {
        case .notFound: .notFound
        case .inUse: .conflict
        }
    }

    var description: String {
        switch self {
        case .notFound(let id): "no site \(id)"
        case .inUse(let stations): "stations \(stations.joined(separator: ", ")) belong to this site; move them first"
        }
    }
}
