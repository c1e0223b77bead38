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

    @Test("a write that fills the database mid-batch fails the writes SQLite rolled back with it; the rest commit in a fresh transaction")
    func fullMidBatch() async throws {
        try await withDatabase(options: .init(maximumPageCount: 64)) { database, _ async throws in
            // Hold the writer so the next three writes wait in the queue and run as one batch.
            let gate = DispatchSemaphore(value: 0)
            let writerHeld = Atomic(false)
            let blocker = Task {
                try await database.write { _ in
                    writerHeld.store(true, ordering: .sequentiallyConsistent)
                    gate.wait()
                }
            }
            await waitUntil { writerHeld.load(ordering: .sequentiallyConsistent) }

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
            gate.signal()
            try await blocker.value

            let beforeError = await #expect(throws: SQLiteError.self) { try await before.value }
            #expect(beforeError?.kind == .full)
            let tooBigError = await #expect(throws: SQLiteError.self) { try await tooBig.value }
            #expect(tooBigError?.kind == .full)
            await #expect(throws: Never.self) { try await after.value }
            // Acknowledged exactly when committed: the write lost with the transaction is not there.
            #expect(try await sampleIDs(database) == [3])

            try await database.write { try $0.run(Self.insertSample, 4, [UInt8](repeating: 7, count: 10)) }
            #expect(try await sampleIDs(database) == [3, 4])
            #expect(try await database.integrityCheck().ok)
        }
    }

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
