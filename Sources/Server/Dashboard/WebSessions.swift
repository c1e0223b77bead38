import Crypto
import Foundation
import Hummingbird
import Storage

/// How the dashboard is served.
struct DashboardSettings: Sendable {
    var enabled: Bool
    var sessionLifetime: Duration
    /// The zone of the times, days and months the dashboard shows.
    var timeZone: TimeZone
}

/// A signed-in dashboard user, from a valid session cookie.
struct WebSession: Sendable {
    let identity: Identity
    let email: String
    let name: String
    /// The form token of this session: derived from the cookie's secret, so it needs no storage
    /// and cannot be guessed by a page that cannot read the cookie.
    let csrfToken: String
}

/// The dashboard's sign-ins: an opaque random token in an `HttpOnly` cookie, stored only as its
/// SHA-256 hash. The same accounts, roles and revocation as the API: a disabled account, a
/// "sign out everywhere" or a deleted user ends the sessions (see `TokenService.revokeEverything`).
struct WebSessionService: Sendable {
    static let cookieName = "csms_session"

    /// The session cookie: only for `/ui`, never readable by script, never sent cross-site, and
    /// when the server speaks TLS, only over HTTPS. A nil token clears it.
    static func cookie(_ token: String?, lifetime: Duration, secure: Bool) -> Cookie {
        Cookie(
            name: cookieName, value: token ?? "", maxAge: token == nil ? 0 : Int(lifetime.components.seconds), path: "/ui",
            secure: secure, httpOnly: true, sameSite: .strict)
    }

    /// The token of the request's session cookie, if it sent one.
    static func token(in request: Request) -> String? {
        request.cookies[cookieName]?.value
    }

    let database: Database
    let revocations: TokenRevocations
    let lifetime: Duration
    let now: @Sendable () -> Date

    /// Starts a session for `user`; returns the cookie's token, which is never stored.
    func start(for user: User) async throws -> String {
        let token = Identifiers.randomToken()
        let created = now()
        let expires = created.addingTimeInterval(Double(lifetime.components.seconds))
        try await database.write { connection in
            try connection.run(
                "INSERT INTO web_sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                TokenService.hash(token), user.id, created, expires)
        }
        return token
    }

    /// The session of a cookie token, if it is current and its account may still use it.
    func validate(_ token: String) async throws -> WebSession? {
        guard (16...128).contains(token.utf8.count) else { return nil }
        let now = now()
        let found = try await database.read { connection in
            try connection.queryFirst(
                """
                SELECT s.user_id, s.created_at, u.role, u.status, u.email, u.name, u.tokens_valid_after
                FROM web_sessions s JOIN users u ON u.id = s.user_id
                WHERE s.token_hash = ? AND s.revoked_at IS NULL AND s.expires_at > ?
                """, TokenService.hash(token), now
            ) { row in
                (
                    userID: try row.get("user_id", as: String.self), created: try row.get("created_at", as: Date.self),
                    role: try row.get("role", as: String.self), status: try row.get("status", as: String.self),
                    email: try row.get("email", as: String.self), name: try row.get("name", as: String.self),
                    validAfter: try row.get("tokens_valid_after", as: Date.self)
                )
            }
        }
        guard let found, found.status == UserStatus.active.rawValue, let role = Role(rawValue: found.role), role != .driver,
            found.created >= found.validAfter, !revocations.isRevoked(userID: found.userID, issuedAt: found.created)
        else { return nil }
        return WebSession(
            identity: Identity(userID: found.userID, role: role), email: found.email, name: found.name,
            csrfToken: Self.csrfToken(for: token))
    }

    /// Ends the session of this cookie token.
    func end(_ token: String) async throws {
        let now = now()
        try await database.write { connection in
            try connection.run(
                "UPDATE web_sessions SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL", now,
                TokenService.hash(token))
        }
    }

    /// Deletes sessions that ended (expired or signed out); returns how many.
    @discardableResult
    func sweep() async throws -> Int {
        let now = now()
        return try await database.write { connection in
            try connection.run("DELETE FROM web_sessions WHERE expires_at <= ? OR revoked_at IS NOT NULL", now)
        }
    }

    static func csrfToken(for token: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("csrf".utf8), using: SymmetricKey(data: Data(token.utf8)))
        return Data(mac).base64URLEncodedString()
    }

    /// Compares in time independent of where the two differ.
    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
