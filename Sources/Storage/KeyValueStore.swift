import Foundation

/// Keys with optional expiry in a table of their own: what the old design kept in Redis (rate-limit
/// counters, idempotency keys, short-lived caches). Values survive a restart. An expired key is
/// invisible at once, and `sweepExpired` removes it later.
public struct KeyValueStore: Sendable {
    /// The table's schema, for the application's migration list.
    public static let schemaSQL = """
            CREATE TABLE key_value (
                key TEXT PRIMARY KEY NOT NULL,
                value BLOB NOT NULL,
                expires_at INTEGER
            ) WITHOUT ROWID;
            CREATE INDEX key_value_expiry ON key_value (expires_at) WHERE expires_at IS NOT NULL;
            """

    public let database: Database
    private let now: @Sendable () -> Date

    public init(database: Database, now: @escaping @Sendable () -> Date = Date.init) {
        self.database = database
        self.now = now
    }

    public func get(_ key: String) async throws -> [UInt8]? {
        let now = now().unixMilliseconds
        return try await database.read { connection in
            try Self.liveValue(key, now: now, in: connection)
        }
    }

    public func getString(_ key: String) async throws -> String? {
        try await get(key).map { String(decoding: $0, as: UTF8.self) }
    }

    public func set(_ key: String, _ value: [UInt8], ttl: Duration? = nil) async throws {
        let expiresAt = expiry(ttl)
        _ = try await database.write { connection in
            try connection.run(
                """
                INSERT INTO key_value (key, value, expires_at) VALUES (?, ?, ?)
                ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
                """, key, value, expiresAt)
        }
    }

    public func set(_ key: String, _ value: String, ttl: Duration? = nil) async throws {
        try await set(key, Array(value.utf8), ttl: ttl)
    }

    /// True when a live key was deleted.
    @discardableResult
    public func delete(_ key: String) async throws -> Bool {
        let now = now().unixMilliseconds
        return try await database.write { connection in
            let live = try Self.liveValue(key, now: now, in: connection) != nil
            try connection.run("DELETE FROM key_value WHERE key = ?", key)
            return live
        }
    }

    /// Adds `amount` to the integer stored at `key` (a missing or expired key counts as 0) and
    /// returns the new value. `ttl` applies only when the key is created, so a window that starts
    /// at the first hit ends on time however often it is hit — what a rate limit needs.
    public func increment(_ key: String, by amount: Int64 = 1, ttl: Duration? = nil) async throws -> Int64 {
        let now = now()
        let expiresAt = expiry(ttl, from: now)
        return try await database.write { connection in
            let nowMilliseconds = now.unixMilliseconds
            if let current = try Self.liveValue(key, now: nowMilliseconds, in: connection) {
                guard let number = Int64(String(decoding: current, as: UTF8.self)) else {
                    throw KeyValueTypeError(key: key)
                }
                let (next, overflow) = number.addingReportingOverflow(amount)
                guard !overflow else { throw KeyValueTypeError(key: key) }
                try connection.run("UPDATE key_value SET value = ? WHERE key = ?", Array(String(next).utf8), key)
                return next
            }
            try connection.run(
                """
                INSERT INTO key_value (key, value, expires_at) VALUES (?, ?, ?)
                ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
                """, key, Array(String(amount).utf8), expiresAt)
            return amount
        }
    }

    /// Stores the value only if the key is absent or expired; true when it was stored.
    public func setIfAbsent(_ key: String, _ value: [UInt8], ttl: Duration? = nil) async throws -> Bool {
        let now = now()
        let expiresAt = expiry(ttl, from: now)
        return try await database.write { connection in
            try connection.run(
                """
                INSERT INTO key_value (key, value, expires_at) VALUES (?, ?, ?)
                ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
                WHERE key_value.expires_at IS NOT NULL AND key_value.expires_at <= ?
                """, key, value, expiresAt, now.unixMilliseconds) == 1
        }
    }

    public func setIfAbsent(_ key: String, _ value: String, ttl: Duration? = nil) async throws -> Bool {
        try await setIfAbsent(key, Array(value.utf8), ttl: ttl)
    }

    /// Seconds until `key` expires; nil when it has no expiry or does not exist.
    public func timeToLive(_ key: String) async throws -> Duration? {
        let now = now().unixMilliseconds
        let expiresAt = try await database.read { connection in
            try connection.queryFirst(
                "SELECT expires_at FROM key_value WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)",
                key, now
            ) { try $0.get(0, as: Int64?.self) }
        }
        guard let expiresAt = expiresAt ?? nil else { return nil }
        return .milliseconds(expiresAt - now)
    }

    /// Deletes expired keys; returns how many.
    @discardableResult
    public func sweepExpired() async throws -> Int {
        let now = now().unixMilliseconds
        return try await database.write { connection in
            try connection.run("DELETE FROM key_value WHERE expires_at IS NOT NULL AND expires_at <= ?", now)
        }
    }

    private static func liveValue(_ key: String, now: Int64, in connection: Connection) throws -> [UInt8]? {
        try connection.queryFirst(
            "SELECT value FROM key_value WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)", key, now
        ) { try $0.get(0, as: [UInt8].self) }
    }

    private func expiry(_ ttl: Duration?, from date: Date? = nil) -> Int64? {
        guard let ttl else { return nil }
        let base = (date ?? now()).unixMilliseconds
        let (seconds, attoseconds) = ttl.components
        return base + seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

public struct KeyValueTypeError: Error, Sendable, CustomStringConvertible {
    public let key: String
    public var description: String { "the value at '\(key)' is not an integer that can be incremented" }
}
