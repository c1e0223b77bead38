import Foundation
import Storage
import Testing

@testable import Server

@Suite("Session indexes (schema 9)")
struct SessionIndexTests {
    private func withDatabase<T>(
        migrations: [Migration] = Schema.migrations, _ body: (Database, String) async throws -> T
    ) async throws -> T {
        let path = NSTemporaryDirectory() + "csms-schema-test-" + UUID().uuidString + ".sqlite"
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let database = try await Database.open(path: path, migrations: migrations)
        let result = try await body(database, path)
        await database.close()
        return result
    }

    private func plan(_ database: Database, _ sql: String) async throws -> String {
        try await database.read { connection in
            try connection.query("EXPLAIN QUERY PLAN " + sql) { try $0.get(3, as: String.self) }.joined(separator: "; ")
        }
    }

    @Test("the lookups of open sessions and the listing by station use the indexes made for them")
    func queryPlans() async throws {
        try await withDatabase { database, _ in
            let onConnector = try await plan(
                database, "SELECT * FROM charging_sessions WHERE station_id = 'CP1' AND connector_id = 1 AND status = 'active'")
            #expect(onConnector.contains("charging_sessions_active"), "\(onConnector)")
            let onStation = try await plan(
                database,
                "SELECT transaction_id FROM charging_sessions INDEXED BY charging_sessions_active WHERE station_id = 'CP1' AND status = 'active'")
            #expect(onStation.contains("charging_sessions_active"), "\(onStation)")
            let byTag = try await plan(
                database, "SELECT count(*) FROM charging_sessions WHERE id_tag = 'tag' COLLATE NOCASE AND status = 'active'")
            #expect(byTag.contains("charging_sessions_tag_active"), "\(byTag)")
            let listing = try await plan(
                database, "SELECT * FROM charging_sessions WHERE station_id = 'CP1' ORDER BY started_at DESC, id DESC LIMIT 20")
            #expect(listing.contains("charging_sessions_station"), "\(listing)")
        }
    }

    @Test("upgrading to schema 9 rewrites each stored start key, so a start retried across the upgrade finds its session")
    func startKeysRewritten() async throws {
        let started = Date(timeIntervalSince1970: 1_795_000_000.123)
        try await withDatabase(migrations: Array(Schema.migrations.prefix(8))) { database, path in
            try await database.write { connection in
                try connection.run(
                    """
                    INSERT INTO stations (id, version, name, status, ocpp_version, registration, created_at, updated_at)
                    VALUES ('CP-7', 1, 'CP-7', 'active', '1.6', 'accepted', 0, 0)
                    """)
                // Keys as version 8 made them (station|connector|idTag|start|meterStart); this tag holds a "|".
                // Two of interest, then enough more that the rewrite crosses a page (1,000 rows).
                let filler = (3...1_205).map { ("s\($0)", $0, "T\($0)") }
                for (id, transaction, tag) in [("s1", 1, "TAG|ONE"), ("s2", 2, "TWO")] + filler {
                    try connection.run(
                        """
                        INSERT INTO charging_sessions (id, version, transaction_id, start_key, station_id, connector_id, id_tag,
                            started_at, meter_start_wh, energy_wh, status, flags, created_at, updated_at)
                        VALUES (?, 1, ?, ?, 'CP-7', 2, ?, ?, -5, 0, 'active', '[]', 0, 0)
                        """, id, transaction, "CP-7|2|\(tag)|\(started.unixMilliseconds)|-5", tag, started)
                }
            }
            await database.close()
            let upgraded = try await Database.open(path: path, migrations: Schema.migrations)
            let keys = try await upgraded.read { connection in
                try connection.query("SELECT id_tag, start_key FROM charging_sessions ORDER BY transaction_id") {
                    (try $0.get(0, as: String.self), try $0.get(1, as: String.self))
                }
            }
            await upgraded.close()
            #expect(keys.count == 1_205)
            #expect(keys.prefix(2).map(\.0) == ["TAG|ONE", "TWO"])
            let wrong = keys.filter { tag, key in
                key != ChargingSession.startKey(stationID: "CP-7", connectorID: 2, idTag: tag, startedAt: started, meterStartWh: -5)
            }
            #expect(wrong.isEmpty, "\(wrong.prefix(3))")
        }
    }
}
