import Storage

/// The audit log's table, its immutability, and the triggers that record every change a person
/// makes to an audited table — in the change's own transaction, so a change that fails or is
/// rolled back leaves no entry, and no write path can forget to record one.
///
/// A trigger fires only while a write carries an attribution (`write_attribution()`, bound by
/// `AuditAttributionMiddleware` for a signed-in person's request): a charger's own writes carry
/// none and are not recorded.
///
/// The recording triggers are TEMP triggers of the server's writer connection, made at every
/// start from the columns the tables have then: a column added by a later migration is recorded
/// (in the clear unless declared secret here — a test checks secret-looking names), and another
/// program writing the file (the sqlite3 shell, a script) neither needs `write_attribution()` nor
/// is recorded. Only the append-only guards are part of the schema.
enum AuditSchema {
    /// Shown instead of a secret column's value: that it changed, never what to.
    static let redacted = "[redacted]"

    /// The attribution the retention sweep deletes under; the delete guard lets only it through.
    static let retentionAction = "audit.retention"

    /// One audited table: what its rows are called in the log and how to find their station and
    /// driver (for the station and driver panels), as SQL over `NEW.`/`OLD.` (the `ROW` prefix).
    struct Table: Sendable {
        var name: String
        var targetType: String
        var targetID: String = "ROW.id"
        var stationID: String?
        var driverID: String?
        /// Recorded only as changed (`[redacted]`), never their values.
        var secrets: Set<String> = []
        /// Not recorded: bookkeeping that changes with every write, or that only chargers change.
        var ignored: Set<String> = []
        /// Text columns holding JSON, nested as JSON in the changes.
        var json: Set<String> = []
    }

    static let bookkeeping: Set<String> = ["version", "updated_at"]

    static let tables: [Table] = [
        Table(name: "users", targetType: "user", secrets: ["password_hash"]),
        Table(
            name: "stations", targetType: "station", stationID: "ROW.id", secrets: ["password_hash", "previous_password_hash"],
            ignored: ["online", "last_seen_at"], json: ["configuration"]),
        Table(
            name: "connectors", targetType: "connector", targetID: "ROW.station_id || '/' || ROW.connector_id",
            stationID: "ROW.station_id"),
        Table(name: "drivers", targetType: "driver", driverID: "ROW.id", json: ["vehicles"]),
        Table(name: "id_tags", targetType: "id_tag", driverID: "ROW.driver_id"),
        Table(name: "tariffs", targetType: "tariff", json: ["windows", "membership_discounts"]),
        Table(name: "sites", targetType: "site"),
        Table(name: "reservations", targetType: "reservation", stationID: "ROW.station_id", driverID: "ROW.driver_id"),
        // A session's running figures move with every meter sample; the meter readings at start and
        // stop, which they follow from, are recorded.
        Table(
            name: "charging_sessions", targetType: "session", stationID: "ROW.station_id", driverID: "ROW.driver_id",
            ignored: ["energy_wh", "current_power_w", "last_sample_at", "charging_ended_at"], json: ["tariff", "cost", "flags"]),
        Table(name: "invoices", targetType: "invoice", driverID: "ROW.driver_id", json: ["lines"]),
        Table(
            name: "payments", targetType: "payment",
            driverID: "(SELECT driver_id FROM invoices WHERE id = ROW.invoice_id)"),
        Table(name: "alerts", targetType: "alert", stationID: "ROW.station_id", json: ["details"]),
        Table(name: "charging_profiles", targetType: "charging_profile", stationID: "ROW.station_id", json: ["profile"]),
        Table(name: "local_lists", targetType: "local_list", targetID: "ROW.station_id", stationID: "ROW.station_id"),
        Table(
            name: "station_jobs", targetType: "station_job", stationID: "ROW.station_id", secrets: ["upload_token_hash"],
            json: ["history"]),
        Table(name: "station_certificates", targetType: "certificate", stationID: "ROW.station_id"),
    ]

    /// Column names that hold a secret by their look; a test checks each such column is declared.
    static func looksSecret(_ column: String) -> Bool {
        ["password", "token", "secret", "key", "hash"].contains { column.contains($0) }
    }

    static let tableSQL = """
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            actor_user_id TEXT,
            actor_role TEXT,
            address TEXT,
            user_agent TEXT,
            request_id TEXT,
            trace_id TEXT,
            -- The request that did it: method and route pattern, e.g. PATCH /api/v1/tariffs/{id}.
            route TEXT,
            -- What happened to the target: station.update, tariff.create, ocpp.Reset, …
            action TEXT NOT NULL,
            target_type TEXT NOT NULL,
            target_id TEXT NOT NULL,
            station_id TEXT,
            driver_id TEXT,
            -- {"column": {"before": …, "after": …}} of the changed columns; a command's request and outcome.
            changes TEXT NOT NULL
        );
        CREATE INDEX audit_log_at ON audit_log (at);
        CREATE INDEX audit_log_actor ON audit_log (actor_user_id, id);
        CREATE INDEX audit_log_target ON audit_log (target_type, target_id, id);
        CREATE INDEX audit_log_action ON audit_log (action, id);
        CREATE INDEX audit_log_station ON audit_log (station_id, id) WHERE station_id IS NOT NULL;
        CREATE INDEX audit_log_driver ON audit_log (driver_id, id) WHERE driver_id IS NOT NULL;
        CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN
            SELECT RAISE(ABORT, 'audit entries cannot be changed');
        END;
        CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        WHEN json_extract(write_attribution(), '$.action') IS NOT '\(retentionAction)'
        BEGIN
            SELECT RAISE(ABORT, 'audit entries cannot be deleted');
        END;
        """

    /// The attribution's fields as the insert's leading columns; `a` is `write_attribution()`.
    /// The time is the attribution's (the request's clock), else SQLite's.
    static let attributionColumns =
        "at, actor_user_id, actor_role, address, user_agent, request_id, trace_id, route"
    static let attributionValues = """
        coalesce(json_extract(a, '$.at'), CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)),
        json_extract(a, '$.userId'), json_extract(a, '$.role'), json_extract(a, '$.address'),
        json_extract(a, '$.userAgent'), json_extract(a, '$.requestId'), json_extract(a, '$.traceId'),
        json_extract(a, '$.route')
        """

    enum Operation: String, CaseIterable {
        case insert, update, delete

        var triggerEvent: String { rawValue.uppercased() }
        var actionVerb: String {
            switch self {
            case .insert: "create"
            case .update: "update"
            case .delete: "delete"
            }
        }
        /// The row the target is read from: the new one, or the old one for a delete.
        var row: String { self == .delete ? "OLD" : "NEW" }
    }

    static func triggerName(_ table: Table, _ operation: Operation) -> String {
        "audit_\(table.name)_\(operation.rawValue)"
    }

    /// The audit triggers of every audited table, for the columns each has now.
    static func triggerSQL(columnsOf columns: (String) throws -> [String]) rethrows -> [String] {
        try tables.flatMap { table in
            let recorded = try columns(table.name).filter { !bookkeeping.contains($0) && !table.ignored.contains($0) }
            return Operation.allCases.map { triggerSQL(table, $0, columns: recorded) }
        }
    }

    /// Creates the recording triggers on `connection` (the writer, after the migrations).
    @Sendable static func installTriggers(_ connection: Connection) throws {
        for sql in try triggerSQL(columnsOf: { try columns(of: $0, in: connection) }) {
            try connection.execute(sql)
        }
    }

    static func columns(of table: String, in connection: Connection) throws -> [String] {
        try connection.query("SELECT name FROM pragma_table_info(?, 'main') ORDER BY cid", table) { try $0.get(0, as: String.self) }
    }

    private static func triggerSQL(_ table: Table, _ operation: Operation, columns: [String]) -> String {
        // One row per changed column (before, after, whether it is JSON); the outer query folds
        // them into one object, and writes nothing when none changed.
        let rows = columns.map { column -> String in
            let old = "OLD.\(column)"
            let new = "NEW.\(column)"
            let (before, after) =
                table.secrets.contains(column)
                ? (
                    "CASE WHEN \(old) IS NULL THEN NULL ELSE '\(redacted)' END",
                    "CASE WHEN \(new) IS NULL THEN NULL ELSE '\(redacted)' END"
                ) : (old, new)
            let isJSON = table.json.contains(column) ? 1 : 0
            return switch operation {
            case .insert: "SELECT '\(column)' AS k, NULL AS b, \(after) AS n, \(isJSON) AS j WHERE \(new) IS NOT NULL"
            case .update: "SELECT '\(column)' AS k, \(before) AS b, \(after) AS n, \(isJSON) AS j WHERE \(old) IS NOT \(new)"
            case .delete: "SELECT '\(column)' AS k, \(before) AS b, NULL AS n, \(isJSON) AS j WHERE \(old) IS NOT NULL"
            }
        }
        func target(_ expression: String?) -> String {
            expression?.replacingOccurrences(of: "ROW.", with: "\(operation.row).") ?? "NULL"
        }
        // An update fires only when it sets a recorded column: the charger's frequent updates of
        // ignored ones (a station's last_seen_at, a session's meter samples) never enter the trigger.
        let event = operation == .update ? "UPDATE OF \(columns.joined(separator: ", "))" : operation.triggerEvent
        return """
            CREATE TEMP TRIGGER \(triggerName(table, operation)) AFTER \(event) ON main.\(table.name)
            WHEN write_attribution() IS NOT NULL
            BEGIN
                INSERT INTO audit_log (\(attributionColumns), action, target_type, target_id, station_id, driver_id, changes)
                SELECT \(attributionValues),
                    '\(table.targetType).\(operation.actionVerb)', '\(table.targetType)', \(target(table.targetID)),
                    \(target(table.stationID)), \(target(table.driverID)),
                    json_group_object(k, json_object(
                        'before', CASE WHEN j AND json_valid(b) THEN json(b) ELSE b END,
                        'after', CASE WHEN j AND json_valid(n) THEN json(n) ELSE n END))
                FROM (SELECT write_attribution() AS a), (\(rows.joined(separator: "\n        UNION ALL ")))
                HAVING count(*) > 0;
            END
            """
    }
}
