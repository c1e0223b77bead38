import Foundation

extension KeyValueStore {
    /// Sets `key` inside the caller's write transaction, so that the key and the caller's own rows
    /// commit (or vanish) together.
    public static func set(_ key: String, _ value: [UInt8], expiresAt: Date?, in connection: Connection) throws {
        try connection.run(
            """
            INSERT INTO key_value (key, value, expires_at) VALUES (?, ?, ?)
            ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
            """, key, value, expiresAt?.unixMilliseconds)
    }

    /// Replaces the value of `key` only while it is still exactly `expected` (and live): a
    /// compare-and-set, so that of several callers taking over the same entry one wins.
    public func replace(
        _ key: String, ifValueIs expected: [UInt8], with value: [UInt8], ttl: Duration? = nil
    ) async throws -> Bool {
        let now = Date()
        let expiresAt = ttl.map { now.addingTimeInterval(Double($0.components.seconds)).unixMilliseconds }
        return try await database.write { connection in
            try connection.run(
                """
                UPDATE key_value SET value = ?, expires_at = ?
                WHERE key = ? AND value = ? AND (expires_at IS NULL OR expires_at > ?)
                """, value, expiresAt, key, expected, now.unixMilliseconds) == 1
        }
    }

    /// The live keys that start with `prefix`, with their values.
    public func entries(withPrefix prefix: String) async throws -> [(key: String, value: [UInt8])] {
        let now = Date().unixMilliseconds
        // A range on the primary key rather than LIKE, which would treat `_` and `%` in the prefix as wildcards.
        return try await database.read { connection in
            try connection.query(
                """
                SELECT key, value FROM key_value
                WHERE key >= ? AND key < ? AND (expires_at IS NULL OR expires_at > ?)
                """, prefix, prefix + "\u{10FFFF}", now
            ) { row in (key: try row.get(0, as: String.self), value: try row.get(1, as: [UInt8].self)) }
        }
    }
}
