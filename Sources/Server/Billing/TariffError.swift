/// What tariffs and pricing refuse.
enum TariffError: DomainError {
    case notFound(String)
    case inUse(stationIDs: [String])
    /// A price times a quantity does not fit in the currency's minor units: the inputs are implausible.
    case amountOutOfRange

    var kind: DomainErrorKind {
        switch self {
        case .notFound: .notFound
        case .inUse: .conflict
        case .amountOutOfRange: .invalid
        }
    }

    var description: String {
        switch self {
        case .notFound(let id): "no tariff \(id)"
        case .inUse(let stations): "stations \(stations.joined(separator: ", ")) use this tariff"
        case .amountOutOfRange: "the amount is too large to price"
        }
    }
}
