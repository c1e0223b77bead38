import Foundation
import NIOCore
import NIOEmbedded
import NIOWebSocket
import OCPP
import Testing

@testable import Server

@Suite("Charger clocks in StatusNotification")
struct ChargerStatusClockTests {
    @Test(
        "an implausible StatusNotification timestamp is replaced by server time and raises an alert",
        arguments: ["0001-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "2999-01-01T00:00:00Z"])
    func implausibleClock(_ clock: String) async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("CP1"))
            let plausible = Date().addingTimeInterval(-60)
            let before = Date().addingTimeInterval(-0.001)
            try await Self.statusNotifications(
                [("Charging", clock), ("Available", OCPPDateTime(plausible).description)], dependencies: dependencies)
            let after = Date().addingTimeInterval(0.001)

            let history = try await dependencies.database.read { connection in
                try connection.query(
                    "SELECT current, at FROM status_history WHERE station_id = 'CP1' AND connector_id = 1 ORDER BY id"
                ) { (try $0.get(0, as: String.self), try $0.get(1, as: Date.self)) }
            }
            try #require(history.count == 2)
            #expect(history[0].0 == "Charging")
            #expect(history[0].1 >= before && history[0].1 <= after, "\(history[0].1) is not server time")
            // A plausible clock is kept as the charger reported it.
            #expect(abs(history[1].1.timeIntervalSince(plausible)) < 1)

            let alerts = try await client.call(.get, "/api/v1/alerts?stationId=CP1&limit=100", token: admin)
            let problems = alerts.items.filter { $0["kind"] as? String == "implausible_charger_data" }
                .compactMap { ($0["details"] as? [String: Any])?["problem"] as? String }
            #expect(problems == ["implausible_timestamp"], "\(alerts.object)")
        }
    }

    private static func statusNotifications(_ changes: [(String, String)], dependencies: AppDependencies) async throws {
        let channel = NIOAsyncTestingChannel()
        let connection = dependencies.ocpp.makeConnection(
            chargePointID: "CP1", subprotocol: "ocpp1.6", channel: channel, registration: .accepted)
        for (index, (status, timestamp)) in changes.enumerated() {
            await dependencies.ocpp.process(
                #"[2,"sn\#(index)","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"\#(status)","timestamp":"\#(timestamp)"}]"#,
                connection: connection, logger: TestCharger.logger)
            let answer = try await channel.nextMessage()
            #expect(answer == [.int(3), .string("sn\(index)"), .object(JSONObject())], "\(answer)")
        }
        try? await channel.close()
    }
}
