import Foundation
import Observability
import Storage
import Synchronization

/// One exchange of the message log: a CALL and its answer in one row. `direction` says who
/// called ("in": the charger, "out": we). A frame that starts no exchange (an answer to nothing in
/// flight, an unknown type) is a row of its own without an answer; an unreadable frame is type 0.
struct OCPPLogEntry: Codable, Sendable {
    struct Answer: Codable, Sendable {
        /// 3 (CALLRESULT) or 4 (CALLERROR).
        var messageType: Int
        /// The whole frame, secrets redacted.
        var payload: String
        var at: Date
    }

    var stationId: String
    var direction: String
    var messageType: Int
    var action: String?
    var messageId: String?
    /// The whole frame as sent or received, secrets redacted (see `OCPPSecretRedaction`).
    var payload: String
    var at: Date
    /// The answer; nil while none came (a call that timed out, a frame that needs none).
    var answer: Answer?

    init(
        stationId: String, direction: String, messageType: Int, action: String?, messageId: String?, payload: String, at: Date,
        answer: Answer? = nil
    ) {
        self.stationId = stationId
        self.direction = direction
        self.messageType = messageType
        self.action = action
        self.messageId = messageId
        self.payload = payload
        self.at = at
        self.answer = answer
    }
}

struct MeterValueRow: Sendable {
    var stationID: String
    var connectorID: Int
    var transactionID: Int?
    var at: Date
    var measurand: String
    var phase: String?
    var unit: String?
    var context: String?
    var location: String?
    var format: String?
    var value: String
    var normalized: Int64?
}

/// Writes that are records rather than decisions — the message log, raw meter values and
/// `lastSeenAt` — gathered in memory and flushed every few hundred milliseconds as background
/// writes, so that a busy charger fleet costs a few commits per flush instead of one per message,
/// and requests never queue behind the bulk.
/// (What a charger is answered about — sessions, energy, statuses — is written before it is
/// answered.)
final class OCPPRecorder: Sendable {
    private struct Pending {
        var messages: [OCPPLogEntry] = []
        var meterValues: [MeterValueRow] = []
        var lastSeen: [String: Date] = [:]
    }

    private let pending = Mutex(Pending())
    private let drain = SingleFlight<Void>()
    let database: Database
    /// Rows held in memory beyond which message handling waits for a flush (`waitForRoom`).
    let highWater: Int

    init(database: Database, highWater: Int = 20_000) {
        self.database = database
        self.highWater = highWater
    }

    var backlog: Int { pending.withLock { $0.messages.count + $0.meterValues.count } }

    /// Called before each charger message is handled: when chargers send faster than the log is
    /// written, they wait for one shared flush instead of growing memory without bound. Each
    /// connection handles one message at a time, so the backlog stays near `highWater`.
    func waitForRoom() async {
        guard backlog > highWater else { return }
        try? await drain.run { [self] in try await flush() }
    }

    /// Keeps `entry` for the message log; secrets are redacted here, the one way in, so neither
    /// the stored log nor a station's last messages ever hold them.
    func log(_ entry: OCPPLogEntry) {
        var entry = entry
        entry.payload = OCPPSecretRedaction.redact(entry.payload)
        if let answer = entry.answer { entry.answer?.payload = OCPPSecretRedaction.redact(answer.payload) }
        let seen = entry.answer?.at ?? entry.at
        pending.withLock {
            $0.messages.append(entry)
            $0.lastSeen[entry.stationId] = max($0.lastSeen[entry.stationId] ?? .distantPast, seen)
        }
    }

    func record(_ rows: [MeterValueRow]) {
        pending.withLock { $0.meterValues.append(contentsOf: rows) }
    }

    /// Rows per background write: small enough that a request's write never waits long behind one.
    static let chunkSize = 256

    /// Writes everything recorded before the call; returns once it is committed. Flushes run one
    /// after another: a flush that found nothing pending must still wait for the one that took the
    /// rows (the periodic flush), or its caller would read before they are stored.
    func flush() async throws {
        let flush = flushes.withLock { previous -> Task<Void, any Error> in
            let next = Task { [self, previous] in
                _ = try? await previous?.value
                try await writePending()
            }
            previous = next
            return next
        }
        try await flush.value
    }

    private let flushes = Mutex<Task<Void, any Error>?>(nil)

    private func writePending() async throws {
        var batch = pending.withLock { pending -> Pending in
            defer { pending = Pending() }
            return pending
        }
        // Grouped by station, each chunk touches a few leaves of the per-station indexes instead
        // of one per station: in arrival order a 256-row chunk from 100 chargers rewrote ~100
        // index pages per commit, most of the WAL volume. Order within a station is kept.
        batch.messages = Self.groupedByStation(batch.messages, \.stationId)
        batch.meterValues = Self.groupedByStation(batch.meterValues, \.stationID)
        var chunks: [@Sendable (Connection) throws -> Void] = []
        for chunk in Self.chunked(batch.messages) {
            chunks.append { connection in
                try connection.insert(
                    into: "ocpp_messages",
                    columns: [
                        "station_id", "direction", "message_type", "action", "message_id", "payload", "at", "answer_type",
                        "answer_payload", "answered_at",
                    ], chunk
                ) { entry, row in
                    row.bind(entry.stationId)
                    row.bind(entry.direction)
                    row.bind(entry.messageType)
                    row.bind(entry.action)
                    row.bind(entry.messageId)
                    row.bind(entry.payload)
                    row.bind(entry.at)
                    row.bind(entry.answer?.messageType)
                    row.bind(entry.answer?.payload)
                    row.bind(entry.answer?.at)
                }
            }
        }
        for chunk in Self.chunked(batch.meterValues) {
            chunks.append { connection in
                try connection.insert(
                    into: "meter_values",
                    columns: [
                        "station_id", "connector_id", "transaction_id", "at", "measurand", "phase", "unit", "context", "location",
                        "format", "value", "normalized",
                    ], chunk
                ) { value, row in
                    row.bind(value.stationID)
                    row.bind(value.connectorID)
                    row.bind(value.transactionID)
                    row.bind(value.at)
                    row.bind(value.measurand)
                    row.bind(value.phase)
                    row.bind(value.unit)
                    row.bind(value.context)
                    row.bind(value.location)
                    row.bind(value.format)
                    row.bind(value.value)
                    row.bind(value.normalized)
                }
            }
        }
        for chunk in Self.chunked(Array(batch.lastSeen)) {
            chunks.append { connection in
                for (stationID, at) in chunk {
                    try connection.run(
                        "UPDATE stations SET last_seen_at = max(coalesce(last_seen_at, 0), ?) WHERE id = ?", at, stationID)
                }
            }
        }
        // All chunks queued at once: the writer takes one per commit while it keeps up and more
        // when this lane falls behind; none is a long stall for the requests it shares a commit with.
        try await database.writeAll(background: true, chunks)
    }

    /// `rows` in slices of `chunkSize`, one background write each.
    private static func chunked<Row>(_ rows: [Row]) -> [ArraySlice<Row>] {
        stride(from: 0, to: rows.count, by: chunkSize).map { rows[$0..<min(rows.count, $0 + chunkSize)] }
    }

    /// `rows` ordered by station, keeping their order within each station. Grouped, not sorted:
    /// a sort moves each row (a few hundred bytes) log n times.
    static func groupedByStation<Row>(_ rows: [Row], _ station: (Row) -> String) -> [Row] {
        let groups = Dictionary(grouping: rows, by: station)
        var grouped: [Row] = []
        grouped.reserveCapacity(rows.count)
        for key in groups.keys.sorted() { grouped.append(contentsOf: groups[key] ?? []) }
        return grouped
    }

    func recent(stationID: String, limit: Int) async throws -> [OCPPLogEntry] {
        try await flush()
        return try await database.read { connection in
            try connection.query(
                "SELECT * FROM ocpp_messages WHERE station_id = ? ORDER BY id DESC LIMIT ?", stationID, limit
            ) { row in
                var answer: OCPPLogEntry.Answer?
                if let type = try row.get("answer_type", as: Int?.self) {
                    answer = OCPPLogEntry.Answer(
                        messageType: type, payload: try row.get("answer_payload") ?? "", at: try row.get("answered_at") ?? Date())
                }
                return OCPPLogEntry(
                    stationId: try row.get("station_id"), direction: try row.get("direction"),
                    messageType: try row.get("message_type"), action: try row.get("action"),
                    messageId: try row.get("message_id"), payload: try row.get("payload"), at: try row.get("at"), answer: answer)
            }
        }
    }

    /// Deletes messages and meter values older than the retention period; the first time in a
    /// process, also redacts messages stored before redaction existed.
    func prune(before cutoff: Date) async throws {
        try await database.write { connection in
            try connection.run("DELETE FROM ocpp_messages WHERE at < ?", cutoff)
            try connection.run("DELETE FROM meter_values WHERE at < ?", cutoff)
            try connection.run("DELETE FROM security_events WHERE received_at < ?", cutoff)
        }
        if !storedSecretsRedacted.withLock({ $0 }) {
            // One pass per database, not per process start: rows written since are redacted by `log`.
            let done = KeyValueStore(database: database)
            if try await done.get(Self.storedSecretsRedactedKey) == nil {
                _ = try await redactStoredSecrets()
                try await done.set(Self.storedSecretsRedactedKey, "done")
            }
            storedSecretsRedacted.withLock { $0 = true }
        }
    }

    private let storedSecretsRedacted = Mutex(false)
    static let storedSecretsRedactedKey = "ocpp-log:stored-secrets-redacted"

    /// Redacts secrets in stored messages, a page at a time: read and redacted outside the writer,
    /// only the changed rows written. Returns how many rows changed.
    func redactStoredSecrets() async throws -> Int {
        var after: Int64 = 0
        var changed = 0
        while true {
            let from = after
            let page = try await database.read { connection in
                try connection.query(
                    """
                    SELECT id, payload FROM ocpp_messages
                    WHERE id > ? AND (payload LIKE '%key%' OR payload LIKE '%password%' OR payload LIKE '%secret%'
                        OR payload LIKE '%token%' OR payload LIKE '%://%')
                    ORDER BY id LIMIT 500
                    """, from
                ) { row in (try row.get("id", as: Int64.self), try row.get("payload", as: String.self)) }
            }
            guard let last = page.last else { return changed }
            after = last.0
            let updates = page.compactMap { id, payload -> (Int64, String)? in
                let redacted = OCPPSecretRedaction.redact(payload)
                return redacted == payload ? nil : (id, redacted)
            }
            guard !updates.isEmpty else { continue }
            try await database.write(background: true) { connection in
                for (id, payload) in updates {
                    try connection.run("UPDATE ocpp_messages SET payload = ? WHERE id = ?", payload, id)
                }
            }
            changed += updates.count
        }
    }
}
