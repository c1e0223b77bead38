import Foundation
import Logging
import Storage

/// Accounts: registration, login with throttling, token refresh and logout, and the first admin.
struct AuthService: Sendable {
    static let failureLimit: Int64 = 5
    static let failureWindow: Duration = .seconds(15 * 60)

    let database: Database
    let keyValue: KeyValueStore
    let hasher: PasswordHasher
    let tokens: TokenService
    let now: @Sendable () -> Date
    /// A real bcrypt hash to compare against when the email is unknown, so that a wrong email
    /// costs the same time as a wrong password.
    let decoyHash: String

    enum Failure: Error {
        case throttled(retryAfterSeconds: Int)
        case invalidCredentials
    }

    /// A driver account with its driver profile and app token, in one transaction.
    func register(email: String, password: String, name: String) async throws -> (User, Driver) {
        let hash = try await hasher.hash(password)
        let now = now()
        let user = User(id: Identifiers.make(), email: email, name: name, role: .driver, passwordHash: hash, now: now)
        return try await database.write { connection in
            let stored = try Self.insertUnique(user, in: connection)
            let driver = try DriverRepository.insertWithAppToken(
                Driver(id: Identifiers.make(), userId: user.id, name: name, email: email, phone: nil, now: now),
                in: connection)
            return (stored, driver)
        }
    }

    /// Creates a user of any role; a driver also gets a driver profile and app token.
    func createUser(email: String, password: String, name: String, role: Role) async throws -> (User, String?) {
        let hash = try await hasher.hash(password)
        let now = now()
        let user = User(id: Identifiers.make(), email: email, name: name, role: role, passwordHash: hash, now: now)
        return try await database.write { connection in
            let stored = try Self.insertUnique(user, in: connection)
            guard role == .driver else { return (stored, nil) }
            let driver = try DriverRepository.insertWithAppToken(
                Driver(id: Identifiers.make(), userId: user.id, name: name, email: email, phone: nil, now: now),
                in: connection)
            return (stored, driver.id)
        }
    }

    private static func insertUnique(_ user: User, in connection: Connection) throws -> User {
        do {
            return try TableStore<User>.insert(user, into: connection)
        } catch let error as SQLiteError where error.kind == .uniqueViolation {
            throw APIError.conflict("an account with this email already exists")
        }
    }

    func login(email: String, password: String) async throws -> TokenPair {
        let throttleKey = "login-failures:" + email.lowercased()
        if let failures = try await keyValue.getString(throttleKey).flatMap(Int64.init), failures >= Self.failureLimit {
            let remaining = try await keyValue.timeToLive(throttleKey)?.components.seconds ?? 1
            throw Failure.throttled(retryAfterSeconds: Int(max(1, remaining)))
        }
        let user = try await database.read { connection in
            try connection.queryFirst("SELECT * FROM users WHERE email = ?", email, map: User.init(row:))
        }
        let passwordMatches = try await hasher.verify(password, against: user?.passwordHash ?? decoyHash)
        guard let user, passwordMatches, user.status == .active else {
            _ = try await keyValue.increment(throttleKey, ttl: Self.failureWindow)
            throw Failure.invalidCredentials
        }
        try await keyValue.delete(throttleKey)
        let refresh = try await database.write { connection in
            try tokens.insertRefreshToken(for: user.id, family: nil, in: connection)
        }
        return try await tokens.pair(for: user, refreshToken: refresh)
    }

    func refresh(_ presented: String) async throws -> TokenPair {
        switch try await tokens.rotate(presented) {
        case .rotated(let user, let next):
            return try await tokens.pair(for: user, refreshToken: next)
        case .reused:
            throw APIError(
                status: .unauthorized, slug: "refresh-token-reused", title: "Unauthorized",
                detail: "this refresh token was already used; every session of that login is revoked")
        case .expired:
            throw APIError(status: .unauthorized, slug: "unauthorized", title: "Unauthorized", detail: "the refresh token has expired")
        case .unknown:
            throw APIError(status: .unauthorized, slug: "unauthorized", title: "Unauthorized", detail: "the refresh token is not valid")
        case .userDisabled:
            throw APIError(status: .unauthorized, slug: "unauthorized", title: "Unauthorized", detail: "the account is disabled")
        }
    }

    func logoutEverywhere(_ userID: String) async throws {
        let now = now()
        try await database.write { connection in try tokens.revokeEverything(for: userID, in: connection, at: now) }
        tokens.revocations.setValidAfter(now, for: userID)
    }

    /// Creates the first admin from `CSMS_ADMIN_EMAIL`/`CSMS_ADMIN_PASSWORD` when there is none;
    /// otherwise says once how to create one.
    func bootstrapAdmin(email: String?, password: String?, logger: Logger) async throws {
        let admins = try await database.read { connection in
            try connection.queryFirst("SELECT count(*) FROM users WHERE role = 'admin'") { try $0.get(0, as: Int.self) } ?? 0
        }
        guard admins == 0 else { return }
        guard let email, let password else {
            logger.notice(
                """
                no admin account exists: set CSMS_ADMIN_EMAIL and CSMS_ADMIN_PASSWORD and restart, or run \
                `server user add --role admin --email you@example.com` (password on standard input)
                """)
            return
        }
        let (user, _) = try await createUser(email: email, password: password, name: "Administrator", role: .admin)
        logger.info("created the first admin account", metadata: ["email": .string(user.email)])
    }
}
