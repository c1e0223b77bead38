import Crypto
import Foundation
import JWTKit
import Storage
import Synchronization

struct AccessTokenClaims: JWTPayload {
    var sub: SubjectClaim
    var role: String
    var iat: IssuedAtClaim
    var exp: ExpirationClaim
    var jti: IDClaim

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }
}

struct TokenPair: Codable, Sendable {
    var accessToken: String
    var refreshToken: String
    var tokenType = "Bearer"
    var expiresIn: Int
}

/// Users whose earlier access tokens no longer count (disabled, role changed, logged out
/// everywhere), kept in memory so that checking a token needs no database read.
final class TokenRevocations: Sendable {
    private let validAfter = Mutex<[String: Date]>([:])

    /// Tokens of `userID` issued before `date` are refused from now on (`.distantFuture`: all).
    func setValidAfter(_ date: Date, for userID: String) {
        validAfter.withLock { $0[userID] = date }
    }

    func isRevoked(userID: String, issuedAt: Date) -> Bool {
        guard let cutoff = validAfter.withLock({ $0[userID] }) else { return false }
        // `iat` keeps fractions of a second, so a login right after a revocation is not caught by it.
        return issuedAt < cutoff
    }
}

/// Signs and checks access tokens (JWT HS256) and issues, rotates and revokes refresh tokens
/// (random, stored as SHA-256 hashes, one family per login).
struct TokenService: Sendable {
    let keys: JWTKeyCollection
    let accessTokenLifetime: Duration
    let refreshTokenLifetime: Duration
    let revocations: TokenRevocations
    let database: Database
    let now: @Sendable () -> Date

    static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    func signAccessToken(for user: User) async throws -> String {
        let issued = now()
        let claims = AccessTokenClaims(
            sub: SubjectClaim(value: user.id), role: user.role.rawValue,
            iat: IssuedAtClaim(value: issued),
            exp: ExpirationClaim(value: issued.addingTimeInterval(Double(accessTokenLifetime.components.seconds))),
            jti: IDClaim(value: Identifiers.make()))
        return try await keys.sign(claims)
    }

    func verify(accessToken: String) async -> Result<Identity, AuthenticationFailure> {
        let claims: AccessTokenClaims
        do {
            claims = try await keys.verify(accessToken, as: AccessTokenClaims.self)
        } catch let error as JWTError where error.errorType == .claimVerificationFailure {
            return .failure(.expired)
        } catch {
            return .failure(.invalid)
        }
        guard let role = Role(rawValue: claims.role) else { return .failure(.invalid) }
        if revocations.isRevoked(userID: claims.sub.value, issuedAt: claims.iat.value) {
            return .failure(.revoked)
        }
        return .success(Identity(userID: claims.sub.value, role: role))
    }

    /// Stores a new refresh token (in `family`, or a new family for a fresh login). Runs inside
    /// the caller's write transaction; returns the plain token, which is never stored.
    func insertRefreshToken(for userID: String, family: String?, in connection: Connection) throws -> String {
        let token = Identifiers.randomToken()
        let issued = now()
        try connection.run(
            """
            INSERT INTO refresh_tokens (token_hash, user_id, family_id, created_at, expires_at)
            VALUES (?, ?, ?, ?, ?)
            """, Self.hash(token), userID, family ?? Identifiers.make(), issued,
            issued.addingTimeInterval(Double(refreshTokenLifetime.components.seconds)))
        return token
    }

    func pair(for user: User, refreshToken: String) async throws -> TokenPair {
        TokenPair(
            accessToken: try await signAccessToken(for: user), refreshToken: refreshToken,
            expiresIn: Int(accessTokenLifetime.components.seconds))
    }

    enum RotationOutcome: Sendable {
        case rotated(User, String)
        case unknown
        case expired
        case reused
        case userDisabled
    }

    /// Uses a refresh token once: it is marked used and a new one of the same family issued.
    /// Presenting a used or revoked token again means it was copied: the whole family is revoked.
    func rotate(_ presented: String) async throws -> RotationOutcome {
        let hash = Self.hash(presented)
        let now = now()
        return try await database.write { connection in
            struct Stored {
                let userID: String
                let family: String
                let expiresAt: Date
                let spent: Bool
            }
            let stored = try connection.queryFirst(
                "SELECT user_id, family_id, expires_at, used_at, revoked_at FROM refresh_tokens WHERE token_hash = ?", hash
            ) { row in
                Stored(
                    userID: try row.get("user_id"), family: try row.get("family_id"),
                    expiresAt: try row.get("expires_at"),
                    spent: try row.get("used_at", as: Date?.self) != nil || row.get("revoked_at", as: Date?.self) != nil)
            }
            guard let stored else { return .unknown }
            if stored.spent {
                try connection.run(
                    "UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL", now,
                    stored.family)
                return .reused
            }
            guard stored.expiresAt > now else { return .expired }
            guard let user = try TableStore<User>.fetch(stored.userID, from: connection), user.status == .active else {
                return .userDisabled
            }
            try connection.run("UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ?", now, hash)
            let next = try insertRefreshToken(for: user.id, family: stored.family, in: connection)
            return .rotated(user, next)
        }
    }

    /// Revokes the login (token family) the presented token belongs to; false if unknown.
    func revokeFamily(of presented: String) async throws -> Bool {
        let now = now()
        return try await database.write { connection in
            let changed = try connection.run(
                """
                UPDATE refresh_tokens SET revoked_at = ?
                WHERE revoked_at IS NULL
                  AND family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = ?)
                """, now, Self.hash(presented))
            let known = try connection.queryFirst(
                "SELECT 1 FROM refresh_tokens WHERE token_hash = ?", Self.hash(presented)) { _ in true } ?? false
            return changed > 0 || known
        }
    }

    /// Revokes every refresh token and dashboard sign-in of the user and every access token issued until now.
    func revokeEverything(for userID: String, in connection: Connection, at date: Date) throws {
        try connection.run(
            "UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", date, userID)
        try connection.run(
            "UPDATE web_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", date, userID)
        try connection.run("UPDATE users SET tokens_valid_after = ? WHERE id = ?", date, userID)
    }

    /// A deleted user has no row left to carry `tokens_valid_after`, so their revocation is kept
    /// as a key that outlives every access token they could hold; written in the delete's own
    /// transaction so that a crash cannot keep the one without the other.
    func revokeDeletedUser(_ userID: String, in connection: Connection, at date: Date) throws {
        try KeyValueStore.set(
            Self.deletedUserPrefix + userID, Array("deleted".utf8),
            expiresAt: date.addingTimeInterval(Double(accessTokenLifetime.components.seconds) + 60), in: connection)
    }

    static let deletedUserPrefix = "revoked-user:"

    /// Fills the in-memory revocations from the database at startup.
    func loadRevocations(from keyValue: KeyValueStore) async throws {
        for entry in try await keyValue.entries(withPrefix: Self.deletedUserPrefix) {
            revocations.setValidAfter(.distantFuture, for: String(entry.key.dropFirst(Self.deletedUserPrefix.count)))
        }
        let cutoff = now().addingTimeInterval(-Double(accessTokenLifetime.components.seconds) - 60)
        let rows = try await database.read { connection in
            try connection.query(
                "SELECT id, status, tokens_valid_after FROM users WHERE status = 'disabled' OR tokens_valid_after > ?",
                cutoff
            ) { row in
                (try row.get("id", as: String.self), try row.get("status", as: String.self),
                 try row.get("tokens_valid_after", as: Date.self))
            }
        }
        for (id, status, validAfter) in rows {
            revocations.setValidAfter(status == "disabled" ? .distantFuture : validAfter, for: id)
        }
    }
}
