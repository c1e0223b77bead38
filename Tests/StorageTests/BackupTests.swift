import Foundation
import Storage
import Testing

@Suite("Backup and integrity")
struct BackupTests {
    @Test("a backup taken while writes continue opens, passes the integrity check and holds the data")
    func backupWhileWriting() async throws {
        try await withDatabase { database, directory async throws in
            for index in 0..<100 {
                try await database.write { try $0.run("INSERT INTO parents (id, name) VALUES (?, ?)", "p\(index)", "n\(index)") }
            }
            let writer = Task {
                for index in 100..<300 {
                    try await database.write { try $0.run("INSERT INTO parents (id, name) VALUES (?, ?)", "p\(index)", "n\(index)") }
                }
            }
            let copyPath = directory.file("copy.sqlite")
            try await database.backup(to: copyPath)
            try await writer.value

            let copy = try await Database.open(path: copyPath, migrations: testSchema, migrate: false)
            let report = try await copy.integrityCheck()
            #expect(report.ok)
            let rows = try await copy.read { try $0.queryFirst("SELECT count(*) FROM parents") { try $0.get(0, as: Int.self) } } ?? 0
            #expect(rows >= 100 && rows <= 300)
            let version = try await copy.read { try Migrator.currentVersion(of: $0) }
            #expect(version == 2)
            await copy.close()
        }
    }

    @Test("the integrity check reports a dangling foreign key")
    func integrityFindsForeignKeyProblems() async throws {
        try await withDatabase { database, directory async throws in
            // The pragma is a no-op inside a transaction, so a raw connection of its own plants the orphan.
            let raw = try Connection(path: directory.file("test.sqlite"), mode: .readWrite)
            try raw.execute("PRAGMA foreign_keys = OFF")
            try raw.run("INSERT INTO children (id, parent_id) VALUES (?, ?)", "orphan", "nobody")
            raw.close()
            let report = try await database.integrityCheck()
            #expect(!report.ok)
            #expect(report.problems.contains { $0.contains("children") && $0.contains("parents") })
        }
    }
}
