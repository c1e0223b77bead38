import Foundation
import Storage

/// The `users` table (and the driver profile a driver account comes with).
struct UserRepository: Sendable {
    let database: Database

    /// Stores a new account; a driver also gets a driver profile and app token, in the same transaction.
    func insert(_ user: User) async throws -> (User, Driver?) {
        try await database.write { connection in
            let stored: User
            do {
                stored = try TableStore<User>.insert(user, into: connection)
            } catch let error as SQLiteError where error.kind == .uniqueViolation {
                throw AuthError.emailTaken
            }
            guard user.role == .driver else { return (stored, nil) }
            let driver = try DriverRepository.insertWithAppToken(
                Driver(id: Identifiers.make(), userId: user.id, name: user.name, email: user.email, phone: nil, now: user.createdAt),
                in: connection)
            return (stored, driver)
        }
    }

    func get(_ id: String) async throws -> User? {
        try await database.read { try TableStore<User>.fetch(id, from: $0) }
    }

    func find(email: String) async throws -> User? {
        try await database.read { connection in
            try connection.queryFirst("SELECT * FROM users WHERE email = ?", email, map: User.init(row:))
        }
    }

    /// The user and the id of their driver profile, if they have one.
    func getWithDriverID(_ id: String) async throws -> (User, String?)? {
        try await database.read { connection in
            guard let user = try TableStore<User>.fetch(id, from: connection) else { return nil }
            let driverID = try connection.queryFirst("SELECT id FROM drivers WHERE user_id = ?", id) {
                try $0.get(0, as: String.self)
            }
            return (user, driverID)
        }
    }

    func list(role: Role?, status: UserStatus?, page: PageRequest) async throws -> Page<User> {
        var filter = QueryFilter()
        if let role { filter.equals("role", role.rawValue) }
        if let status { filter.equals("status", status.rawValue) }
        let query = filter
        return try await database.read { try TableStore<User>.list(where: query, sort: nil, page: page, in: $0) }
    }

    func adminCount() async throws -> Int {
        try await database.read { connection in
            try connection.queryFirst("SELECT count(*) FROM users WHERE role = 'admin'") { try $0.get(0, as: Int.self) } ?? 0
        }
    }

    struct Changes: Sendable {
        var version: Int64?
        var name: String?
        var role: Role?
        var status: UserStatus?
        var passwordHash: String?
    }

    /// Applies an admin's changes. A role change, a disable or a new password ends the sessions
    /// the user had; the last active admin cannot lose that status.
    func update(_ id: String, _ changes: Changes, at now: Date) async throws -> User {
        try await database.write { connection in
            guard var user = try TableStore<User>.fetch(id, from: connection) else { throw AuthError.userNotFound(id) }
            let version = changes.version ?? user.version
            let losesAdmin =
                user.role == .admin && ((changes.role != nil && changes.role != .admin) || changes.status == .disabled)
            if losesAdmin, try Self.activeAdmins(in: connection) <= 1 { throw AuthError.lastAdmin }
            let endsSessions =
                (changes.role != nil && changes.role != user.role)
                || (changes.status == .disabled && user.status != .disabled) || changes.passwordHash != nil
            let reenabled = changes.status == .active && user.status == .disabled
            if let name = changes.name { user.name = name }
            if let role = changes.role { user.role = role }
            if let status = changes.status { user.status = status }
            if let hash = changes.passwordHash { user.passwordHash = hash }
            user.updatedAt = now
            if endsSessions || reenabled { user.tokensValidAfter = now }
            let saved = try TableStore<User>.update(user, expectedVersion: version, in: connection)
            if endsSessions {
                try connection.run(
                    "UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", now, id)
            }
            return saved
        }
    }

    /// Deletes the account; `alsoInTransaction` runs in the same transaction (the revocation).
    func delete(_ id: String, alsoInTransaction: @escaping @Sendable (Connection) throws -> Void) async throws {
        try await database.write { connection in
            guard let user = try TableStore<User>.fetch(id, from: connection) else { throw AuthError.userNotFound(id) }
            if user.role == .admin, user.status == .active, try Self.activeAdmins(in: connection) <= 1 {
                throw AuthError.lastAdmin
            }
            _ = try TableStore<User>.delete(id, from: connection)
            try alsoInTransaction(connection)
        }
    }

    private static func activeAdmins(in connection: Connection) throws -> Int {
        try connection.queryFirst("SELECT count(*) FROM users WHERE role = 'admin' AND status = 'active'") {
            try $0.get(0, as: Int.self)
        } ?? 0
    }
}
