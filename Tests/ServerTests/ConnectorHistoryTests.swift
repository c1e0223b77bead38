import Foundation
import HummingbirdTesting
import Storage
import Testing

@testable import Server

/// A recorder whose history write fails, to show the connector change rolls back with it.
private struct FailingHistory: ConnectorStatusRecording {
    struct Failure: Error {}
    func connectorStatusChanged(_ change: ConnectorStatusChange) async throws { throw Failure() }
    func record(_ change: ConnectorStatusChange, in connection: Connection) throws -> RecordedConnectorStatus? {
        throw Failure()
    }
    func publish(_ recorded: RecordedConnectorStatus) {}
}

@Suite("Connector status and its history")
struct ConnectorHistoryTests {
    @Test("a connector's new status and its history row are written in one transaction")
    func oneTransaction() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            #expect(try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("CP-HIST")).status == .created)
            let at = Date()
            let failing = ConnectorStatusHistory(recorder: FailingHistory()) { before, after in
                ConnectorStatusChange(
                    stationID: "CP-HIST", connectorID: 1, previous: before.status, current: after.status, errorCode: nil,
                    info: nil, vendorErrorCode: nil, at: at, source: .api)
            }
            await #expect(throws: FailingHistory.Failure.self) {
                _ = try await dependencies.stations.updateConnector(1, of: "CP-HIST", now: at, history: failing) {
                    $0.status = .faulted
                }
            }
            // The failed history write took the connector change with it.
            let station = try await client.call(.get, "/api/v1/stations/CP-HIST", token: admin)
            let connectors = try #require(station["connectors"] as? [[String: Any]])
            #expect(connectors.first { $0["connectorId"] as? Int == 1 }?["status"] as? String == "Unavailable")

            // Through the API both land together: the status and exactly one history row.
            let patched = try await client.call(
                .patch, "/api/v1/stations/CP-HIST/connectors/1", token: admin, json: ["status": "Faulted", "errorCode": "GroundFailure"])
            #expect(patched.status == .ok)
            let history = try await client.call(.get, "/api/v1/stations/CP-HIST/status-history", token: admin)
            let rows = history.items.filter { $0["kind"] as? String == "connector" && $0["connectorId"] as? Int == 1 }
            #expect(rows.count == 1)
            #expect(rows.first?["status"] as? String == "Faulted")
            #expect(rows.first?["errorCode"] as? String == "GroundFailure")
        }
    }
}
