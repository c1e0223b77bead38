import Foundation
import Synchronization
import Testing

@testable import Storage

@Suite("Transactions and concurrency")
struct TransactionTests {
    private func count(_ database: Database, _ table: String = "parents") async throws -> Int {
        try await database.read { try $0.queryFirst("SELECT count(*) FROM \(table)") { try $0.get(0, as: Int.self) } ?? -1 }
    }

    @Test("a write that throws leaves nothing behind")
    func rollbackOnThrow() async throws {
        try await withDatabase { database, _ async throws in
            await #expect(throws: Boom.self) {
                try await database.write { connection in
                    try connection.run("INSERT INTO parents (id, name) VALUES (?, ?)", "p1", "Ada")
                    throw Boom()
                }
            }
            #expect(try await count(database) == 0)
        }
    }

    @Test("a nested transaction that throws rolls back only itself")
    func nestedSavepoints() async throws {
        try await withDatabase { database, _ async throws in
            try await database.write { connection in
                try connection.run("INSERT INTO parents (id, name) VALUES (?, ?)", "outer", "Outer")
                do {
                    try connection.transaction {
                        try connection.run("INSERT INTO parents (id, name) VALUES (?, ?)", "inner", "Inner")
                        try connection.transaction {
                            try connection.run("INSERT INTO parents (id, name) VALUES (?, ?)", "innermost", "Innermost")
                        }
                        throw Boom()
                    }
                } catch is Boom {}
                try connection.transaction {
                    try connection.run("INSERT INTO parents (id, name) VALUES (?, ?)", "second", "Second")
                }
            }
            let ids = try await database.read { try $0.query("SELECT id FROM parents ORDER BY id") { try $0.get(0, as: String.self) } }
            #expect(ids == ["outer", "second"])
        }
    }

    @Test("writes committed together stay independent: one failure does not undo the others")
    func groupCommitIsolation() async throws {
        try await withDatabase { database, _ async throws in
            let results = await withTaskGroup(of: Bool.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        do {
                            try await database.write { connection in
                                try connection.run(
                                    "INSERT INTO parents (id, name) VALUES (?, ?)", "p\(index)", "name \(index)")
                                if index % 10 == 0 { throw Boom() }
                            }
                            return true
                        } catch {
                            return false
                        }
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(results.filter { $0 }.count == 180)
            #expect(try await count(database) == 180)
            let failedStored = try await database.read {
                try $0.queryFirst("SELECT count(*) FROM parents WHERE id = 'p10' OR id = 'p0'") { try $0.get(0, as: Int.self) }
            }
            #expect(failedStored == 0)
        }
    }

    @Test("readers answer from their snapshot while a long write is in progress")
    func readersDuringLongWrite() async throws {
        try await withDatabase { database, _ async throws in
            try await database.write { try $0.run("INSERT INTO parents (id, name) VALUES (?, ?)", "before", "Before") }
            let writeStarted = AsyncStream<Void>.makeStream()
            let readAnswered = DispatchSemaphore(value: 0)
            let answeredWhileWriteOpen = Mutex(false)
            let longWrite = Task {
                try await database.write { connection in
                    try connection.run("INSERT INTO parents (id, name) VALUES (?, ?)", "during", "During")
                    writeStarted.continuation.yield()
                    // The transaction stays open until the reader has answered; a reader that waited
                    // for the writer would only get through after this gives up.
                    let answered = readAnswered.wait(timeout: .now() + 30) == .success
                    answeredWhileWriteOpen.withLock { $0 = answered }
                }
            }
            for await _ in writeStarted.stream { break }
            let seen = try await count(database)
            readAnswered.signal()
            try await longWrite.value
            #expect(answeredWhileWriteOpen.withLock { $0 }, "the read did not wait for the writer")
            #expect(seen == 1, "the uncommitted row is not visible")
            #expect(try await count(database) == 2)
        }
    }

    @Test("a write acknowledged before close is in the file after reopening")
    func durableAcrossReopen() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        let path = directory.file("durable.sqlite")
        let first = try await Database.open(path: path, migrations: testSchema)
        try await first.write { try $0.run("INSERT INTO parents (id, name) VALUES (?, ?)", "kept", "Kept") }
        await first.close()
        await #expect(throws: DatabaseClosedError.self) { try await first.read { _ in 1 } }
        let second = try await Database.open(path: path, migrations: testSchema)
        #expect(try await count(second) == 1)
        await second.close()
    }
}

@Suite("Background writes")
struct BackgroundWriteTests {
    @Test("a take returns every foreground job waiting and one background job; more of that lane's backlog when it falls behind, less beside requests")
    func queueOrder() {
        let queue = JobQueue<String>()
        for index in 0..<3 { #expect(queue.push("bg\(index)", background: true)) }
        #expect(queue.push("fg1"))
        #expect(queue.push("fg2"))
        // A short background lane: one job per batch, so a request waits behind one chunk at most.
        #expect(queue.take(maximum: 512) == ["fg1", "fg2", "bg0"])
        #expect(queue.take(maximum: 512) == ["bg1"])
        #expect(queue.push("fg3"))
        #expect(queue.take(maximum: 1) == ["fg3"])
        #expect(queue.take(maximum: 512) == ["bg2"])
        // A lane that has fallen behind (40 waiting): beside a request 1 + 40/16 jobs, then alone
        // 1 + 37/4.
        for index in 3..<43 { #expect(queue.push("bg\(index)", background: true)) }
        #expect(queue.push("fg4"))
        #expect(queue.take(maximum: 512) == ["fg4"] + (3..<6).map { "bg\($0)" })
        #expect(queue.take(maximum: 512) == (6..<16).map { "bg\($0)" })
        queue.close()
        #expect(queue.push("late") == false)
        var drained: [String] = []
        while let jobs = queue.take(maximum: 512) { drained += jobs }
        #expect(drained == (16..<43).map { "bg\($0)" })
    }

    @Test("writeAll queues its chunks in order, commits each, and reports the first failure without losing the others")
    func writeAllChunks() async throws {
        try await withDatabase { database, _ async throws in
            let chunks: [@Sendable (Connection) throws -> Void] = (0..<40).map { index in
                { connection in try connection.run("INSERT INTO parents (id, name) VALUES (?, ?)", "p\(index)", "n\(index)") }
            }
            try await database.writeAll(background: true, chunks)
            let names = try await database.read { connection in
                try connection.query("SELECT name FROM parents ORDER BY rowid") { try $0.get(0, as: String.self) }
            }
            #expect(names == (0..<40).map { "n\($0)" })
            let duplicate: @Sendable (Connection) throws -> Void = { try $0.run("INSERT INTO parents (id, name) VALUES ('p0', 'again')") }
            let fresh: @Sendable (Connection) throws -> Void = { try $0.run("INSERT INTO parents (id, name) VALUES ('p40', 'n40')") }
            await #expect(throws: (any Error).self) { try await database.writeAll(background: true, [duplicate, fresh]) }
            let count = try await database.read { try $0.queryFirst("SELECT count(*) FROM parents") { try $0.get(0, as: Int.self) } }
            #expect(count == 41, "the chunk after the failed one still committed")
        }
    }

    @Test("background writes commit like any other")
    func backgroundWritesCommit() async throws {
        try await withDatabase { database, _ async throws in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<50 {
                    group.addTask {
                        _ = try await database.write(background: index % 2 == 0) { connection in
                            try connection.run("INSERT INTO parents (id, name) VALUES (?, ?)", "p\(index)", "n\(index)")
                        }
                    }
                }
                try await group.waitForAll()
            }
            let count = try await database.read { try $0.queryFirst("SELECT count(*) FROM parents") { try $0.get(0, as: Int.self) } }
            #expect(count == 50)
        }
    }
}
