import Foundation
import Storage

/// A database in a fresh temporary directory, removed when the test is done.
struct TestDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "csms-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

let testSchema: [Migration] = [
    Migration(version: 1, name: "key_value", sql: KeyValueStore.schemaSQL),
    Migration(
        version: 2, name: "samples",
        sql: """
            CREATE TABLE samples (
                id INTEGER PRIMARY KEY,
                text_value TEXT,
                blob_value BLOB,
                int_value INTEGER,
                real_value REAL
            );
            CREATE TABLE parents (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE);
            CREATE TABLE children (
                id TEXT PRIMARY KEY,
                parent_id TEXT NOT NULL REFERENCES parents (id),
                age INTEGER CHECK (age >= 0)
            );
            CREATE TABLE gadgets (
                id TEXT PRIMARY KEY NOT NULL,
                version INTEGER NOT NULL,
                name TEXT NOT NULL,
                power_kw INTEGER NOT NULL,
                created_at INTEGER NOT NULL
            );
            """),
]

func withDatabase<T>(
    migrations: [Migration] = testSchema, options: Database.Options = .init(),
    _ body: (Database, TestDirectory) async throws -> T
) async throws -> T {
    let directory = try TestDirectory()
    defer { directory.remove() }
    let database = try await Database.open(path: directory.file("test.sqlite"), migrations: migrations, options: options)
    do {
        let result = try await body(database, directory)
        await database.close()
        return result
    } catch {
        await database.close()
        throw error
    }
}

struct Boom: Error {}
