import Foundation
import Storage
import Testing

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
            let longWrite = Task {
                try await database.write { connection in
                    try connection.run("INSERT INTO parents (id, name) VALUES (?, ?)", "during", "During")
                    writeStarted.continuation.yield()
                    Thread.sleep(forTimeInterval: 0.5)
                }
            }
            for await _ in writeStarted.stream { break }
            let clock = ContinuousClock()
            var seen = -1
            let elapsed = try await clock.measure { seen = try await count(database) }
            #expect(seen == 1, "the uncommitted row is not visible")
            #expect(elapsed < .milliseconds(400), "the read did not wait for the writer")
            try await longWrite.value
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
    @Test("a foreground write is not held up behind a queue of background writes")
    func foregroundFirst() async throws {
        try await withDatabase { database, _ async throws in
            // Occupy the writer so that everything below queues up behind it.
            let blocker = Task { try await database.write { _ in Thread.sleep(forTimeInterval: 0.2) } }
            try await Task.sleep(for: .milliseconds(50))
            let background = (0..<20).map { index in
                Task {
                    try await database.write(background: true) { connection in
                        Thread.sleep(forTimeInterval: 0.02)
                        try connection.run("INSERT INTO parents (id, name) VALUES (?, ?)", "bg\(index)", "bg \(index)")
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(20))
            let clock = ContinuousClock()
            let elapsed = try await clock.measure {
                _ = try await database.write { try $0.run("INSERT INTO parents (id, name) VALUES (?, ?)", "fg", "fg") }
            }
            // Behind the blocker and at most one 20 ms background job, not all twenty (400 ms).
            #expect(elapsed < .milliseconds(300), "\(elapsed)")
            try await blocker.value
            for task in background { try await task.value }
            let count = try await database.read { try $0.queryFirst("SELECT count(*) FROM parents") { try $0.get(0, as: Int.self) } }
            #expect(count == 21)
        }
    }
}
