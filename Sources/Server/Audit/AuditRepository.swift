import Foundation
import OCPP
import Storage

/// Reads the audit log, records the entries no table change carries (commands sent to chargers),
/// and applies retention. There is no update or delete of an entry: the schema refuses both.
struct AuditRepository: Sendable {
    let database: Database

    /// Newest first, keyset-paged on the id (entries are only ever appended).
    func list(_ query: AuditQuery, page: PageRequest) async throws -> Page<AuditEntry> {
        try await database.read { connection in
            var filter = query.filter
            if let token = page.cursor { filter.add("id < ?", .integer(try Self.decodeCursor(token))) }
            var entries = try connection.query(
                "SELECT * FROM audit_log WHERE \(filter.sql) ORDER BY id DESC LIMIT ?",
                bindings: filter.values + [.integer(Int64(page.limit + 1))]
            ) { try AuditEntry(row: $0) }
            var next: String?
            if entries.count > page.limit {
                entries.removeLast()
                next = Self.encodeCursor(entries[entries.count - 1].id)
            }
            return Page(items: entries, nextCursor: next)
        }
    }

    /// Every entry the query matches, newest first, at most `limit` (the export's bound).
    func all(_ query: AuditQuery, limit: Int) async throws -> [AuditEntry] {
        try await database.read { connection in
            let filter = query.filter
            let entries = try connection.query(
                "SELECT * FROM audit_log WHERE \(filter.sql) ORDER BY id DESC LIMIT ?",
                bindings: filter.values + [.integer(Int64(limit) + 1)]
            ) { try AuditEntry(row: $0) }
            guard entries.count <= limit else { throw AuditError.exportTooLarge(limit: limit) }
            return entries
        }
    }

    /// Records a command sent to a charger — under the caller's attribution, so only when a person
    /// sent it (the server's own commands carry none and are not recorded).
    func recordCommand(action: String, stationID: String, request: JSONValue, outcome: JSONValue) async throws {
        guard WriteAttribution.current != nil else { return }
        let changes = JSONWriter.string(.object(JSONObject([("request", request), ("outcome", outcome)])))
        try await database.write { connection in
            try connection.run(
                """
                INSERT INTO audit_log (\(AuditSchema.attributionColumns), action, target_type, target_id, station_id, changes)
                SELECT \(AuditSchema.attributionValues), ?, 'station', ?, ?, ?
                FROM (SELECT write_attribution() AS a) WHERE a IS NOT NULL
                """, "ocpp.\(action)", stationID, stationID, changes)
        }
    }

    /// Deletes entries older than `cutoff`, a chunk per write so the writer is never held long;
    /// returns how many. Runs under the retention attribution, the only one the schema lets delete.
    @discardableResult
    func prune(before cutoff: Date, now: Date, chunk: Int = 1000) async throws -> Int {
        try await AuditAttribution.retention(at: now).bound {
            var total = 0
            while true {
                let deleted = try await database.write(background: true) { connection in
                    try connection.run(
                        "DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log WHERE at < ? ORDER BY id LIMIT ?)",
                        cutoff, chunk)
                }
                total += deleted
                if deleted < chunk { return total }
            }
        }
    }

    private static func encodeCursor(_ id: Int64) -> String {
        Data("audit:\(id)".utf8).base64URLEncodedString()
    }

    private static func decodeCursor(_ token: String) throws -> Int64 {
        guard let data = Data(base64URLEncoded: token), let text = String(data: data, encoding: .utf8),
            text.hasPrefix("audit:"), let id = Int64(text.dropFirst(6))
        else { throw InvalidCursorError() }
        return id
    }
}
