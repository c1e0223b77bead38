import Foundation
import Storage

enum Granularity: String, Sendable, CaseIterable {
    case hour, day, week, month

    var component: Calendar.Component {
        switch self {
        case .hour: .hour
        case .day: .day
        case .week: .weekOfYear
        case .month: .month
        }
    }
}

struct TimeBucket: Sendable, Equatable {
    var start: Date
    var end: Date
}

/// Aggregates over sessions and the status history. Buckets follow local time in the asked
/// zone — a day bucket runs from local midnight to local midnight, 23 or 25 hours across a DST
/// change — and the sums run in SQL against a VALUES table of those boundaries.
struct AnalyticsService: Sendable {
    static let maximumBuckets = 2000
    let database: Database
    let now: @Sendable () -> Date

    static func buckets(from: Date, to: Date, granularity: Granularity, timeZone: TimeZone) throws -> [TimeBucket] {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = timeZone
        let first: Date
        switch granularity {
        case .hour: first = calendar.dateInterval(of: .hour, for: from)!.start
        case .day: first = calendar.startOfDay(for: from)
        case .week: first = calendar.dateInterval(of: .weekOfYear, for: from)!.start
        case .month: first = calendar.dateInterval(of: .month, for: from)!.start
        }
        var buckets: [TimeBucket] = []
        var index = 0
        var start = first
        while start < to {
            // Counting from the first boundary (not adding to the previous) keeps month ends
            // and DST shifts from drifting.
            let end = calendar.date(byAdding: granularity.component, value: index + 1, to: first)!
            buckets.append(TimeBucket(start: start, end: end))
            guard buckets.count <= maximumBuckets else {
                throw InvalidInput(field: "groupBy", "the range has more than \(maximumBuckets) buckets; choose a coarser groupBy")
            }
            start = end
            index += 1
        }
        return buckets
    }

    struct OpenCounts: Sendable {
        var activeSessions: Int
        var unresolvedAlerts: Int
    }

    /// What is open right now, read in one snapshot.
    func openCounts() async throws -> OpenCounts {
        try await database.read { connection in
            OpenCounts(
                activeSessions: try connection.queryFirst("SELECT count(*) FROM charging_sessions WHERE status = 'active'") {
                    try $0.get(0, as: Int.self)
                } ?? 0,
                unresolvedAlerts: try connection.queryFirst("SELECT count(*) FROM alerts WHERE state != 'resolved'") {
                    try $0.get(0, as: Int.self)
                } ?? 0)
        }
    }

    struct SessionBucket: Encodable, Sendable {
        var start: Date
        var end: Date
        var sessions: Int
        var energyWh: Int64
        var revenue: [String: String]
    }

    /// Completed sessions by the bucket of their stop (when energy is delivered and billed).
    func completedByStop(_ buckets: [TimeBucket], stationID: String?, siteID: String? = nil) async throws -> [SessionBucket] {
        guard !buckets.isEmpty else { return [] }
        let (cte, bindings) = Self.bucketTable(buckets)
        let (stationClause, stationBindings) = Self.scope("s.station_id", stationID: stationID, siteID: siteID)
        let all = bindings + stationBindings
        let rows = try await database.read { connection in
            try connection.query(
                """
                \(cte)
                SELECT b.i AS i, s.currency AS currency, count(s.id) AS sessions,
                       coalesce(sum(s.energy_wh), 0) AS energy, coalesce(sum(s.total_minor), 0) AS revenue
                FROM buckets b
                LEFT JOIN charging_sessions s
                  ON s.stopped_at >= b.start AND s.stopped_at < b.end AND s.status = 'completed' \(stationClause)
                GROUP BY b.i, s.currency ORDER BY b.i
                """, bindings: all
            ) { row in
                (try row.get("i", as: Int.self), try row.get("currency", as: String?.self), try row.get("sessions", as: Int.self),
                 try row.get("energy", as: Int64.self), try row.get("revenue", as: Int64.self))
            }
        }
        var result = buckets.map { SessionBucket(start: $0.start, end: $0.end, sessions: 0, energyWh: 0, revenue: [:]) }
        for (index, currency, sessions, energy, revenue) in rows {
            result[index].sessions += sessions
            result[index].energyWh += energy
            if let code = currency, let currency = Currency(code) {
                result[index].revenue[code] = Money(minorUnits: revenue, currency: currency).decimalString
            }
        }
        return result
    }

    struct StartedBucket: Encodable, Sendable {
        var start: Date
        var end: Date
        var sessions: Int
        var completed: Int
        var averageDurationSeconds: Int
    }

    /// Sessions by the bucket they started in.
    func startedSessions(_ buckets: [TimeBucket], stationID: String?, siteID: String? = nil) async throws -> [StartedBucket] {
        guard !buckets.isEmpty else { return [] }
        let (cte, bindings) = Self.bucketTable(buckets)
        let (stationClause, stationBindings) = Self.scope("s.station_id", stationID: stationID, siteID: siteID)
        let rows = try await database.read { connection in
            try connection.query(
                """
                \(cte)
                SELECT b.i AS i, count(s.id) AS sessions,
                       count(CASE WHEN s.status = 'completed' THEN 1 END) AS completed,
                       coalesce(avg(CASE WHEN s.status = 'completed' THEN s.stopped_at - s.started_at END), 0) AS duration
                FROM buckets b
                LEFT JOIN charging_sessions s ON s.started_at >= b.start AND s.started_at < b.end \(stationClause)
                GROUP BY b.i ORDER BY b.i
                """, bindings: bindings + stationBindings
            ) { row in
                (try row.get("i", as: Int.self), try row.get("sessions", as: Int.self), try row.get("completed", as: Int.self),
                 try row.get("duration", as: Double.self))
            }
        }
        return rows.map { index, sessions, completed, durationMs in
            StartedBucket(
                start: buckets[index].start, end: buckets[index].end, sessions: sessions, completed: completed,
                averageDurationSeconds: Int((durationMs / 1000).rounded()))
        }
    }

    /// " AND <column> …" narrowing an aggregate to one station and/or a site's stations, with its
    /// bindings; empty for every station.
    private static func scope(_ column: String, stationID: String?, siteID: String?) -> (String, [SQLValue]) {
        var clause = ""
        var bindings: [SQLValue] = []
        if let stationID {
            clause += " AND \(column) = ?"
            bindings.append(.text(stationID))
        }
        if let siteID {
            clause += " AND \(column) IN (SELECT id FROM stations WHERE site_id = ?)"
            bindings.append(.text(siteID))
        }
        return (clause, bindings)
    }

    private static func bucketTable(_ buckets: [TimeBucket]) -> (String, [SQLValue]) {
        let rows = Array(repeating: "(?, ?, ?)", count: buckets.count).joined(separator: ", ")
        var bindings: [SQLValue] = []
        bindings.reserveCapacity(buckets.count * 3)
        for (index, bucket) in buckets.enumerated() {
            bindings += [.integer(Int64(index)), bucket.start.sqlValue, bucket.end.sqlValue]
        }
        return ("WITH buckets (i, start, end) AS (VALUES \(rows))", bindings)
    }

    // MARK: Utilization

    struct ConnectorUtilization: Encodable, Sendable {
        var stationId: String
        var connectorId: Int
        var seconds: [String: Int]
        var shares: [String: Double]
    }

    /// How a status counts: Charging; occupied (a car is there but not charging: Preparing,
    /// SuspendedEV/EVSE, Finishing, Reserved); available; unavailable; faulted.
    static func category(_ status: String) -> String {
        switch status {
        case "Charging": "charging"
        case "Available": "available"
        case "Faulted": "faulted"
        case "Unavailable": "unavailable"
        default: "occupied"
        }
    }

    static let categories = ["charging", "occupied", "available", "unavailable", "faulted"]

    /// Share of [from, to) each connector spent in each category, from the status history. Before
    /// a connector's first recorded status it counts as unavailable (its initial state).
    func utilization(from: Date, to: Date, stationID: String?, siteID: String? = nil) async throws -> [ConnectorUtilization] {
        let (stationClause, stationBinding) = Self.scope("station_id", stationID: stationID, siteID: siteID)
        let (connectors, changes) = try await database.read { connection in
            let connectors = try connection.query(
                "SELECT station_id, connector_id FROM connectors WHERE 1 \(stationClause) ORDER BY station_id, connector_id",
                bindings: stationBinding
            ) { (try $0.get(0, as: String.self), try $0.get(1, as: Int.self)) }
            let changes = try connection.query(
                """
                SELECT station_id, connector_id, current, at FROM status_history
                WHERE kind = 'connector' AND at < ? \(stationClause)
                ORDER BY station_id, connector_id, at, id
                """, bindings: [to.sqlValue] + stationBinding
            ) { (try $0.get(0, as: String.self), try $0.get(1, as: Int.self), try $0.get(2, as: String.self), try $0.get(3, as: Date.self)) }
            return (connectors, changes)
        }
        var byConnector: [String: [(String, Date)]] = [:]
        for (station, connector, status, at) in changes {
            byConnector["\(station)#\(connector)", default: []].append((status, at))
        }
        let total = to.timeIntervalSince(from)
        return connectors.map { station, connector in
            var seconds = Dictionary(uniqueKeysWithValues: Self.categories.map { ($0, 0.0) })
            var current = "Unavailable"
            var cursor = from
            for (status, at) in byConnector["\(station)#\(connector)"] ?? [] {
                if at > cursor {
                    seconds[Self.category(current), default: 0] += at.timeIntervalSince(cursor)
                    cursor = at
                }
                current = status
            }
            if to > cursor { seconds[Self.category(current), default: 0] += to.timeIntervalSince(cursor) }
            return ConnectorUtilization(
                stationId: station, connectorId: connector, seconds: seconds.mapValues { Int($0.rounded()) },
                shares: seconds.mapValues { total > 0 ? (($0 / total) * 10_000).rounded() / 10_000 : 0 })
        }
    }
}
