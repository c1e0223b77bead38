import Foundation
import Storage

struct DriverQuery: Sendable {
    var text: String?
    var status: DriverStatus?
    var membership: Membership?

    var filter: QueryFilter {
        var filter = QueryFilter()
        if let status { filter.equals("status", status.rawValue) }
        if let membership { filter.equals("membership", membership.rawValue) }
        if let text, !text.isEmpty { filter.contains(text, inAnyOf: ["name", "email"]) }
        return filter
    }
}

extension QueryFilter {
    /// Rows (with a `driver_id`) of the driver profile linked to this account.
    mutating func ownedBy(user userID: String) {
        add("driver_id IN (SELECT id FROM drivers WHERE user_id = ?)", .text(userID))
    }
}

/// Drivers and their id tags.
struct DriverRepository: Sendable {
    let database: Database

    /// Creates a driver with its app token (the virtual id tag the app charges with).
    static func insertWithAppToken(_ driver: Driver, in connection: Connection) throws -> Driver {
        let stored = try TableStore<Driver>.insert(driver, into: connection)
        // A clash among 32^17 random tokens is not worth a retry loop; the unique key would tell.
        _ = try TableStore<IdTag>.insert(
            IdTag(id: IdTag.makeAppToken(), status: .accepted, kind: .app, driverId: driver.id, now: driver.createdAt),
            into: connection)
        return stored
    }

    func create(_ driver: Driver) async throws -> Driver {
        try await database.write { try Self.insertWithAppToken(driver, in: $0) }
    }

    func get(_ id: String) async throws -> Driver? {
        try await database.read { try TableStore<Driver>.fetch(id, from: $0) }
    }

    func driver(forUser userID: String) async throws -> Driver? {
        try await database.read { connection in
            try connection.queryFirst("SELECT * FROM drivers WHERE user_id = ?", userID, map: Driver.init(row:))
        }
    }

    func update(
        _ id: String, expectedVersion: Int64?, now: Date, _ change: @escaping @Sendable (inout Driver) throws -> Void
    ) async throws -> Driver {
        try await database.write { connection in
            guard var driver = try TableStore<Driver>.fetch(id, from: connection) else {
                throw RecordNotFoundError(table: "drivers", id: id)
            }
            let version = expectedVersion ?? driver.version
            try change(&driver)
            driver.updatedAt = now
            return try TableStore<Driver>.update(driver, expectedVersion: version, in: connection)
        }
    }

    func delete(_ id: String) async throws -> Bool {
        try await database.write { try TableStore<Driver>.delete(id, from: $0) }
    }

    func list(_ query: DriverQuery, page: PageRequest) async throws -> Page<Driver> {
        try await database.read { try TableStore<Driver>.list(where: query.filter, sort: nil, page: page, in: $0) }
    }

    // MARK: Id tags

    func idTag(_ tag: String) async throws -> IdTag? {
        try await database.read { try TableStore<IdTag>.fetch(tag, from: $0) }
    }

    /// Creates the tag or replaces its settings; true when it was created.
    func upsert(_ tag: IdTag) async throws -> (IdTag, created: Bool) {
        try await database.write { connection in
            if let driverID = tag.driverId, try TableStore<Driver>.fetch(driverID, from: connection) == nil {
                throw InvalidInput(field: "driverId", "no driver \(driverID)")
            }
            if var existing = try TableStore<IdTag>.fetch(tag.id, from: connection) {
                existing.status = tag.status
                existing.driverId = tag.driverId
                existing.expiresAt = tag.expiresAt
                existing.parentIdTag = tag.parentIdTag
                existing.maxActiveTransactions = tag.maxActiveTransactions
                existing.updatedAt = tag.updatedAt
                return (try TableStore<IdTag>.update(existing, expectedVersion: existing.version, in: connection), false)
            }
            return (try TableStore<IdTag>.insert(tag, into: connection), true)
        }
    }

    func deleteIdTag(_ tag: String) async throws -> Bool {
        try await database.write { try TableStore<IdTag>.delete(tag, from: $0) }
    }

    func idTags(status: IdTagStatus?, driverID: String?, kind: IdTagKind?, page: PageRequest) async throws -> Page<IdTag> {
        var filter = QueryFilter()
        if let status { filter.equals("status", status.rawValue) }
        if let driverID { filter.equals("driver_id", driverID) }
        if let kind { filter.equals("kind", kind.rawValue) }
        let query = filter
        return try await database.read { try TableStore<IdTag>.list(where: query, sort: nil, page: page, in: $0) }
    }

    /// The tag with its driver, read in one snapshot for the authorizer.
    func tagWithDriver(_ tag: String) async throws -> (IdTag, Driver?)? {
        try await database.read { connection in
            guard let idTag = try TableStore<IdTag>.fetch(tag, from: connection) else { return nil }
            let driver = try idTag.driverId.flatMap { try TableStore<Driver>.fetch($0, from: connection) }
            return (idTag, driver)
        }
    }
}
