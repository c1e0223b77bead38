/// One step of the schema. Versions start at 1 and increase by one.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    let apply: @Sendable (Connection) throws -> Void

    public init(version: Int, name: String, sql: String) {
        self.init(version: version, name: name) { try $0.execute(sql) }
    }

    public init(version: Int, name: String, apply: @escaping @Sendable (Connection) throws -> Void) {
        self.version = version
        self.name = name
        self.apply = apply
    }
}

/// Brings a database up to the latest schema. Each migration runs in its own transaction together
/// with the `PRAGMA user_version` that records it, so a crash leaves either all of it or none.
public struct Migrator: Sendable {
    public let migrations: [Migration]

    public init(migrations: [Migration]) {
        precondition(
            migrations.enumerated().allSatisfy { $0.offset + 1 == $0.element.version },
            "migration versions must be 1, 2, 3, … in order")
        self.migrations = migrations
    }

    public var latestVersion: Int { migrations.last?.version ?? 0 }

    public static func currentVersion(of connection: Connection) throws -> Int {
        try connection.queryFirst("PRAGMA user_version") { try $0.get(0, as: Int.self) } ?? 0
    }

    public func refuseNewerSchema(_ connection: Connection) throws {
        let version = try Self.currentVersion(of: connection)
        guard version <= latestVersion else {
            throw SchemaTooNewError(databaseVersion: version, supportedVersion: latestVersion, path: connection.path)
        }
    }

    /// Returns the versions before and after. Re-running on an up-to-date database does nothing.
    @discardableResult
    public func migrate(_ connection: Connection) throws -> (from: Int, to: Int) {
        try refuseNewerSchema(connection)
        let start = try Self.currentVersion(of: connection)
        for migration in migrations where migration.version > start {
            try connection.transaction(.immediate) {
                try migration.apply(connection)
                try connection.execute("PRAGMA user_version = \(migration.version)")
            }
        }
        return (start, latestVersion)
    }
}

public struct SchemaTooNewError: Error, Sendable, CustomStringConvertible {
    public let databaseVersion: Int
    public let supportedVersion: Int
    public let path: String

    public var description: String {
        "the database at \(path) has schema version \(databaseVersion), but this build supports up to "
            + "\(supportedVersion): it was written by a newer version of the server; run that version "
            + "or restore a backup"
    }
}
