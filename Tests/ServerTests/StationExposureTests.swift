import Foundation
import HummingbirdTesting
import Testing

@testable import Server

@Suite("What a station shows, and the limits on changing it")
struct StationExposureTests {
    @Test("a driver gets the public station view: no OCPP messages, connection, configuration or hardware ids")
    func driverSeesThePublicView() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            let (_, driver) = try await client.makeUser("driver", email: "dr@example.com", adminToken: admin)
            #expect(try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("CP1")).status == .created)
            _ = try await dependencies.database.write {
                try $0.run("UPDATE stations SET iccid = '8949000000000000001', configuration = '{\"MeterValueSampleInterval\":\"60\"}' WHERE id = 'CP1'")
            }
            dependencies.ocpp.recorder.log(
                OCPPLogEntry(
                    stationId: "CP1", direction: "in", messageType: 2, action: "Authorize", messageId: "m1",
                    payload: #"[2,"m1","Authorize",{"idTag":"OTHER-DRIVER-TAG"}]"#, at: Date()))

            let operatorView = try await client.call(.get, "/api/v1/stations/CP1", token: admin)
            let connection = try #require(operatorView["connection"] as? [String: Any])
            #expect((connection["lastMessages"] as? [[String: Any]])?.count == 1, "operators keep the full view")
            #expect(operatorView["iccid"] as? String == "8949000000000000001")

            let publicView = try await client.call(.get, "/api/v1/stations/CP1", token: driver)
            #expect(publicView.status == .ok)
            #expect(publicView["name"] as? String == "Station CP1")
            #expect((publicView["connectors"] as? [[String: Any]])?.count == 2)
            for hidden in ["connection", "configuration", "iccid", "imsi", "hasPassword", "chargeBoxSerialNumber", "version"] {
                #expect(publicView[hidden] == nil, "\(hidden) is not for drivers")
            }
            let listed = try await client.call(.get, "/api/v1/stations", token: driver)
            #expect(listed.items.count == 1)
            #expect(listed.items.first?["iccid"] == nil && listed.items.first?["configuration"] == nil)
            #expect(!listed.items.isEmpty && !String(describing: listed.items).contains("OTHER-DRIVER-TAG"))
            #expect(!String(describing: publicView.object).contains("OTHER-DRIVER-TAG"))
        }
    }

    @Test("PATCH applies the same text limits as create, to every field", arguments: ["name", "address", "operatorId", "tariffId"])
    func patchLimits(field: String) async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            #expect(try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("CP1")).status == .created)
            let huge = String(repeating: "x", count: 500_000)
            let patched = try await client.call(.patch, "/api/v1/stations/CP1", token: admin, json: [field: huge])
            #expect(patched.status == .unprocessableContent)
            #expect(patched.fieldErrors == [field])
            var created = stationBody("CP2")
            created[field] = huge
            let refused = try await client.call(.post, "/api/v1/stations", token: admin, json: created)
            #expect(refused.status == .unprocessableContent)
            #expect(refused.fieldErrors == [field])
            let halfCoordinates = try await client.call(.patch, "/api/v1/stations/CP1", token: admin, json: ["latitude": 10])
            #expect(halfCoordinates.status == .unprocessableContent && halfCoordinates.fieldErrors == ["latitude"])
            let stored = try await client.call(.get, "/api/v1/stations/CP1", token: admin)
            #expect((stored[field] as? String)?.count ?? 0 < 1000)
        }
    }
}
