import Foundation
import Storage
import Testing

@Suite("Migrations")
struct MigrationTests {
    private func userVersion(_ database: Database) async throws -> Int {
        try await database.read { try Migrator.currentVersion(of: $0) }
    }

    @Test("a fresh database gets every migration and user_version records the last")
    func freshDatabase() async throws {
        try await withDatabase { database, _ async throws in
            #expect(try await userVersion(database) == 2)
            let tables = try await database.read {
                try $0.query("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name") { try $0.get(0, as: String.self) }
            }
            #expect(tables == ["children", "gadgets", "key_value", "parents", "samples"])
            let journal = try await database.read { try $0.queryFirst("PRAGMA journal_mode") { try $0.get(0, as: String.self) } }
            #expect(journal == "wal")
        }
    }

    @Test("re-running the migrations is a no-op; a later build adds only its new ones")
    func rerunAndUpgrade() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        let path = directory.file("m.sqlite")
        let first = try await Database.open(path: path, migrations: Array(testSchema.prefix(1)))
        #expect(try await userVersion(first) == 1)
        try await first.write { try $0.run("INSERT INTO key_value (key, value) VALUES (?, ?)", "k", [UInt8]([1])) }
        await first.close()

        let upgraded = try await Database.open(path: path, migrations: testSchema)
        #expect(try await userVersion(upgraded) == 2)
        await upgraded.close()

        let again = try await Database.open(path: path, migrations: testSchema)
        #expect(try await userVersion(again) == 2)
        let kept = try await again.read { try $0.queryFirst("SELECT count(*) FROM key_value") { try $0.get(0, as: Int.self) } }
        #expect(kept == 1)
        await again.close()
    }

    @Test("a database from a newer schema is refused with a message naming both versions")
    func newerSchemaRefused() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        let path = directory.file("new.sqlite")
        let database = try await Database.open(path: path, migrations: testSchema)
        try await database.write { try $0.execute("PRAGMA user_version = 7") }
        await database.close()

        let error = await #expect(throws: SchemaTooNewError.self) {
            try await Database.open(path: path, migrations: testSchema)
        }
        #expect(error?.databaseVersion == 7)
        #expect(error?.supportedVersion == 2)
        #expect(error?.description.contains("newer version") == true)
    }

    @Test("a migration that fails leaves the schema and user_version as they were")
    func failedMigrationRollsBack() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        let path = directory.file("broken.sqlite")
        let broken = testSchema + [
            Migration(version: 3, name: "broken", sql: "CREATE TABLE half_done (id INTEGER); SELECT no_such_function();")
        ]
        await #expect(throws: SQLiteError.self) { try await Database.open(path: path, migrations: broken) }
        let database = try await Database.open(path: path, migrations: testSchema)
        #expect(try await userVersion(database) == 2)
        let halfDone = try await database.read {
            try $0.queryFirst("SELECT count(*) FROM sqlite_schema WHERE name = 'half_done'") { try $0.get(0, as: Int.self) }
        }
        #expect(halfDone == 0)
        await database.close()
    }

    @Test("a file that is not a database is reported as such at open")
    func notADatabase() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        let path = directory.file("garbage.sqlite")
        _ = FileManager.default.createFile(atPath: path, contents: Data(repeating: 0x42, count: 8192))
        let error = await #expect(throws: SQLiteError.self) { try await Database.open(path: path, migrations: testSchema) }
        #expect(error?.kind == .notADatabase)
    }
}
