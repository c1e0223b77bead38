import Foundation
import Storage

enum AlertKind: String, Codable, Sendable, CaseIterable {
    case connectorFaulted = "connector_faulted"
    case stationOffline = "station_offline"
    case rebootedDuringSession = "rebooted_during_session"
    case sessionTooLong = "session_too_long"
    case unknownTransaction = "unknown_transaction"
    /// A charger sent a meter reading, meter start/stop or clock outside the plausible range.
    case implausibleChargerData = "implausible_charger_data"
    /// A firmware update (signed or not) failed to download, verify or install.
    case firmwareFailed = "firmware_failed"
    /// A diagnostics or log upload failed.
    case uploadFailed = "upload_failed"
    /// A charger reported a security event the security extension calls critical.
    case securityEvent = "security_event"
    /// A certificate installed on a charger ends within 30 days.
    case certificateExpiring = "certificate_expiring"
}

enum AlertSeverity: String, Codable, Sendable, CaseIterable {
    case info, warning, critical
}

enum AlertState: String, Codable, Sendable, CaseIterable {
    case open, acknowledged, resolved
}

struct Alert: TableRecord, Codable {
    var id: String
    var version: Int64 = 0
    var kind: AlertKind
    var severity: AlertSeverity
    var state: AlertState
    var conditionKey: String
    var stationId: String?
    var connectorId: Int?
    var message: String
    var details: [String: String]
    var raisedAt: Date
    var acknowledgedAt: Date?
    var resolvedAt: Date?
    var updatedAt: Date

    static let tableName = "alerts"
    static let columns = [
        "kind", "severity", "state", "condition_key", "station_id", "connector_id", "message", "details", "raised_at",
        "acknowledged_at", "resolved_at", "updated_at",
    ]
    static let sortableColumns = ["raised_at"]
    static let defaultSort = SortKey("raised_at", descending: true)

    var columnValues: [SQLValue] {
        return [
            .text(kind.rawValue), .text(severity.rawValue), .text(state.rawValue), .text(conditionKey),
            stationId.sqlValue, connectorId.sqlValue, .text(message), .json(details), raisedAt.sqlValue,
            acknowledgedAt.sqlValue, resolvedAt.sqlValue, updatedAt.sqlValue,
        ]
    }

    init(
        kind: AlertKind, severity: AlertSeverity, conditionKey: String, stationId: String?, connectorId: Int?,
        message: String, details: [String: String], at: Date
    ) {
        id = Identifiers.make()
        self.kind = kind
        self.severity = severity
        state = .open
        self.conditionKey = conditionKey
        self.stationId = stationId
        self.connectorId = connectorId
        self.message = message
        self.details = details
        raisedAt = at
        updatedAt = at
    }

    init(row: Row) throws {
        id = try row.get("id")
        version = try row.get("version")
        kind = try row.decode("kind")
        severity = try row.decode("severity")
        state = try row.decode("state")
        conditionKey = try row.get("condition_key")
        stationId = try row.get("station_id")
        connectorId = try row.get("connector_id")
        message = try row.get("message")
        details = try JSONDecoder().decode([String: String].self, from: Data(try row.get("details", as: String.self).utf8))
        raisedAt = try row.get("raised_at")
        acknowledgedAt = try row.get("acknowledged_at")
        resolvedAt = try row.get("resolved_at")
        updatedAt = try row.get("updated_at")
    }
}
