import Foundation
import Testing

@testable import Storage

@Suite("File permissions")
struct FilePermissionTests {
    private func permissions(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    @Test("a new database and its WAL and shared-memory files are readable by the owner only")
    func newDatabaseIsOwnerOnly() async throws {
        try await withDatabase { database, directory async throws in
            try await database.write { try $0.run("INSERT INTO parents (id, name) VALUES ('p', 'P')") }
            for suffix in ["", "-wal", "-shm"] {
                #expect(try permissions(directory.file("test.sqlite" + suffix)) == 0o600, "test.sqlite\(suffix)")
            }
        }
    }

    @Test("an existing database readable by others is tightened when it is opened for writing")
    func existingDatabaseIsTightened() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        let path = directory.file("old.sqlite")
        for file in [path, path + "-wal"] {
            #expect(FileManager.default.createFile(atPath: file, contents: nil, attributes: [.posixPermissions: 0o644]))
        }
        let database = try await Database.open(path: path, migrations: testSchema)
        await database.close()
        #expect(try permissions(path) == 0o600)
    }

    @Test("a backup is readable by the owner only")
    func backupIsOwnerOnly() async throws {
        try await withDatabase { database, directory async throws in
            try await database.backup(to: directory.file("copy.sqlite"))
            #expect(try permissions(directory.file("copy.sqlite")) == 0o600)
        }
    }

    @Test("restricting a directory removes group and other access and keeps the owner's")
    func restrictDirectory() throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory.path)
        try OwnerOnlyFiles.restrict(directory.path)
        #expect(try permissions(directory.path) == 0o700)
        try OwnerOnlyFiles.restrict(directory.file("missing"))
    }
}
