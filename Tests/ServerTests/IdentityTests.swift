import Foundation
import HummingbirdTesting
import Storage
import Testing

@testable import Server

@Suite("Accounts, tokens and sessions")
struct IdentityTests {
    @Test("the first admin is created from configuration, logs in and gets a bearer token pair")
    func adminBootstrapAndLogin() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let reply = try await client.call(.post, "/api/v1/auth/login", json: ["email": "ADMIN@example.com", "password": adminPassword])
            #expect(reply.status == .ok)
            #expect(reply["tokenType"] as? String == "Bearer")
            #expect(reply["expiresIn"] as? Int == 900)
            #expect((reply["refreshToken"] as? String)?.count ?? 0 >= 40)
            let token = try #require(reply["accessToken"] as? String)

            // The claims the issue names, in the token itself.
            let payload = try #require(token.split(separator: ".").dropFirst().first.flatMap { Data(base64URLEncoded: String($0)) })
            let claims = try #require(try JSONSerialization.jsonObject(with: payload) as? [String: Any])
            #expect(claims["role"] as? String == "admin")
            #expect(claims["sub"] is String && claims["jti"] is String)
            let issued = try #require(claims["iat"] as? Double)
            let expires = try #require(claims["exp"] as? Double)
            #expect(abs(expires - issued - 900) < 2)

            let me = try await client.call(.get, "/api/v1/auth/me", token: token)
            #expect(me.status == .ok)
            #expect(me["email"] as? String == adminEmail)
            #expect(me["role"] as? String == "admin")
            #expect(me["passwordHash"] == nil)
        }
    }

    @Test("registration makes a driver account with a profile; bad input is refused field by field")
    func registration() async throws {
        try await withApp { client, dependencies async throws in
            let created = try await client.call(
                .post, "/api/v1/auth/register", json: ["email": "Dana@Example.com", "password": "long-enough", "name": "Dana"])
            #expect(created.status == .created)
            #expect(created["role"] as? String == "driver")
            let driverID = try #require(created["driverId"] as? String)
            let driver = try await dependencies.drivers.get(driverID)
            #expect(driver?.name == "Dana")

            let duplicate = try await client.call(
                .post, "/api/v1/auth/register", json: ["email": "dana@example.COM", "password": "long-enough", "name": "D"])
            #expect(duplicate.status == .conflict)

            let bad = try await client.call(.post, "/api/v1/auth/register", json: ["email": "nope", "password": "short", "name": ""])
            #expect(bad.status == .unprocessableContent)
            #expect(Set(bad.fieldErrors) == ["email", "password", "name"])

            // The password is stored as a bcrypt hash, never as given.
            let stored = try await dependencies.database.read { connection in
                try connection.queryFirst("SELECT password_hash FROM users WHERE email = ?", "dana@example.com") {
                    try $0.get(0, as: String.self)
                }
            }
            #expect(stored?.hasPrefix("$2b$04$") == true)
            #expect(stored?.contains("long-enough") == false)
        }
    }

    @Test("a wrong email and a wrong password get the same 401")
    func sameAnswerForWrongEmailOrPassword() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let wrongPassword = try await client.call(.post, "/api/v1/auth/login", json: ["email": adminEmail, "password": "nope-nope"])
            let wrongEmail = try await client.call(.post, "/api/v1/auth/login", json: ["email": "who@example.com", "password": "nope-nope"])
            #expect(wrongPassword.status == .unauthorized)
            #expect(wrongEmail.status == .unauthorized)
            #expect(wrongPassword["detail"] as? String == wrongEmail["detail"] as? String)
            #expect(wrongPassword["type"] as? String == wrongEmail["type"] as? String)
        }
    }

    @Test("after 5 failures within 15 minutes an email is throttled with 429 and Retry-After")
    func loginThrottling() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            for _ in 0..<5 {
                let reply = try await client.call(.post, "/api/v1/auth/login", json: ["email": adminEmail, "password": "guess-guess"])
                #expect(reply.status == .unauthorized)
            }
            let throttled = try await client.call(.post, "/api/v1/auth/login", json: ["email": adminEmail, "password": adminPassword])
            #expect(throttled.status == .tooManyRequests)
            let retryAfter = try #require(throttled.headers[.retryAfter].flatMap(Int.init))
            #expect(retryAfter > 800 && retryAfter <= 900)
            // Another email is not affected; the counter lives in the key/value store.
            let other = try await client.call(.post, "/api/v1/auth/login", json: ["email": "x@example.com", "password": "guess-guess"])
            #expect(other.status == .unauthorized)
            // Five failures and the refused sixth attempt, each reserved before its check.
            #expect(try await dependencies.keyValue.getString("login-failures:admin@example.com") == "6")
        }
    }

    @Test("200 concurrent logins for one email, 199 wrong: at most 5 passwords are checked, the rest get 429")
    func concurrentGuessesAreThrottled() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let replies = try await withThrowingTaskGroup(of: Reply.self) { group in
                for index in 0..<200 {
                    let password = index == 150 ? adminPassword : "guess-\(index)-guess"
                    group.addTask {
                        try await client.call(.post, "/api/v1/auth/login", json: ["email": adminEmail, "password": password])
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let checked = replies.filter { $0.status == .unauthorized || $0.status == .ok }
            let throttled = replies.filter { $0.status == .tooManyRequests }
            #expect(checked.count <= 5, "\(checked.count) passwords were checked")
            #expect(checked.count + throttled.count == 200)
            #expect(throttled.allSatisfy { Int($0.headers[.retryAfter] ?? "") ?? 0 > 0 })
        }
    }

    @Test("a password with control characters never matches, and the empty one never matches eight NULs")
    func controlCharactersNeverMatch() async throws {
        let hasher = PasswordHasher(cost: 4)
        let nuls = try await hasher.hash("\0\0\0\0\0\0\0\0")
        #expect(try await hasher.verify("", against: nuls) == false)
        #expect(try await hasher.verify("\0\0\0\0\0\0\0\0", against: nuls) == false)
        let secret = try await hasher.hash("Secret-1")
        #expect(try await hasher.verify("Secret-1\0suffix", against: secret) == false)
        #expect(try await hasher.verify("Secret-1", against: secret))
    }

    @Test("refresh tokens rotate on use; presenting a used one revokes the whole family")
    func refreshRotationAndReuse() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let login = try await client.call(.post, "/api/v1/auth/login", json: ["email": adminEmail, "password": adminPassword])
            let first = try #require(login["refreshToken"] as? String)
            let rotated = try await client.call(.post, "/api/v1/auth/refresh", json: ["refreshToken": first])
            #expect(rotated.status == .ok)
            let second = try #require(rotated["refreshToken"] as? String)
            #expect(second != first)
            let newAccess = try #require(rotated["accessToken"] as? String)
            #expect(try await client.call(.get, "/api/v1/auth/me", token: newAccess).status == .ok)

            let replay = try await client.call(.post, "/api/v1/auth/refresh", json: ["refreshToken": first])
            #expect(replay.status == .unauthorized)
            #expect(replay["type"] as? String == "/problems/refresh-token-reused")
            // The thief's replay also killed the legitimate newest token of that login.
            let afterTheft = try await client.call(.post, "/api/v1/auth/refresh", json: ["refreshToken": second])
            #expect(afterTheft.status == .unauthorized)

            // Another login (another family) is untouched.
            let other = try await client.call(.post, "/api/v1/auth/login", json: ["email": adminEmail, "password": adminPassword])
            let otherRefresh = try #require(other["refreshToken"] as? String)
            #expect(try await client.call(.post, "/api/v1/auth/refresh", json: ["refreshToken": otherRefresh]).status == .ok)
            #expect(try await client.call(.post, "/api/v1/auth/refresh", json: ["refreshToken": "made-up"]).status == .unauthorized)
        }
    }

    @Test("logout revokes one login; logout-all revokes every refresh and access token of the user")
    func logout() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let a = try await client.call(.post, "/api/v1/auth/login", json: ["email": adminEmail, "password": adminPassword])
            let b = try await client.call(.post, "/api/v1/auth/login", json: ["email": adminEmail, "password": adminPassword])
            let refreshA = try #require(a["refreshToken"] as? String)
            let refreshB = try #require(b["refreshToken"] as? String)
            let accessB = try #require(b["accessToken"] as? String)

            #expect(try await client.call(.post, "/api/v1/auth/logout", json: ["refreshToken": refreshA]).status == .noContent)
            #expect(try await client.call(.post, "/api/v1/auth/refresh", json: ["refreshToken": refreshA]).status == .unauthorized)
            #expect(try await client.call(.get, "/api/v1/auth/me", token: accessB).status == .ok)

            #expect(try await client.call(.post, "/api/v1/auth/logout-all", token: accessB).status == .noContent)
            let revoked = try await client.call(.get, "/api/v1/auth/me", token: accessB)
            #expect(revoked.status == .unauthorized)
            #expect((revoked["detail"] as? String)?.contains("revoked") == true)
            #expect(try await client.call(.post, "/api/v1/auth/refresh", json: ["refreshToken": refreshB]).status == .unauthorized)
            // Logging in again at once works, and the new token is good.
            let fresh = try await client.adminToken()
            #expect(try await client.call(.get, "/api/v1/auth/me", token: fresh).status == .ok)
        }
    }

    @Test("a disabled user cannot log in or refresh, and their live access token stops working at once")
    func disabledUser() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            let login = try await client.call(
                .post, "/api/v1/users", token: admin,
                json: ["email": "op@example.com", "password": "password-123", "name": "Op", "role": "operator"])
            let id = try #require(login["id"] as? String)
            let session = try await client.call(.post, "/api/v1/auth/login", json: ["email": "op@example.com", "password": "password-123"])
            let access = try #require(session["accessToken"] as? String)
            let refresh = try #require(session["refreshToken"] as? String)
            #expect(try await client.call(.get, "/api/v1/stations", token: access).status == .ok)

            let disabled = try await client.call(.patch, "/api/v1/users/\(id)", token: admin, json: ["status": "disabled"])
            #expect(disabled.status == .ok)
            #expect(try await client.call(.get, "/api/v1/stations", token: access).status == .unauthorized)
            #expect(try await client.call(.post, "/api/v1/auth/refresh", json: ["refreshToken": refresh]).status == .unauthorized)
            #expect(
                try await client.call(.post, "/api/v1/auth/login", json: ["email": "op@example.com", "password": "password-123"]).status
                    == .unauthorized)

            #expect(try await client.call(.patch, "/api/v1/users/\(id)", token: admin, json: ["status": "active"]).status == .ok)
            #expect(try await client.call(.get, "/api/v1/stations", token: access).status == .unauthorized)
            _ = try await client.login("op@example.com", "password-123")
        }
    }

    @Test("an expired access token is refused as expired; no token and a forged one are 401 with WWW-Authenticate")
    func tokenFailures() async throws {
        try await withApp(withAdmin, now: { Date().addingTimeInterval(-3600) }) { client, _ async throws in
            let stale = try await client.adminToken()
            let expired = try await client.call(.get, "/api/v1/auth/me", token: stale)
            #expect(expired.status == .unauthorized)
            #expect((expired["detail"] as? String)?.contains("expired") == true)

            let missing = try await client.call(.get, "/api/v1/stations")
            #expect(missing.status == .unauthorized)
            #expect(missing.headers[.wwwAuthenticate] == "Bearer")
            let forged = try await client.call(.get, "/api/v1/stations", token: stale.dropLast(3) + "abc")
            #expect(forged.status == .unauthorized)
            #expect(forged.headers[.wwwAuthenticate]?.contains("invalid_token") == true)
            let basic = try await client.call(.get, "/api/v1/stations", headers: [.authorization: "Basic abc"])
            #expect(basic.status == .unauthorized)
        }
    }

    @Test("admins manage users: list, read, change role (which ends old tokens), version checks, the last admin is kept")
    func userAdministration() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            let (operatorID, operatorToken) = try await client.makeUser("operator", email: "op@example.com", adminToken: admin)
            let list = try await client.call(.get, "/api/v1/users?role=operator", token: admin)
            #expect(list.items.map { $0["email"] as? String } == ["op@example.com"])
            let one = try await client.call(.get, "/api/v1/users/\(operatorID)", token: admin)
            #expect(one["role"] as? String == "operator")
            let version = try #require(one["version"] as? Int)

            let promoted = try await client.call(
                .patch, "/api/v1/users/\(operatorID)", token: admin, json: ["role": "admin", "version": version])
            #expect(promoted.status == .ok)
            #expect(promoted["role"] as? String == "admin")
            let stale = try await client.call(
                .patch, "/api/v1/users/\(operatorID)", token: admin, json: ["name": "Late", "version": version])
            #expect(stale.status == .conflict)
            // The token that said "operator" no longer counts.
            #expect(try await client.call(.get, "/api/v1/stations", token: operatorToken).status == .unauthorized)

            let me = try await client.call(.get, "/api/v1/auth/me", token: admin)
            let adminID = try #require(me["id"] as? String)
            #expect(try await client.call(.delete, "/api/v1/users/\(operatorID)", token: admin).status == .noContent)
            let lastAdmin = try await client.call(.patch, "/api/v1/users/\(adminID)", token: admin, json: ["role": "driver"])
            #expect(lastAdmin.status == .conflict)
            #expect(try await client.call(.delete, "/api/v1/users/\(adminID)", token: admin).status == .conflict)
            #expect(try await client.call(.get, "/api/v1/users/\(operatorID)", token: admin).status == .notFound)
        }
    }

    @Test("accounts, the signing key and sessions survive a restart")
    func survivesRestart() async throws {
        let directory = NSTemporaryDirectory() + "csms-restart-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (token, refresh) = try await withApp(withAdmin, dataDirectory: directory) { client, _ async throws in
            let reply = try await client.call(.post, "/api/v1/auth/login", json: ["email": adminEmail, "password": adminPassword])
            return (try #require(reply["accessToken"] as? String), try #require(reply["refreshToken"] as? String))
        }
        let permissions = try FileManager.default.attributesOfItem(atPath: directory + "/jwt-secret")[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        try await withApp(dataDirectory: directory) { client, _ async throws in
            #expect(try await client.call(.get, "/api/v1/auth/me", token: token).status == .ok)
            #expect(try await client.call(.post, "/api/v1/auth/refresh", json: ["refreshToken": refresh]).status == .ok)
        }
    }
}
