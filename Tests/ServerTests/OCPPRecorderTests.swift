import Foundation
import HummingbirdTesting
import Storage
import Testing

@testable import Server

@Suite("OCPP recorder backlog")
struct OCPPRecorderTests {
    @Test("a backlog over the high-water mark is written out before more messages are handled, once, by one shared flush")
    func backlogIsBounded() async throws {
        try await withApp { _, dependencies async throws in
            let recorder = OCPPRecorder(database: dependencies.database, highWater: 100)
            for index in 0..<1_000 {
                recorder.log(
                    OCPPLogEntry(
                        stationId: "CP-FLOOD", direction: "in", messageType: 2, action: "Heartbeat", messageId: "m\(index)",
                        payload: #"[2,"m\#(index)","Heartbeat",{}]"#, at: Date()))
            }
            #expect(recorder.backlog == 1_000)
            // Twenty connections arrive at once: all wait for the same flush, none writes twice.
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<20 { group.addTask { await recorder.waitForRoom() } }
            }
            #expect(recorder.backlog == 0)
            let stored = try await dependencies.database.read { connection in
                try connection.queryFirst("SELECT count(*) FROM ocpp_messages WHERE station_id = 'CP-FLOOD'") {
                    try $0.get(0, as: Int.self)
                }
            }
            #expect(stored == 1_000)
            // Under the mark nothing waits for the disk.
            recorder.log(
                OCPPLogEntry(
                    stationId: "CP-FLOOD", direction: "in", messageType: 2, action: "Heartbeat", messageId: "last",
                    payload: #"[2,"last","Heartbeat",{}]"#, at: Date()))
            await recorder.waitForRoom()
            #expect(recorder.backlog == 1)
        }
    }

    @Test("a flush stores rows grouped by station, each station's in the order they came, so recent() still reads newest first")
    func flushGroupsByStation() async throws {
        try await withApp { _, dependencies async throws in
            let recorder = OCPPRecorder(database: dependencies.database)
            let stations = ["CP-C", "CP-A", "CP-B"]
            let start = Date(timeIntervalSince1970: 1_800_000_000)
            // Interleaved as three chargers' messages arrive.
            for index in 0..<30 {
                let station = stations[index % 3]
                recorder.log(
                    OCPPLogEntry(
                        stationId: station, direction: "in", messageType: 2, action: "Heartbeat", messageId: "m\(index)",
                        payload: #"[2,"m\#(index)","Heartbeat",{}]"#, at: start.addingTimeInterval(Double(index))))
                recorder.record([
                    MeterValueRow(
                        stationID: station, connectorID: 1, transactionID: nil, at: start.addingTimeInterval(Double(index)),
                        measurand: "Energy.Active.Import.Register", unit: "Wh", value: "\(index)", normalized: Int64(index))
                ])
            }
            try await recorder.flush()
            let (messageOrder, meterOrder) = try await dependencies.database.read { connection in
                (
                    try connection.query("SELECT station_id, message_id FROM ocpp_messages ORDER BY id") {
                        "\(try $0.get(0, as: String.self))/\(try $0.get(1, as: String.self))"
                    },
                    try connection.query("SELECT station_id, value FROM meter_values ORDER BY id") {
                        "\(try $0.get(0, as: String.self))/\(try $0.get(1, as: String.self))"
                    }
                )
            }
            let expectedMessages = stations.sorted().flatMap { station in
                (0..<30).filter { stations[$0 % 3] == station }.map { "\(station)/m\($0)" }
            }
            let expectedMeters = stations.sorted().flatMap { station in
                (0..<30).filter { stations[$0 % 3] == station }.map { "\(station)/\($0)" }
            }
            #expect(messageOrder == expectedMessages)
            #expect(meterOrder == expectedMeters)
            let recent = try await recorder.recent(stationID: "CP-B", limit: 3)
            #expect(recent.map(\.messageId) == ["m29", "m26", "m23"])
        }
    }
}
