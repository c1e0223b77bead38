import Foundation
import HummingbirdTesting
import Storage
import Testing

@testable import Server

@Suite("Drivers, id tags and the authorizer")
struct DriverTests {
    @Test("a registered driver has a profile with one app token, visible at /me/driver")
    func appToken() async throws {
        try await withApp { client, _ async throws in
            _ = try await client.call(.post, "/api/v1/auth/register", json: ["email": "d@example.com", "password": "password-1", "name": "Dee"])
            let token = try await client.login("d@example.com", "password-1")
            let me = try await client.call(.get, "/api/v1/me/driver", token: token)
            #expect(me.status == .ok)
            let driver = try #require(me["driver"] as? [String: Any])
            #expect(driver["name"] as? String == "Dee")
            #expect(driver["membership"] as? String == "basic")
            let tags = try #require(me["idTags"] as? [[String: Any]])
            #expect(tags.count == 1)
            let app = try #require(tags.first?["id"] as? String)
            #expect(app.hasPrefix("APP") && app.count == 20)
            #expect(tags.first?["kind"] as? String == "app")
            #expect(tags.first?["status"] as? String == "Accepted")
        }
    }

    @Test("operators create, search, update and delete drivers")
    func driverCRUD() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            let (_, op) = try await client.makeUser("operator", email: "op@example.com", adminToken: admin)
            let created = try await client.call(
                .post, "/api/v1/drivers", token: op,
                json: [
                    "name": "Fleet Driver", "email": "fleet@corp.example", "membership": "enterprise",
                    "vehicles": [["make": "VW", "model": "ID.4", "batteryKwh": 77, "connectorTypes": ["CCS2"]]],
                ])
            #expect(created.status == .created)
            let id = try #require(created["id"] as? String)
            _ = try await client.call(.post, "/api/v1/drivers", token: op, json: ["name": "Other Person", "email": "other@example.com"])
            let bad = try await client.call(.post, "/api/v1/drivers", token: op, json: ["name": "", "email": "x", "membership": "gold"])
            #expect(Set(bad.fieldErrors) == ["name", "email", "membership"])

            #expect(try await client.call(.get, "/api/v1/drivers?q=fleet", token: op).items.count == 1)
            #expect(try await client.call(.get, "/api/v1/drivers?q=CORP", token: op).items.count == 1)
            #expect(try await client.call(.get, "/api/v1/drivers?membership=enterprise", token: op).items.count == 1)
            #expect(try await client.call(.get, "/api/v1/drivers?status=active", token: op).items.count == 2)

            let suspended = try await client.call(.patch, "/api/v1/drivers/\(id)", token: op, json: ["status": "suspended", "phone": "+49 30 1234"])
            #expect(suspended["status"] as? String == "suspended")
            #expect(suspended["phone"] as? String == "+49 30 1234")
            let vehicles = try #require(suspended["vehicles"] as? [[String: Any]])
            #expect(vehicles.first?["model"] as? String == "ID.4")
            #expect(try await client.call(.delete, "/api/v1/drivers/\(id)", token: op).status == .noContent)
            #expect(try await client.call(.get, "/api/v1/drivers/\(id)", token: op).status == .notFound)
        }
    }

    @Test("a driver sees only their own profile and tags; another's is 404; status is not theirs to change")
    func driverVisibility() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            let one = try await client.call(.post, "/api/v1/auth/register", json: ["email": "one@example.com", "password": "password-1", "name": "One"])
            let two = try await client.call(.post, "/api/v1/auth/register", json: ["email": "two@example.com", "password": "password-2", "name": "Two"])
            let oneDriver = try #require(one["driverId"] as? String)
            let twoDriver = try #require(two["driverId"] as? String)
            let oneToken = try await client.login("one@example.com", "password-1")

            #expect(try await client.call(.get, "/api/v1/drivers/\(oneDriver)", token: oneToken).status == .ok)
            #expect(try await client.call(.get, "/api/v1/drivers/\(twoDriver)", token: oneToken).status == .notFound)
            #expect(try await client.call(.get, "/api/v1/drivers/\(twoDriver)/id-tags", token: oneToken).status == .notFound)
            #expect(try await client.call(.get, "/api/v1/drivers/\(oneDriver)/id-tags", token: oneToken).items.count == 1)
            #expect(try await client.call(.patch, "/api/v1/drivers/\(twoDriver)", token: oneToken, json: ["name": "Hacked"]).status == .notFound)
            #expect(try await client.call(.patch, "/api/v1/drivers/\(oneDriver)", token: oneToken, json: ["name": "Uno"])["name"] as? String == "Uno")
            #expect(try await client.call(.patch, "/api/v1/drivers/\(oneDriver)", token: oneToken, json: ["membership": "premium"]).status == .forbidden)

            _ = try await client.call(.put, "/api/v1/id-tags/CARD-TWO", token: admin, json: ["status": "Accepted", "driverId": twoDriver])
            #expect(try await client.call(.get, "/api/v1/id-tags/CARD-TWO", token: oneToken).status == .notFound)
            #expect(try await client.call(.get, "/api/v1/id-tags/CARD-TWO", token: admin).status == .ok)
        }
    }

    @Test("id tags are created and updated with PUT and matched case-insensitively")
    func idTags() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            let created = try await client.call(
                .put, "/api/v1/id-tags/AbCd1234", token: admin,
                json: ["status": "Accepted", "expiresAt": "2030-01-01T00:00:00Z", "parentIdTag": "FLEET-1", "maxActiveTransactions": 1])
            #expect(created.status == .created)
            #expect(created["expiresAt"] as? String == "2030-01-01T00:00:00.000Z")
            let updated = try await client.call(.put, "/api/v1/id-tags/abcd1234", token: admin, json: ["status": "Blocked"])
            #expect(updated.status == .ok)
            #expect(updated["id"] as? String == "AbCd1234")
            #expect(updated["status"] as? String == "Blocked")
            #expect(updated["parentIdTag"] == nil)
            #expect(try await client.call(.get, "/api/v1/id-tags/ABCD1234", token: admin)["status"] as? String == "Blocked")
            #expect(try await client.call(.get, "/api/v1/id-tags?status=Blocked", token: admin).items.count == 1)
            #expect(try await client.call(.get, "/api/v1/id-tags?status=Accepted", token: admin).items.count == 0)

            let tooLong = try await client.call(.put, "/api/v1/id-tags/" + String(repeating: "A", count: 21), token: admin, json: ["status": "Accepted"])
            #expect(tooLong.status == .unprocessableContent)
            let badStatus = try await client.call(.put, "/api/v1/id-tags/OK1", token: admin, json: ["status": "Fine"])
            #expect(badStatus.fieldErrors == ["status"])
            let noDriver = try await client.call(.put, "/api/v1/id-tags/OK1", token: admin, json: ["status": "Accepted", "driverId": "ghost"])
            #expect(noDriver.fieldErrors == ["driverId"])
            #expect(try await client.call(.delete, "/api/v1/id-tags/abcd1234", token: admin).status == .noContent)
            #expect(try await client.call(.get, "/api/v1/id-tags/abcd1234", token: admin).status == .notFound)
        }
    }

    @Test("the authorizer's decisions, in order: unknown, blocked, expired, driver blocked, concurrent, accepted")
    func authorizerDecisionOrder() async throws {
        let clock = TestClock()
        try await withApp(withAdmin, now: { clock.now }) { client, dependencies async throws in
            let admin = try await client.adminToken()
            let driver = try await client.call(.post, "/api/v1/drivers", token: admin, json: ["name": "D", "email": "d@example.com"])
            let driverID = try #require(driver["id"] as? String)
            func authorize(_ tag: String, start: Bool = false) async throws -> [String: Any] {
                let reply = try await client.call(.post, "/api/v1/id-tags/\(tag)/authorize", token: admin, json: ["forStartTransaction": start])
                #expect(reply.status == .ok)
                return try #require(reply["idTagInfo"] as? [String: Any])
            }
            #expect(try await authorize("UNKNOWN")["status"] as? String == "Invalid")

            _ = try await client.call(.put, "/api/v1/id-tags/BLOCKED", token: admin, json: ["status": "Blocked", "driverId": driverID])
            #expect(try await authorize("BLOCKED")["status"] as? String == "Blocked")

            let expiry = WireFormat.formatDate(clock.now.addingTimeInterval(60))
            _ = try await client.call(
                .put, "/api/v1/id-tags/CARD", token: admin,
                json: ["status": "Accepted", "driverId": driverID, "expiresAt": expiry, "parentIdTag": "GROUP", "maxActiveTransactions": 1])
            let accepted = try await authorize("card")
            #expect(accepted["status"] as? String == "Accepted")
            #expect(accepted["parentIdTag"] as? String == "GROUP")
            #expect(accepted["expiryDate"] as? String == expiry)

            // One active session: Authorize still accepts, StartTransaction is ConcurrentTx.
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("S"))
            _ = try await dependencies.sessions.start(
                stationID: "S", connectorID: 1, idTag: "CARD", startedAt: clock.now, meterStartWh: 0, accepted: true)
            #expect(try await authorize("CARD")["status"] as? String == "Accepted")
            #expect(try await authorize("CARD", start: true)["status"] as? String == "ConcurrentTx")

            _ = try await client.call(.patch, "/api/v1/drivers/\(driverID)", token: admin, json: ["status": "suspended"])
            #expect(try await authorize("CARD", start: true)["status"] as? String == "Blocked")

            clock.advance(61)
            #expect(try await authorize("CARD")["status"] as? String == "Expired")
            // The status stored on the tag outranks its driver.
            _ = try await client.call(.put, "/api/v1/id-tags/MARKED", token: admin, json: ["status": "Expired"])
            #expect(try await authorize("MARKED")["status"] as? String == "Expired")
            #expect(try await dependencies.authorizer.authorize("has space ok", forStartTransaction: false).status == .invalid)
        }
    }
}
