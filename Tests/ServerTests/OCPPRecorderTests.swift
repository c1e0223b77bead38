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
}
