import Foundation
import Logging
import Storage

/// Accounts: registration, login with throttling, token refresh and logout, and the first admin.
struct AuthService: Sendable {
    static let failureLimit: Int64 = 5
    static let failureWindow: Duration = .seconds(15 * 60)

    let accounts: AccountService
    let keyValue: KeyValueStore
    let tokens: TokenService
    let now: @Sendable () -> Date
    /// A real bcrypt hash to compare against when the email is unknown, so that a wrong email
    /// costs the same time as a wrong password.
    let decoyHash: String

    var users: UserRepository { accounts.users }
    var hasher: PasswordHasher { accounts.hasher }

    /// A driver account with its driver profile and app token, in one transaction.
    func register(email: String, password: String, name: String) async throws -> (User, Driver) {
        let (user, driver) = try await accounts.create(email: email, password: password, name: name, role: .driver)
        guard let driver else { preconditionFailure("a driver account always gets a driver profile") }
        return (user, driver)
    }

    func login(email: String, password: String) async throws -> TokenPair {
        let user = try await checkCredentials(email: email, password: password)
        let refresh = try await users.database.write { connection in
            try tokens.insertRefreshToken(for: user.id, family: nil, in: connection)
        }
        return try await tokens.pair(for: user, refreshToken: refresh)
    }

    /// The active account these credentials belong to, with the login throttle applied: shared by
    /// the API's login and the dashboard's sign-in.
    func checkCredentials(email: String, password: String) async throws -> User {
        let throttleKey = "login-failures:" + email.lowercased()
        // The attempt is counted before the slow bcrypt check, atomically in the writer: however
        // many guesses arrive at once, at most `failureLimit` of them are checked per window.
        let attempt = try await keyValue.increment(throttleKey, ttl: Self.failureWindow)
        guard attempt <= Self.failureLimit else {
            let remaining = try await keyValue.timeToLive(throttleKey)?.components.seconds ?? 1
            throw AuthError.throttled(retryAfterSeconds: Int(max(1, remaining)))
        }
        let user = try await users.find(email: email)
        let passwordMatches = try await hasher.verify(password, against: user?.passwordHash ?? decoyHash)
        // A failure keeps its reserved attempt: that is the count.
        guard let user, passwordMatches, user.status == .active else { throw AuthError.invalidCredentials }
        try await keyValue.delete(throttleKey)
        return user
    }

    func refresh(_ presented: String) async throws -> TokenPair {
        switch try await tokens.rotate(presented) {
        case .rotated(let user, let next): return try await tokens.pair(for: user, refreshToken: next)
        case .reused: throw AuthError.refreshTokenReused
        case .expired: throw AuthError.refreshTokenExpired
        case .unknown: throw AuthError.refreshTokenUnknown
        case .userDisabled: throw AuthError.accountDisabled
        }
    }

    func logoutEverywhere(_ userID: String) async throws {
        let now = now()
        try await users.database.write { connection in try tokens.revokeEverything(for: userID, in: connection, at: now) }
        tokens.revocations.setValidAfter(now, for: userID)
    }

    /// An admin's change; the user's earlier tokens stop counting when it ends their sessions.
    func updateUser(
        _ id: String, version: Int64?, name: String?, role: Role?, status: UserStatus?, password: String?
    ) async throws -> User {
        let updated = try await accounts.update(id, version: version, name: name, role: role, status: status, password: password)
        tokens.revocations.setValidAfter(updated.status == .disabled ? .distantFuture : updated.tokensValidAfter, for: id)
        return updated
    }

    /// Deletes the account; its access tokens stay refused, also after a restart.
    func deleteUser(_ id: String) async throws {
        let now = now()
        let tokens = tokens
        try await users.delete(id) { connection in try tokens.revokeDeletedUser(id, in: connection, at: now) }
        tokens.revocations.setValidAfter(.distantFuture, for: id)
    }

    /// Creates the first admin from `CSMS_ADMIN_EMAIL`/`CSMS_ADMIN_PASSWORD` when there is none;
    /// otherwise says once how to create one. A password the policy refuses stops the start.
    func bootstrapAdmin(email: String?, password: String?, logger: Logger) async throws {
        guard try await users.adminCount() == 0 else { return }
        guard let email, let password else {
            logger.notice(
                """
                no admin account exists: set CSMS_ADMIN_EMAIL and CSMS_ADMIN_PASSWORD and restart, or run \
                `server user add --role admin --email you@example.com` (password on standard input)
                """)
            return
        }
        do {
            let (user, _) = try await accounts.create(email: email, password: password, name: "Administrator", role: .admin)
            logger.info("created the first admin account", metadata: ["email": .string(user.email)])
        } catch let error as AuthError {
            let reason = error.fields.map { "\($0.field == "password" ? "CSMS_ADMIN_PASSWORD" : "CSMS_ADMIN_EMAIL") \($0.message)" }
            throw StartupError("cannot create the first admin: " + (reason.isEmpty ? error.description : reason.joined(separator: "; ")))
        }
    }
}
