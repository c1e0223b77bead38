import Foundation
import HummingbirdTesting
import Storage
import Testing

@testable import Server

func stationBody(
    _ id: String, name: String? = nil, latitude: Double? = nil, longitude: Double? = nil,
    connectors: [[String: Any]] = [["connectorId": 1, "type": "CCS2", "maxPowerKw": 150], ["connectorId": 2, "type": "Type2", "maxPowerKw": 22]]
) -> [String: Any] {
    var body: [String: Any] = ["id": id, "name": name ?? "Station \(id)", "connectors": connectors]
    if let latitude, let longitude {
        body["latitude"] = latitude
        body["longitude"] = longitude
    }
    return body
}

@Suite("Stations and connectors")
struct StationTests {
    @Test("an operator creates a station with two connectors; it reads back with connectors Unavailable")
    func createAndRead() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            let (_, op) = try await client.makeUser("operator", email: "op@example.com", adminToken: admin)
            let created = try await client.call(
                .post, "/api/v1/stations", token: op,
                json: stationBody("CP-001:A_b.c", latitude: 52.52, longitude: 13.405))
            #expect(created.status == .created)
            #expect(created.headers[.location] == "/api/v1/stations/CP-001:A_b.c")
            #expect(created["registration"] as? String == "accepted")
            #expect(created["status"] as? String == "active")
            #expect(created["online"] as? Bool == false)
            #expect(created["ocppVersion"] as? String == "1.6")
            let connectors = try #require(created["connectors"] as? [[String: Any]])
            #expect(connectors.map { $0["connectorId"] as? Int } == [1, 2])
            #expect(connectors.allSatisfy { $0["status"] as? String == "Unavailable" })

            let read = try await client.call(.get, "/api/v1/stations/CP-001:A_b.c", token: op)
            #expect(read.status == .ok)
            #expect(read["latitude"] as? Double == 52.52)
            // Ids are case-sensitive.
            #expect(try await client.call(.get, "/api/v1/stations/cp-001:a_b.c", token: op).status == .notFound)
            let duplicate = try await client.call(.post, "/api/v1/stations", token: op, json: stationBody("CP-001:A_b.c"))
            #expect(duplicate.status == .conflict)
        }
    }

    @Test("invalid stations are refused naming every bad field")
    func validation() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            let reply = try await client.call(
                .post, "/api/v1/stations", token: admin,
                json: [
                    "id": "bad id/with space", "name": "", "latitude": 91, "longitude": 10, "status": "broken",
                    "connectors": [
                        ["connectorId": 1, "type": "Mystery", "maxPowerKw": 0],
                        ["connectorId": 1, "type": "CCS2", "maxPowerKw": 50],
                    ],
                ])
            #expect(reply.status == .unprocessableContent)
            #expect(
                Set(reply.fieldErrors) == [
                    "id", "name", "latitude", "status", "connectors[0].type", "connectors[0].maxPowerKw",
                    "connectors[1].connectorId",
                ])
            let tooLong = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody(String(repeating: "x", count: 49)))
            #expect(tooLong.fieldErrors == ["id"])
        }
    }

    @Test("PATCH changes fields, null clears them, and a stale version is a conflict")
    func patch() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            var body = stationBody("CP1", latitude: 1, longitude: 2)
            body["address"] = "Main St 1"
            let created = try await client.call(.post, "/api/v1/stations", token: admin, json: body)
            let version = try #require(created["version"] as? Int)
            let patched = try await client.call(
                .patch, "/api/v1/stations/CP1", token: admin,
                json: ["name": "Renamed", "address": NSNull(), "registration": "pending", "version": version])
            #expect(patched.status == .ok)
            #expect(patched["name"] as? String == "Renamed")
            #expect(patched["address"] == nil)
            #expect(patched["registration"] as? String == "pending")
            #expect(patched["latitude"] as? Double == 1)
            let stale = try await client.call(.patch, "/api/v1/stations/CP1", token: admin, json: ["name": "X", "version": version])
            #expect(stale.status == .conflict)
            let half = try await client.call(.patch, "/api/v1/stations/CP1", token: admin, json: ["latitude": NSNull()])
            #expect(half.status == .unprocessableContent)
            #expect(try await client.call(.patch, "/api/v1/stations/none", token: admin, json: ["name": "X"]).status == .notFound)
        }
    }

    @Test("connectors are added, changed and removed; a hand-set status is kept in the status history")
    func connectors() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("CP1"))
            let added = try await client.call(
                .post, "/api/v1/stations/CP1/connectors", token: admin, json: ["connectorId": 3, "type": "CHAdeMO", "maxPowerKw": 50])
            #expect(added.status == .created)
            #expect((added["connectors"] as? [[String: Any]])?.count == 3)
            let clash = try await client.call(
                .post, "/api/v1/stations/CP1/connectors", token: admin, json: ["connectorId": 3, "type": "CCS2", "maxPowerKw": 50])
            #expect(clash.status == .conflict)

            let faulted = try await client.call(
                .patch, "/api/v1/stations/CP1/connectors/3", token: admin, json: ["status": "Faulted", "errorCode": "GroundFailure"])
            #expect(faulted.status == .ok)
            let connector = try #require((faulted["connectors"] as? [[String: Any]])?.first { $0["connectorId"] as? Int == 3 })
            #expect(connector["status"] as? String == "Faulted")
            #expect(connector["errorCode"] as? String == "GroundFailure")
            _ = try await client.call(.patch, "/api/v1/stations/CP1/connectors/3", token: admin, json: ["status": "Available"])

            let history = try await dependencies.database.read { connection in
                try connection.query(
                    "SELECT previous, current, error_code FROM status_history WHERE station_id = 'CP1' ORDER BY id"
                ) { (try $0.get("previous", as: String?.self), try $0.get("current", as: String.self), try $0.get("error_code", as: String?.self)) }
            }
            #expect(history.count == 2)
            #expect(history[0] == ("Unavailable", "Faulted", "GroundFailure"))
            #expect(history[1] == ("Faulted", "Available", nil))

            #expect(try await client.call(.patch, "/api/v1/stations/CP1/connectors/9", token: admin, json: ["status": "Available"]).status == .notFound)
            #expect(try await client.call(.patch, "/api/v1/stations/CP1/connectors/3", token: admin, json: ["status": "On"]).status == .unprocessableContent)
            #expect(try await client.call(.delete, "/api/v1/stations/CP1/connectors/3", token: admin).status == .noContent)
            #expect(try await client.call(.delete, "/api/v1/stations/CP1/connectors/3", token: admin).status == .notFound)
        }
    }

    @Test("DELETE decommissions; ?purge=true deletes a station without sessions, and refuses one with sessions")
    func deleteAndPurge() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("CP1"))
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("CP2"))
            let decommissioned = try await client.call(.delete, "/api/v1/stations/CP1", token: admin)
            #expect(decommissioned.status == .ok)
            #expect(decommissioned["status"] as? String == "decommissioned")
            #expect(try await client.call(.delete, "/api/v1/stations/CP1?purge=true", token: admin).status == .noContent)
            #expect(try await client.call(.get, "/api/v1/stations/CP1", token: admin).status == .notFound)

            _ = try await dependencies.sessions.start(
                stationID: "CP2", connectorID: 1, idTag: "TAG", startedAt: Date(), meterStartWh: 0, accepted: true)
            let refused = try await client.call(.delete, "/api/v1/stations/CP2?purge=true", token: admin)
            #expect(refused.status == .conflict)
            #expect(try await client.call(.get, "/api/v1/stations/CP2", token: admin).status == .ok)
        }
    }

    @Test("charger credentials are stored hashed and can be removed")
    func credentials() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("CP1"))
            let password = "0123456789abcdefXYZ"
            #expect(try await client.call(.put, "/api/v1/stations/CP1/credentials", token: admin, json: ["password": password]).status == .noContent)
            let stored = try #require(try await dependencies.stations.station("CP1")?.passwordHash)
            #expect(!stored.contains(password))
            #expect(ChargePointPassword.verify(password, against: stored))
            #expect(!ChargePointPassword.verify(password + "x", against: stored))
            #expect(try await client.call(.get, "/api/v1/stations/CP1", token: admin)["hasPassword"] as? Bool == true)
            #expect(try await client.call(.put, "/api/v1/stations/CP1/credentials", token: admin, json: ["password": "short"]).status == .unprocessableContent)
            #expect(try await client.call(.delete, "/api/v1/stations/CP1/credentials", token: admin).status == .noContent)
            #expect(try await dependencies.stations.station("CP1")?.passwordHash == nil)
        }
    }

    @Test("listing filters by status, connector type, power, availability, text and online")
    func filters() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(
                .post, "/api/v1/stations", token: admin,
                json: stationBody("FAST", name: "Autobahn Fast", connectors: [["connectorId": 1, "type": "CCS2", "maxPowerKw": 300]]))
            var slow = stationBody("SLOW", name: "Village hall", connectors: [["connectorId": 1, "type": "Type2", "maxPowerKw": 11, "status": "Available"]])
            slow["address"] = "Church Road 5"
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: slow)
            var off = stationBody("OFF", name: "Closed", connectors: [["connectorId": 1, "type": "Type2", "maxPowerKw": 22]])
            off["status"] = "maintenance"
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: off)

            func ids(_ query: String) async throws -> [String] {
                let reply = try await client.call(.get, "/api/v1/stations?\(query)", token: admin)
                #expect(reply.status == .ok, "\(query): \(reply.object)")
                return reply.items.compactMap { $0["id"] as? String }
            }
            #expect(try await ids("status=maintenance") == ["OFF"])
            #expect(try await ids("connectorType=Type2") == ["OFF", "SLOW"])
            #expect(try await ids("minPowerKw=50") == ["FAST"])
            #expect(try await ids("available=true") == ["SLOW"])
            #expect(try await ids("q=church") == ["SLOW"])
            #expect(try await ids("q=%25") == [])
            #expect(try await ids("online=false").count == 3)
            #expect(try await ids("online=true") == [])
            let bad = try await client.call(.get, "/api/v1/stations?status=x&minPowerKw=-1&limit=0", token: admin)
            #expect(bad.status == .unprocessableContent)
        }
    }

    @Test("near search returns stations within the radius, nearest first, with their distance")
    func nearby() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            // Around Berlin's Brandenburg Gate (52.5163, 13.3777).
            let places: [(String, Double, Double)] = [
                ("ALEX", 52.5219, 13.4132),  // ~2.5 km
                ("GATE", 52.5163, 13.3777),  // 0 km
                ("POTSDAM", 52.3906, 13.0645),  // ~25 km
                ("ZOO", 52.5079, 13.3376),  // ~2.9 km
                ("HAMBURG", 53.5511, 9.9937),  // ~255 km
            ]
            for (id, latitude, longitude) in places {
                _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody(id, latitude: latitude, longitude: longitude))
            }
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("NOWHERE"))
            let reply = try await client.call(.get, "/api/v1/stations?near=52.5163,13.3777&radiusKm=30", token: admin)
            #expect(reply.items.map { $0["id"] as? String } == ["GATE", "ALEX", "ZOO", "POTSDAM"])
            let distances = reply.items.compactMap { $0["distanceKm"] as? Double }
            #expect(distances[0] == 0)
            #expect(abs(distances[1] - 2.50) < 0.1)
            #expect(abs(distances[2] - 2.88) < 0.1)
            #expect(abs(distances[3] - 26.0) < 1.5)

            // Paged by distance: two pages of two, nothing lost or repeated.
            let first = try await client.call(.get, "/api/v1/stations?near=52.5163,13.3777&radiusKm=30&limit=2", token: admin)
            let cursor = try #require(first["nextCursor"] as? String)
            let second = try await client.call(.get, "/api/v1/stations?near=52.5163,13.3777&radiusKm=30&limit=2&cursor=\(cursor)", token: admin)
            #expect((first.items + second.items).map { $0["id"] as? String } == ["GATE", "ALEX", "ZOO", "POTSDAM"])
            #expect(second["nextCursor"] is NSNull)
        }
    }

    @Test("pages stay stable when stations are inserted between page requests")
    func paginationStability() async throws {
        try await withApp(withAdmin) { client, _ async throws in try await Self.paginationScenario(client) }
    }

    private static func paginationScenario(_ client: any TestClientProtocol) async throws {
        let admin = try await client.adminToken()
        for index in stride(from: 10, to: 30, by: 2) {
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("S\(index)"))
        }
        let first = try await client.call(.get, "/api/v1/stations?limit=4", token: admin)
        let firstIDs = first.items.compactMap { $0["id"] as? String }
        #expect(firstIDs == ["S10", "S12", "S14", "S16"])
        // New rows before and after the page boundary.
        for id in ["S11", "S17", "S99"] {
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody(id))
        }
        let rest = try await remainingIDs(
            client, path: "/api/v1/stations?limit=4", token: admin, cursor: first["nextCursor"] as? String)
        #expect(firstIDs + rest == ["S10", "S12", "S14", "S16", "S17", "S18", "S20", "S22", "S24", "S26", "S28", "S99"])
        let garbage = try await client.call(.get, "/api/v1/stations?cursor=garbage", token: admin)
        #expect(garbage.status == .unprocessableContent)
    }

    @Test("availability totals stations and connectors by status")
    func availability() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("A"))
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("B"))
            _ = try await client.call(.patch, "/api/v1/stations/A/connectors/1", token: admin, json: ["status": "Available"])
            _ = try await client.call(.patch, "/api/v1/stations/B", token: admin, json: ["status": "maintenance"])
            let reply = try await client.call(.get, "/api/v1/stations/availability", token: admin)
            #expect(reply["stations"] as? Int == 2)
            #expect((reply["stationsByStatus"] as? [String: Int])?["maintenance"] == 1)
            #expect(reply["connectors"] as? Int == 4)
            let byStatus = try #require(reply["connectorsByStatus"] as? [String: Int])
            #expect(byStatus["Available"] == 1)
            #expect(byStatus["Unavailable"] == 3)
            #expect(byStatus["Charging"] == 0)
        }
    }
}

/// Follows `nextCursor` to the end and returns the ids of every item seen.
func remainingIDs(_ client: any TestClientProtocol, path: String, token: String, cursor start: String?) async throws -> [String] {
    var ids: [String] = []
    var cursor = start
    while let next = cursor {
        let page = try await client.call(.get, "\(path)&cursor=\(next)", token: token)
        ids += page.items.compactMap { $0["id"] as? String }
        cursor = page["nextCursor"] as? String
    }
    return ids
}

@Suite("Startup")
struct StartupTests {
    @Test("stations left online by a crash are offline after a restart, with a history entry")
    func onlineResetAtStartup() async throws {
        let directory = NSTemporaryDirectory() + "csms-startup-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await withApp(withAdmin, dataDirectory: directory) { client, dependencies async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("CP1"))
            _ = try await dependencies.database.write { try $0.run("UPDATE stations SET online = 1 WHERE id = 'CP1'") }
        }
        try await withApp(withAdmin, dataDirectory: directory) { client, dependencies async throws in
            let admin = try await client.adminToken()
            #expect(try await client.call(.get, "/api/v1/stations/CP1", token: admin)["online"] as? Bool == false)
            let history = try await client.call(.get, "/api/v1/stations/CP1/status-history", token: admin)
            let entries = try #require(history["items"] as? [[String: Any]])
            #expect(entries.last?["kind"] as? String == "connectivity" && entries.last?["status"] as? String == "offline")
        }
    }
}
