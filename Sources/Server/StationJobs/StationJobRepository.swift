import Foundation
import Storage

/// Jobs, their uploads, and security events.
struct StationJobRepository: Sendable {
    let database: Database

    /// Stores a new job; with `assignRequestID`, under the station's next request id, counted in
    /// the same transaction so two requests never share one.
    func insert(_ job: StationJob, assignRequestID: Bool = false) async throws -> StationJob {
        try await database.write { connection in
            var job = job
            if assignRequestID {
                job.requestId = try connection.queryFirst(
                    "SELECT coalesce(max(request_id), 0) + 1 FROM station_jobs WHERE station_id = ?", job.stationId
                ) { try $0.get(0, as: Int.self) } ?? 1
            }
            return try TableStore<StationJob>.insert(job, into: connection)
        }
    }

    func job(_ id: String, stationID: String) async throws -> StationJob {
        let found = try await database.read { try TableStore<StationJob>.fetch(id, from: $0) }
        guard let found, found.stationId == stationID else { throw StationJobError.notFound(id) }
        return found
    }

    func list(stationID: String, kind: StationJobKind?, limit: Int = 100) async throws -> [StationJob] {
        try await database.read { connection in
            if let kind {
                return try connection.query(
                    "SELECT * FROM station_jobs WHERE station_id = ? AND kind = ? ORDER BY created_at DESC, id LIMIT ?",
                    stationID, kind.rawValue, limit, map: StationJob.init(row:))
            }
            return try connection.query(
                "SELECT * FROM station_jobs WHERE station_id = ? ORDER BY created_at DESC, id LIMIT ?", stationID, limit,
                map: StationJob.init(row:))
        }
    }

    /// The charger's answer to the request that started a job, whoever sent it: the open job of
    /// that kind and location gets it; a request we did not store first (the passthrough) starts one.
    func recordAnswer(
        stationID: String, kind: StationJobKind, location: String, requestID: Int?, answer: String?, fileName: String?,
        at: Date
    ) async throws {
        try await database.write { connection in
            let open = try connection.queryFirst(
                """
                SELECT * FROM station_jobs
                WHERE station_id = ? AND kind = ? AND location = ? AND finished_at IS NULL AND charger_answer IS NULL
                    AND status = 'Requested'
                ORDER BY created_at DESC LIMIT 1
                """, stationID, kind.rawValue, location, map: StationJob.init(row:))
            var job = open ?? StationJob(stationId: stationID, kind: kind, requestId: requestID, location: location, createdBy: nil, now: at)
            job.chargerAnswer = answer ?? "Sent"
            job.fileName = fileName ?? job.fileName
            job.move(to: answer ?? "Sent", at: at)
            if let open {
                _ = try TableStore<StationJob>.update(job, expectedVersion: open.version, in: connection)
            } else {
                _ = try TableStore<StationJob>.insert(job, into: connection)
            }
        }
    }

    /// A status notification: it moves the station's open job of that kind (the one with
    /// `requestID` when the notification names one). Nil when no job is open — a charger may
    /// report Idle of its own accord.
    func recordStatus(stationID: String, kind: StationJobKind, requestID: Int?, status: String, at: Date) async throws
        -> StationJob?
    {
        try await database.write { connection in
            var clause = "station_id = ? AND kind = ? AND finished_at IS NULL"
            var bindings: [SQLValue] = [.text(stationID), .text(kind.rawValue)]
            if let requestID {
                clause += " AND request_id = ?"
                bindings.append(.integer(Int64(requestID)))
            }
            guard
                let open = try connection.queryFirst(
                    "SELECT * FROM station_jobs WHERE \(clause) ORDER BY created_at DESC LIMIT 1", bindings: bindings,
                    map: StationJob.init(row:))
            else { return nil }
            var job = open
            job.move(to: status, at: at)
            return try TableStore<StationJob>.update(job, expectedVersion: open.version, in: connection)
        }
    }

    /// How long an upload holds its URL: one cut short by a crash frees it after this.
    static let uploadLease: TimeInterval = 600

    /// Takes the upload URL's token for one upload: unknown, used or expired tokens get nil. Looked
    /// up on a reader first, so a flood of made-up tokens never queues on the writer.
    func claimUpload(tokenHash: String, at: Date) async throws -> StationJob? {
        let leaseEnded = at.addingTimeInterval(-Self.uploadLease)
        let condition = """
            upload_token_hash = ? AND upload_expires_at > ?
                AND (uploaded_at IS NULL OR (upload_path IS NULL AND uploaded_at < ?))
            """
        let known = try await database.read { connection in
            try connection.queryFirst("SELECT id FROM station_jobs WHERE \(condition)", tokenHash, at, leaseEnded) {
                try $0.get(0, as: String.self)
            }
        }
        guard known != nil else { return nil }
        return try await database.write { connection in
            guard
                var job = try connection.queryFirst(
                    "SELECT * FROM station_jobs WHERE \(condition)", tokenHash, at, leaseEnded, map: StationJob.init(row:))
            else { return nil }
            let version = job.version
            job.uploadedAt = at
            return try TableStore<StationJob>.update(job, expectedVersion: version, in: connection)
        }
    }

    /// The upload landed in `path`; or, with nil, it failed and the URL may be used again.
    func finishUpload(_ id: String, path: String?, bytes: Int?, at: Date) async throws {
        try await database.write { connection in
            try connection.run(
                """
                UPDATE station_jobs SET upload_path = ?, upload_bytes = ?, uploaded_at = CASE WHEN ? IS NULL THEN NULL ELSE ? END,
                    updated_at = ?, version = version + 1
                WHERE id = ?
                """, path, bytes, path, at, at, id)
        }
    }

    // MARK: Security events

    func insertSecurityEvent(
        stationID: String, type: String, techInfo: String?, occurredAt: Date, receivedAt: Date, critical: Bool
    ) async throws -> SecurityEvent {
        try await database.write { connection in
            let id = try connection.queryFirst(
                """
                INSERT INTO security_events (station_id, type, tech_info, occurred_at, received_at, critical)
                VALUES (?, ?, ?, ?, ?, ?) RETURNING id
                """, stationID, type, techInfo, occurredAt, receivedAt, critical
            ) { try $0.get(0, as: Int64.self) } ?? 0
            return SecurityEvent(
                id: id, stationId: stationID, type: type, techInfo: techInfo, occurredAt: occurredAt, receivedAt: receivedAt,
                critical: critical)
        }
    }

    func securityEvents(stationID: String, limit: Int) async throws -> [SecurityEvent] {
        try await database.read { connection in
            try connection.query(
                "SELECT * FROM security_events WHERE station_id = ? ORDER BY id DESC LIMIT ?", stationID, limit
            ) { row in
                SecurityEvent(
                    id: try row.get("id"), stationId: try row.get("station_id"), type: try row.get("type"),
                    techInfo: try row.get("tech_info"), occurredAt: try row.get("occurred_at"),
                    receivedAt: try row.get("received_at"), critical: try row.get("critical"))
            }
        }
    }
}
