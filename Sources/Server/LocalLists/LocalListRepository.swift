import Foundation
import Storage

/// The stations' local lists: versions, the charger's answers, and the entries each holds.
struct LocalListRepository: Sendable {
    let database: Database

    func state(_ stationID: String) async throws -> LocalListState? {
        try await database.read { try Self.state(stationID, in: $0) }
    }

    /// What every station's list should hold: every card and key fob with its status, expiry and
    /// parent. App tokens are left out: they start charging through the server, never offline.
    func desiredEntries() async throws -> [LocalListEntry] {
        try await database.read { connection in
            try connection.query(
                "SELECT id, status, expires_at, parent_id_tag FROM id_tags WHERE kind != 'app' ORDER BY id"
            ) { row in
                LocalListEntry(
                    idTag: try row.get("id"), status: try row.get("status"), expiryDate: try row.get("expires_at"),
                    parentIdTag: try row.get("parent_id_tag"))
            }
        }
    }

    /// The entries the charger holds as of its confirmed version.
    func confirmedEntries(_ stationID: String) async throws -> [LocalListEntry] {
        try await database.read { connection in
            try connection.query(
                "SELECT id_tag, status, expiry_date, parent_id_tag FROM local_list_entries WHERE station_id = ? ORDER BY id_tag",
                stationID
            ) { row in
                LocalListEntry(
                    idTag: try row.get("id_tag"), status: try row.get("status"), expiryDate: try row.get("expiry_date"),
                    parentIdTag: try row.get("parent_id_tag"))
            }
        }
    }

    /// The station's next list version (1 for the first), kept as sent.
    func nextVersion(_ stationID: String, at: Date) async throws -> Int {
        try await database.write { connection in
            try connection.queryFirst(
                """
                INSERT INTO local_lists (station_id, version, updated_at) VALUES (?, 1, ?)
                ON CONFLICT (station_id) DO UPDATE SET version = version + 1, updated_at = excluded.updated_at
                RETURNING version
                """, stationID, at
            ) { try $0.get(0, as: Int.self) } ?? 1
        }
    }

    /// The charger's answer to a SendLocalList, whoever sent it. Accepted: its content becomes the
    /// confirmed list (a full update replaces it, a differential one changes it). VersionMismatch:
    /// the next update must be full. Then the list is stale if a tag changed meanwhile.
    func recordAnswer(
        stationID: String, listVersion: Int, updateType: LocalListUpdateType, changes: [LocalListChange], status: String,
        at: Date
    ) async throws {
        try await database.write { connection in
            try connection.run(
                """
                INSERT INTO local_lists (station_id, version, last_status, last_update_type, last_sent_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (station_id) DO UPDATE SET version = max(version, excluded.version),
                    last_status = excluded.last_status, last_update_type = excluded.last_update_type,
                    last_sent_at = excluded.last_sent_at, updated_at = excluded.updated_at
                """, stationID, listVersion, status, updateType.rawValue, at, at)
            switch status {
            case "Accepted":
                try connection.run(
                    "UPDATE local_lists SET confirmed_version = ?, needs_full = 0, stale = 0 WHERE station_id = ?",
                    listVersion, stationID)
                if updateType == .full { try connection.run("DELETE FROM local_list_entries WHERE station_id = ?", stationID) }
                for change in changes {
                    if let entry = change.entry {
                        try connection.run(
                            """
                            INSERT INTO local_list_entries (station_id, id_tag, status, expiry_date, parent_id_tag)
                            VALUES (?, ?, ?, ?, ?)
                            ON CONFLICT (station_id, id_tag) DO UPDATE SET id_tag = excluded.id_tag, status = excluded.status,
                                expiry_date = excluded.expiry_date, parent_id_tag = excluded.parent_id_tag
                            """, stationID, entry.idTag, entry.status, entry.expiryDate, entry.parentIdTag)
                    } else {
                        try connection.run(
                            "DELETE FROM local_list_entries WHERE station_id = ? AND id_tag = ?", stationID, change.idTag)
                    }
                }
            case "VersionMismatch":
                try connection.run("UPDATE local_lists SET needs_full = 1, stale = 1 WHERE station_id = ?", stationID)
            case "NotSupported":
                // Nothing to keep in step: the sync stops asking.
                try connection.run("UPDATE local_lists SET stale = 0 WHERE station_id = ?", stationID)
            default:
                break
            }
        }
        // A tag changed between reading the tags and this answer marked the list stale, and the
        // answer cleared the mark: compare again, outside the writer.
        if status == "Accepted",
            !LocalListDiff.changes(from: try await confirmedEntries(stationID), to: try await desiredEntries()).isEmpty
        {
            try await database.write { try $0.run("UPDATE local_lists SET stale = 1 WHERE station_id = ?", stationID) }
        }
    }

    /// What the charger answered to GetLocalListVersion (-1: it has none; 0: empty).
    func recordChargerVersion(stationID: String, version: Int, at: Date) async throws {
        try await database.write { connection in
            try connection.run(
                """
                INSERT INTO local_lists (station_id, version, charger_version, updated_at) VALUES (?, 0, ?, ?)
                ON CONFLICT (station_id) DO UPDATE SET charger_version = excluded.charger_version,
                    updated_at = excluded.updated_at
                """, stationID, version, at)
            // The charger holds another version than the one it accepted from us (a reset, another
            // central system): a differential would build on a list it no longer has.
            try connection.run(
                """
                UPDATE local_lists SET needs_full = 1, stale = 1
                WHERE station_id = ? AND confirmed_version IS NOT NULL AND confirmed_version != ?
                """, stationID, version)
        }
    }

    /// Stations whose confirmed list misses a tag change, a page at a time.
    func staleStations(limit: Int = 500) async throws -> [String] {
        try await database.read { connection in
            try connection.query(
                "SELECT station_id FROM local_lists WHERE stale = 1 ORDER BY station_id LIMIT ?", limit
            ) { try $0.get(0, as: String.self) }
        }
    }

    /// Nothing to send after all (the tags came back to what the charger holds).
    func clearStale(_ stationID: String) async throws {
        try await database.write { try $0.run("UPDATE local_lists SET stale = 0 WHERE station_id = ?", stationID) }
    }

    static func state(_ stationID: String, in connection: Connection) throws -> LocalListState? {
        try connection.queryFirst(
            """
            SELECT l.*, (SELECT count(*) FROM local_list_entries e WHERE e.station_id = l.station_id) AS entries
            FROM local_lists l WHERE l.station_id = ?
            """, stationID
        ) { row in
            LocalListState(
                stationId: try row.get("station_id"), version: try row.get("version"),
                confirmedVersion: try row.get("confirmed_version"), chargerVersion: try row.get("charger_version"),
                lastStatus: try row.get("last_status"),
                lastUpdateType: try row.get("last_update_type", as: String?.self).flatMap(LocalListUpdateType.init(rawValue:)),
                lastSentAt: try row.get("last_sent_at"), stale: try row.get("stale"), needsFull: try row.get("needs_full"),
                entries: try row.get("entries"), updatedAt: try row.get("updated_at"))
        }
    }
}
