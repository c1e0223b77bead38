import Foundation
import Testing

@testable import Storage

@Suite("WAL checkpoints")
struct CheckpointTests {
    @Test("checkpoints run on their own thread and keep the WAL bounded under a stream of writes")
    func walStaysBounded() async throws {
        try await withDatabase { database, directory async throws in
            let pageSize = try await database.read { try $0.queryFirst("PRAGMA page_size") { try $0.get(0, as: Int.self) } ?? 0 }
            let rowBytes = pageSize - 200
            // Three times the writer's own threshold in pages: without checkpoints the WAL would hold them all.
            let rowsPerWrite = 50
            let writes = 3 * Int(Checkpointer.writerThresholdFrames) / rowsPerWrite
            for _ in 0..<writes {
                try await database.write { connection in
                    for _ in 0..<rowsPerWrite {
                        try connection.run("INSERT INTO samples (blob_value) VALUES (?)", [UInt8](repeating: 7, count: rowBytes))
                    }
                }
            }
            let walBytes = try FileManager.default.attributesOfItem(atPath: directory.file("test.sqlite-wal"))[.size] as? Int ?? 0
            // The WAL restarts from its beginning after a checkpoint that caught up, so its file never
            // grows much beyond the writer's threshold plus one write.
            #expect(walBytes <= (Int(Checkpointer.writerThresholdFrames) + 4 * rowsPerWrite) * (pageSize + 24) + 32)
            let rows = try await database.read { try $0.queryFirst("SELECT count(*) FROM samples") { try $0.get(0, as: Int.self) } }
            #expect(rows == writes * rowsPerWrite)
            #expect(database.checkpointsCompleted >= 1)
        }
    }

    @Test("what a checkpoint moved into the main file is there after reopening")
    func checkpointedDataSurvivesReopen() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        let path = directory.file("test.sqlite")
        let database = try await Database.open(path: path, migrations: testSchema)
        for index in 0..<Int(Checkpointer.thresholdFrames) / 10 {
            try await database.write { connection in
                for _ in 0..<20 {
                    try connection.run("INSERT INTO samples (int_value, blob_value) VALUES (?, ?)", index, [UInt8](repeating: 1, count: 3000))
                }
            }
        }
        await database.close()
        let reopened = try await Database.open(path: path, migrations: testSchema)
        let rows = try await reopened.read { try $0.queryFirst("SELECT count(*) FROM samples") { try $0.get(0, as: Int.self) } }
        let report = try await reopened.integrityCheck()
        await reopened.close()
        #expect(rows == Int(Checkpointer.thresholdFrames) / 10 * 20)
        #expect(report.ok)
    }
}
