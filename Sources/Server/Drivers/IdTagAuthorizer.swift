import Foundation

/// OCPP `IdTagInfo`.
struct IdTagInfo: Codable, Sendable, Equatable {
    enum Status: String, Codable, Sendable {
        case accepted = "Accepted", blocked = "Blocked", expired = "Expired", invalid = "Invalid"
        case concurrentTx = "ConcurrentTx"
    }

    var status: Status
    var expiryDate: Date?
    var parentIdTag: String?
}

/// Counts the open charging sessions started with an id tag (for `maxActiveTransactions`).
protocol ActiveTransactionCounting: Sendable {
    func activeTransactions(forIdTag idTag: String) async throws -> Int
}

/// The one decision on whether an id tag may charge, used by Authorize and StartTransaction and
/// exposed to operators. The order of the checks is the order of the rules below.
struct IdTagAuthorizer: Sendable {
    let drivers: DriverRepository
    let activeTransactions: any ActiveTransactionCounting
    let now: @Sendable () -> Date

    func authorize(_ tag: String, forStartTransaction: Bool) async throws -> IdTagInfo {
        guard IdTag.isValid(tag), let (idTag, driver) = try await drivers.tagWithDriver(tag) else {
            return IdTagInfo(status: .invalid)
        }
        var info = IdTagInfo(status: .accepted, expiryDate: idTag.expiresAt, parentIdTag: idTag.parentIdTag)
        switch idTag.status {
        case .blocked:
            info.status = .blocked
            return info
        case .expired:
            info.status = .expired
            return info
        case .invalid:
            info.status = .invalid
            return info
        case .accepted:
            break
        }
        if let expiresAt = idTag.expiresAt, expiresAt <= now() {
            info.status = .expired
            return info
        }
        if let driver, driver.status != .active {
            info.status = .blocked
            return info
        }
        if forStartTransaction, let limit = idTag.maxActiveTransactions,
            try await activeTransactions.activeTransactions(forIdTag: idTag.id) >= limit
        {
            info.status = .concurrentTx
        }
        return info
    }
}
