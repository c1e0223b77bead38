import Foundation
import Synchronization
import Testing

@testable import Storage

@Suite("Write attribution")
struct WriteAttributionTests {
    /// A trigger that copies `write_attribution()` beside each sample, as the audit triggers do.
    private static let schema = testSchema + [
        Migration(
            version: 3, name: "attributed",
            sql: """
                CREATE TABLE attributed (sample_id INTEGER NOT NULL, attribution TEXT);
                CREATE TRIGGER samples_attributed AFTER INSERT ON samples WHEN write_attribution() IS NOT NULL
                BEGIN
                    INSERT INTO attributed (sample_id, attribution) VALUES (NEW.id, write_attribution());
                END;
                """)
    ]

    private func attributed(_ database: Database) async throws -> [String] {
        try await database.read { connection in
            try connection.query("SELECT sample_id || '=' || attribution FROM attributed ORDER BY sample_id") {
                try $0.get(0, as: String.self)
            }
        }
    }

    @Test("each write in one batch sees its own caller's attribution, and none after it; a write without one fires nothing")
    func perWriteInABatch() async throws {
        try await withDatabase(migrations: Self.schema) { database, _ async throws in
            // Hold the writer so the writes below queue up and commit as one batch.
            let gate = DispatchSemaphore(value: 0)
            let held = Atomic(false)
            let blocker = Task {
                try await database.write { _ in
                    held.store(true, ordering: .sequentiallyConsistent)
                    gate.wait()
                }
            }
            while !held.load(ordering: .sequentiallyConsistent) { await Task.yield() }
            var tasks: [Task<String?, any Error>] = []
            for (id, attribution) in [(1, "alice"), (2, nil), (3, "bob")] as [(Int, String?)] {
                let queued = database.queuedWriteCount
                tasks.append(
                    Task {
                        try await WriteAttribution.$current.withValue(attribution) {
                            try await database.write { connection in
                                try connection.run("INSERT INTO samples (id) VALUES (?)", id)
                                return try connection.queryFirst("SELECT write_attribution()") { try $0.get(0, as: String?.self) } ?? nil
                            }
                        }
                    })
                while database.queuedWriteCount == queued { await Task.yield() }
            }
            gate.signal()
            try await blocker.value
            var seen: [String?] = []
            for task in tasks { seen.append(try await task.value) }
            #expect(seen == ["alice", nil, "bob"])
            #expect(try await attributed(database) == ["1=alice", "3=bob"])
            let after = try await database.write { connection in
                try connection.queryFirst("SELECT write_attribution()") { try $0.get(0, as: String?.self) } ?? nil
            }
            #expect(after == nil, "cleared after the attributed write")
        }
    }

    @Test("a write that throws takes its trigger's rows with it")
    func failedWriteLeavesNothing() async throws {
        struct Refused: Error {}
        try await withDatabase(migrations: Self.schema) { database, _ async throws in
            await #expect(throws: Refused.self) {
                try await WriteAttribution.$current.withValue("carol") {
                    try await database.write { connection in
                        try connection.run("INSERT INTO samples (id) VALUES (?)", 7)
                        throw Refused()
                    }
                }
            }
            #expect(try await attributed(database).isEmpty)
            try await WriteAttribution.$current.withValue("dave") {
                try await database.writeAll([{ try $0.run("INSERT INTO samples (id) VALUES (?)", 8) }])
            }
            #expect(try await attributed(database) == ["8=dave"])
        }
    }
}
