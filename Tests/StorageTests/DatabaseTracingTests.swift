import Foundation
import Synchronization
import Testing

@testable import Storage

/// Records what Storage tells a tracing hook, in order.
private final class RecordingTracing: DatabaseTracing {
    let jobs = Mutex<[RecordedJob]>([])

    func job(_ kind: DatabaseJobKind, file: StaticString, function: StaticString) -> (any DatabaseJobTrace)? {
        let job = RecordedJob(kind: kind, file: "\(file)")
        jobs.withLock { $0.append(job) }
        return job
    }

    var all: [RecordedJob] { jobs.withLock { $0 } }
}

private final class RecordedJob: DatabaseJobTrace {
    let kind: DatabaseJobKind
    let file: String
    let starts = Mutex<[Int]>([])
    let finishes = Mutex<[Bool]>([])

    init(kind: DatabaseJobKind, file: String) {
        self.kind = kind
        self.file = file
    }

    func started(batchSize: Int) { starts.withLock { $0.append(batchSize) } }
    func finished(_ error: (any Error)?) { finishes.withLock { $0.append(error != nil) } }

    var batchSizes: [Int] { starts.withLock { $0 } }
    /// For each `finished` call: whether it carried an error.
    var failures: [Bool] { finishes.withLock { $0 } }
}

@Suite("Database tracing hook")
struct DatabaseTracingTests {
    private struct Refused: Error {}

    private func waitUntil(_ condition: () -> Bool) async {
        while !condition() { await Task.yield() }
    }

    @Test("each write of a batch is traced with the batch's size and ends with its commit; a failed one ends with its error")
    func writeBatch() async throws {
        let tracing = RecordingTracing()
        try await withDatabase(options: .init(tracing: tracing)) { database, _ async throws in
            // Hold the writer so the next three writes wait in the queue and run as one batch.
            let gate = DispatchSemaphore(value: 0)
            let held = Atomic(false)
            let blocker = Task {
                try await database.write { _ in
                    held.store(true, ordering: .sequentiallyConsistent)
                    gate.wait()
                }
            }
            await waitUntil { held.load(ordering: .sequentiallyConsistent) }
            var writes: [Task<Void, any Error>] = []
            for (id, throwing) in [(1, false), (2, true), (3, false)] {
                let queuedBefore = database.queuedWriteCount
                writes.append(Task {
                    try await database.write { connection in
                        try connection.run("INSERT INTO samples (id, blob_value) VALUES (?, ?)", id, [UInt8](repeating: 1, count: 4))
                        if throwing { throw Refused() }
                    }
                })
                await waitUntil { database.queuedWriteCount > queuedBefore }
            }
            gate.signal()
            try await blocker.value
            for write in writes { _ = try? await write.value }

            let jobs = tracing.all
            #expect(jobs.count == 4)
            #expect(jobs.allSatisfy { $0.kind == .write && $0.file.hasSuffix("DatabaseTracingTests.swift") })
            #expect(jobs[0].batchSizes == [1])
            #expect(jobs[0].failures == [false])
            // The batch of three stopped at the failed write; the two good ones ran again in savepoints.
            #expect(jobs[1].batchSizes == [3, 2])
            #expect(jobs[2].batchSizes == [3])
            #expect(jobs[3].batchSizes == [2])
            #expect(jobs[1].failures == [false])
            #expect(jobs[2].failures == [true])
            #expect(jobs[3].failures == [false])
        }
    }

    @Test("a read is traced as a read of one, and ends once")
    func read() async throws {
        let tracing = RecordingTracing()
        try await withDatabase(options: .init(tracing: tracing)) { database, _ async throws in
            _ = try await database.read { try $0.queryFirst("SELECT 1") { try $0.get(0, as: Int.self) } }
            await #expect(throws: SQLiteError.self) {
                try await database.read { try $0.run("SELECT * FROM no_such_table") }
            }
            let jobs = tracing.all
            #expect(jobs.map(\.kind) == [.read, .read])
            #expect(jobs.map(\.batchSizes) == [[1], [1]])
            #expect(jobs.map(\.failures) == [[false], [true]])
        }
    }
}
