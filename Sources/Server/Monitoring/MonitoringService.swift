import Foundation
import Logging
import Storage

/// Status history, alerts and the live events that go with them. Connector changes come from the
/// API now and from OCPP later; both call the same methods.
struct MonitoringService: ConnectorStatusRecording {
    let database: Database
    let events: EventBus
    let offlineGrace: Duration
    let sessionLimit: Duration
    let now: @Sendable () -> Date

    // MARK: Status changes

    func connectorStatusChanged(_ change: ConnectorStatusChange) async throws {
        let recorded = try await database.write { connection in try record(change, in: connection) }
        if let recorded { publish(recorded) }
    }

    func record(_ change: ConnectorStatusChange, in connection: Connection) throws -> RecordedConnectorStatus? {
        try Self.record(change, in: connection).map { RecordedConnectorStatus(change: change, raised: $0.0, resolved: $0.1) }
    }

    func publish(_ recorded: RecordedConnectorStatus) {
        let change = recorded.change
        events.publish(
            "connector.status", stationID: change.stationID,
            payload: ConnectorStatusEvent(
                stationId: change.stationID, connectorId: change.connectorID, previous: change.previous,
                status: change.current, errorCode: change.errorCode, at: change.at))
        publish(raised: recorded.raised, resolved: recorded.resolved)
    }

    private static func record(_ change: ConnectorStatusChange, in connection: Connection) throws -> (Alert?, [Alert])? {
            if change.previous == nil {
                // No stored connector to compare with (connector 0, or one the station record does
                // not list): compare with the last recorded status instead, so repeats are not changes.
                let last = try connection.queryFirst(
                    """
                    SELECT current, error_code FROM status_history
                    WHERE station_id = ? AND connector_id = ? AND kind = 'connector' ORDER BY at DESC, id DESC LIMIT 1
                    """, change.stationID, change.connectorID
                ) { (try $0.get(0, as: String.self), try $0.get(1, as: String?.self)) }
                if let last, last.0 == change.current.rawValue, last.1 == change.errorCode { return nil }
            }
            try connection.run(
                """
                INSERT INTO status_history
                    (station_id, connector_id, kind, previous, current, error_code, info, vendor_error_code, source, at)
                VALUES (?, ?, 'connector', ?, ?, ?, ?, ?, ?, ?)
                """, change.stationID, change.connectorID, change.previous?.rawValue, change.current.rawValue,
                change.errorCode, change.info, change.vendorErrorCode, change.source.rawValue, change.at)
            let key = "connector_faulted:\(change.stationID):\(change.connectorID)"
            if change.current == .faulted {
                let alert = Alert(
                    kind: .connectorFaulted, severity: .critical, conditionKey: key, stationId: change.stationID,
                    connectorId: change.connectorID,
                    message: "connector \(change.connectorID) of \(change.stationID) is Faulted"
                        + (change.errorCode.map { " (\($0))" } ?? ""),
                    details: [
                        "errorCode": change.errorCode ?? "", "info": change.info ?? "",
                        "vendorErrorCode": change.vendorErrorCode ?? "",
                    ].filter { !$0.value.isEmpty }, at: change.at)
                return (try Self.raise(alert, in: connection), [])
            }
            return (nil, try Self.resolve(conditionKey: key, at: change.at, in: connection))
    }

    /// A station connected or disconnected: history, the offline alert resolved on reconnect, an event.
    func stationConnectivityChanged(stationID: String, online: Bool, at: Date) async throws {
        let resolved = try await database.write { connection in
            try connection.run(
                """
                INSERT INTO status_history (station_id, connector_id, kind, previous, current, source, at)
                VALUES (?, 0, 'connectivity', ?, ?, 'ocpp', ?)
                """, stationID, online ? "offline" : "online", online ? "online" : "offline", at)
            return online ? try Self.resolve(conditionKey: "station_offline:\(stationID)", at: at, in: connection) : []
        }
        events.publish(online ? "station.online" : "station.offline", stationID: stationID, payload: ["stationId": stationID])
        publish(raised: nil, resolved: resolved)
    }

    /// A charger booted; if it had a session open, that session was probably cut short.
    func chargerBooted(stationID: String, at: Date) async throws {
        let raised = try await database.write { connection -> Alert? in
            // Named: without statistics the planner may take the station's index and read every
            // session the station ever had, on the writer, at each boot.
            let open = try connection.query(
                """
                SELECT transaction_id FROM charging_sessions INDEXED BY charging_sessions_active
                WHERE station_id = ? AND status = 'active'
                """, stationID
            ) { try $0.get(0, as: Int64.self) }
            guard !open.isEmpty else { return nil }
            return try Self.raise(
                Alert(
                    kind: .rebootedDuringSession, severity: .warning,
                    conditionKey: "rebooted_during_session:\(stationID):\(open.map(String.init).joined(separator: ","))",
                    stationId: stationID, connectorId: nil,
                    message: "\(stationID) rebooted while transaction(s) \(open.map(String.init).joined(separator: ", ")) were open",
                    details: ["transactionIds": open.map(String.init).joined(separator: ",")], at: at),
                in: connection)
        }
        publish(raised: raised, resolved: [])
    }

    /// Raises `alert` (unless one with its condition is open) and tells the event stream.
    func raise(_ alert: Alert) async throws {
        let raised = try await database.write { try Self.raise(alert, in: $0) }
        publish(raised: raised, resolved: [])
    }

    /// A StopTransaction (or meter value) named a transaction we do not know.
    func unknownTransaction(stationID: String, transactionID: Int, at: Date) async throws {
        let raised = try await database.write { connection in
            try Self.raise(
                Alert(
                    kind: .unknownTransaction, severity: .warning,
                    conditionKey: "unknown_transaction:\(stationID):\(transactionID)", stationId: stationID,
                    connectorId: nil, message: "\(stationID) reported unknown transaction \(transactionID)",
                    details: ["transactionId": String(transactionID)], at: at),
                in: connection)
        }
        publish(raised: raised, resolved: [])
    }

    /// A charger sent numbers or a clock that cannot be right; one open alert per station, transaction and problem.
    func implausibleChargerData(
        stationID: String, transactionID: Int?, problem: SessionFlag, details: [String: String], at: Date
    ) async throws {
        var allDetails = details
        if let transactionID { allDetails["transactionId"] = String(transactionID) }
        allDetails["problem"] = problem.rawValue
        let details = allDetails
        let subject = transactionID.map { "transaction \($0)" } ?? "no transaction"
        let raised = try await database.write { connection in
            try Self.raise(
                Alert(
                    kind: .implausibleChargerData, severity: .warning,
                    conditionKey: "implausible:\(stationID):\(transactionID.map(String.init) ?? "-"):\(problem.rawValue)",
                    stationId: stationID, connectorId: nil,
                    message: "\(stationID) sent implausible data (\(problem.rawValue), \(subject))", details: details,
                    at: at),
                in: connection)
        }
        publish(raised: raised, resolved: [])
    }

    /// The periodic checks: stations offline past the grace period, sessions open too long.
    func runChecks() async throws {
        let now = now()
        let offlineSince = now.addingTimeInterval(-Double(offlineGrace.components.seconds))
        let startedBefore = now.addingTimeInterval(-Double(sessionLimit.components.seconds))
        let raised = try await database.write { connection -> [Alert] in
            var raised: [Alert] = []
            // Stations whose latest connectivity change is an 'offline' older than the grace.
            let offline = try connection.query(
                """
                SELECT s.id, h.at FROM stations s
                JOIN status_history h ON h.id = (
                    SELECT id FROM status_history WHERE station_id = s.id AND kind = 'connectivity'
                    ORDER BY at DESC, id DESC LIMIT 1)
                WHERE s.online = 0 AND s.status != 'decommissioned' AND h.current = 'offline' AND h.at <= ?
                """, offlineSince
            ) { (try $0.get(0, as: String.self), try $0.get(1, as: Date.self)) }
            for (stationID, since) in offline {
                let alert = Alert(
                    kind: .stationOffline, severity: .critical, conditionKey: "station_offline:\(stationID)",
                    stationId: stationID, connectorId: nil,
                    message: "\(stationID) has been offline since \(WireFormat.formatDate(since))",
                    details: ["offlineSince": WireFormat.formatDate(since)], at: now)
                if let stored = try Self.raise(alert, in: connection) { raised.append(stored) }
            }
            let long = try connection.query(
                "SELECT id, station_id, transaction_id, started_at FROM charging_sessions WHERE status = 'active' AND started_at <= ?",
                startedBefore
            ) { row in
                (try row.get("id", as: String.self), try row.get("station_id", as: String.self),
                 try row.get("transaction_id", as: Int64.self), try row.get("started_at", as: Date.self))
            }
            for (sessionID, stationID, transactionID, startedAt) in long {
                let alert = Alert(
                    kind: .sessionTooLong, severity: .warning, conditionKey: "session_too_long:\(sessionID)",
                    stationId: stationID, connectorId: nil,
                    message: "session \(sessionID) (transaction \(transactionID)) has been active since \(WireFormat.formatDate(startedAt))",
                    details: ["sessionId": sessionID, "transactionId": String(transactionID)], at: now)
                if let stored = try Self.raise(alert, in: connection) { raised.append(stored) }
            }
            // A long session that has ended no longer needs its alert.
            _ = try connection.run(
                """
                UPDATE alerts SET state = 'resolved', resolved_at = ?, updated_at = ?, version = version + 1
                WHERE kind = 'session_too_long' AND state != 'resolved'
                  AND substr(condition_key, 18) NOT IN (SELECT id FROM charging_sessions WHERE status = 'active')
                """, now, now)
            return raised
        }
        for alert in raised { events.publish("alert.raised", stationID: alert.stationId, payload: alert) }
    }

    private func publish(raised: Alert?, resolved: [Alert]) {
        if let raised { events.publish("alert.raised", stationID: raised.stationId, payload: raised) }
        for alert in resolved { events.publish("alert.resolved", stationID: alert.stationId, payload: alert) }
    }

    // MARK: Alerts inside a transaction

    /// Stores the alert unless one for the same condition is still unresolved; nil then.
    static func raise(_ alert: Alert, in connection: Connection) throws -> Alert? {
        let existing = try connection.queryFirst(
            "SELECT 1 FROM alerts WHERE condition_key = ? AND state != 'resolved'", alert.conditionKey
        ) { _ in true }
        guard existing == nil else { return nil }
        return try TableStore<Alert>.insert(alert, into: connection)
    }

    static func resolve(conditionKey: String, at: Date, in connection: Connection) throws -> [Alert] {
        let open = try connection.query(
            "SELECT * FROM alerts WHERE condition_key = ? AND state != 'resolved'", conditionKey, map: Alert.init(row:))
        return try open.map { alert in
            var resolved = alert
            resolved.state = .resolved
            resolved.resolvedAt = at
            resolved.updatedAt = at
            return try TableStore<Alert>.update(resolved, expectedVersion: alert.version, in: connection)
        }
    }

    // MARK: Queries and lifecycle

    func alerts(state: AlertState?, stationID: String?, severity: AlertSeverity?, page: PageRequest) async throws -> Page<Alert> {
        var filter = QueryFilter()
        if let state { filter.equals("state", state.rawValue) }
        if let stationID { filter.equals("station_id", stationID) }
        if let severity { filter.equals("severity", severity.rawValue) }
        let query = filter
        return try await database.read { try TableStore<Alert>.list(where: query, sort: nil, page: page, in: $0) }
    }

    func transition(_ id: String, to target: AlertState) async throws -> Alert {
        let at = now()
        let alert = try await database.write { connection in
            guard var alert = try TableStore<Alert>.fetch(id, from: connection) else {
                throw AlertError.notFound(id)
            }
            switch (alert.state, target) {
            case (.open, .acknowledged):
                alert.acknowledgedAt = at
            case (.open, .resolved), (.acknowledged, .resolved):
                alert.resolvedAt = at
            case (.acknowledged, .acknowledged), (.resolved, .resolved):
                return alert
            default:
                throw AlertError.invalidTransition(from: alert.state, to: target)
            }
            let version = alert.version
            alert.state = target
            alert.updatedAt = at
            return try TableStore<Alert>.update(alert, expectedVersion: version, in: connection)
        }
        if target == .resolved { events.publish("alert.resolved", stationID: alert.stationId, payload: alert) }
        return alert
    }

    struct HistoryEntry: Codable, Sendable {
        var connectorId: Int
        var kind: String
        var previous: String?
        var status: String
        var errorCode: String?
        var info: String?
        var vendorErrorCode: String?
        var source: String
        var at: Date
    }

    func history(stationID: String, from: Date?, to: Date?, limit: Int) async throws -> [HistoryEntry] {
        try await database.read { connection in
            try connection.query(
                """
                SELECT * FROM status_history WHERE station_id = ? AND at >= ? AND at < ?
                ORDER BY at, id LIMIT ?
                """, stationID, from ?? Date(timeIntervalSince1970: 0), to ?? Date.distantFuture, limit
            ) { row in
                HistoryEntry(
                    connectorId: try row.get("connector_id"), kind: try row.get("kind"), previous: try row.get("previous"),
                    status: try row.get("current"), errorCode: try row.get("error_code"), info: try row.get("info"),
                    vendorErrorCode: try row.get("vendor_error_code"), source: try row.get("source"), at: try row.get("at"))
            }
        }
    }
}

struct ConnectorStatusEvent: Encodable, Sendable {
    var stationId: String
    var connectorId: Int
    var previous: ConnectorStatus?
    var status: ConnectorStatus
    var errorCode: String?
    var at: Date
}
