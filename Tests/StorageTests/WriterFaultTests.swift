import Foundation
import Synchronization
import Testing

@testable import Storage

@Suite("Writer faults")
struct WriterFaultTests {
    private static let insertSample = "INSERT INTO samples (id, blob_value) VALUES (?, ?)"

    private func sampleIDs(_ database: Database) async throws -> [Int] {
        try await database.read { try $0.query("SELECT id FROM samples ORDER BY id") { try $0.get(0, as: Int.self) } }
    }

    /// Waits (without a clock) until `condition` holds.
    private func waitUntil(_ condition: () -> Bool) async {
        while !condition() { await Task.yield() }
    }

    /// Occupies the writer until the returned function is called, so the writes queued meanwhile
    /// run as one batch.
    private func holdWriter(_ database: Database) async -> @Sendable () async throws -> Void {
        let gate = DispatchSemaphore(value: 0)
        let writerHeld = Atomic(false)
        let blocker = Task {
            try await database.write { _ in
                writerHeld.store(true, ordering: .sequentiallyConsistent)
                gate.wait()
            }
        }
        await waitUntil { writerHeld.load(ordering: .sequentiallyConsistent) }
        return {
            gate.signal()
            try await blocker.value
        }
    }

    @Test("a write that fills the database mid-batch fails alone: the writes SQLite rolled back with it run again and commit")
    func fullMidBatch() async throws {
        try await withDatabase(options: .init(maximumPageCount: 64)) { database, _ async throws in
            // Hold the writer so the next three writes wait in the queue and run as one batch.
            let release = await holdWriter(database)

            func enqueue(id: Int, bytes: Int) async -> Task<Int, any Error> {
                let queuedBefore = database.queuedWriteCount
                let task = Task {
                    try await database.write { try $0.run(Self.insertSample, id, [UInt8](repeating: 7, count: bytes)) }
                }
                await waitUntil { database.queuedWriteCount > queuedBefore }
                return task
            }
            let before = await enqueue(id: 1, bytes: 10)
            // 1 MiB does not fit in 64 pages: SQLITE_FULL, and SQLite rolls back the whole transaction.
            let tooBig = await enqueue(id: 2, bytes: 1 << 20)
            let after = await enqueue(id: 3, bytes: 10)
            try await release()

            await #expect(throws: Never.self) { try await before.value }
            let tooBigError = await #expect(throws: SQLiteError.self) { try await tooBig.value }
            #expect(tooBigError?.kind == .full)
            await #expect(throws: Never.self) { try await after.value }
            #expect(try await sampleIDs(database) == [1, 3])

            try await database.write { try $0.run(Self.insertSample, 4, [UInt8](repeating: 7, count: 10)) }
            #expect(try await sampleIDs(database) == [1, 3, 4])
            #expect(try await database.integrityCheck().ok)
        }
    }

    @Test("a write that throws mid-batch is undone alone; the writes before and after it in the same commit are kept")
    func throwMidBatch() async throws {
        try await withDatabase { database, _ async throws in
            let release = await holdWriter(database)

            func enqueue(id: Int, throwing: Bool) async -> Task<Void, any Error> {
                let queuedBefore = database.queuedWriteCount
                let task = Task {
                    try await database.write { connection in
                        try connection.run(Self.insertSample, id, [UInt8](repeating: 7, count: 10))
                        if throwing { throw Refused() }
                    }
                }
                await waitUntil { database.queuedWriteCount > queuedBefore }
                return task
            }
            let before = await enqueue(id: 1, throwing: false)
            let refused = await enqueue(id: 2, throwing: true)
            let after = await enqueue(id: 3, throwing: false)
            try await release()

            await #expect(throws: Never.self) { try await before.value }
            await #expect(throws: Refused.self) { try await refused.value }
            await #expect(throws: Never.self) { try await after.value }
            #expect(try await sampleIDs(database) == [1, 3])
        }
    }

    private struct Refused: Error {}

    @Test("the page budget shrinks as the database fills, and freed pages count as room again")
    func pageBudget() async throws {
        try await withDatabase(options: .init(maximumPageCount: 200)) { database, _ async throws in
            let empty = try await database.pageBudget()
            #expect(empty.maximumPages == 200)
            #expect(empty.availableBytes == (200 - empty.usedPages) * empty.pageSize)
            try await database.write { try $0.run(Self.insertSample, 1, [UInt8](repeating: 1, count: 100 * 4096)) }
            let filled = try await database.pageBudget()
            #expect(filled.availableBytes <= empty.availableBytes - 100 * 4096)
            try await database.write { try $0.run("DELETE FROM samples") }
            #expect(try await database.pageBudget().availableBytes >= empty.availableBytes)
        }
    }
}
