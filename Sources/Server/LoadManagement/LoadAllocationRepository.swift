import Foundation
import Storage

/// One managed connector's share of its site, as the API shows it.
struct ConnectorAllocation: Codable, Sendable, Equatable {
    var stationId: String
    var connectorId: Int
    var transactionId: Int
    /// What load management gave it, in W (0: paused).
    var limitW: Int
    /// The limit the charger last accepted; nil until it answers.
    var acknowledgedLimitW: Int?
    var state: LoadAllocator.State
    /// The power the charger last reported for the session.
    var reportedPowerW: Int?
    var updatedAt: Date
}

struct SiteAllocation: Codable, Sendable {
    var siteId: String
    var maxPowerKw: Double?
    /// The sum of the limits given (ignoring connectors at their reported power).
    var allocatedW: Int
    var connectors: [ConnectorAllocation]
}

/// What load management reads (a site's charging sessions) and keeps (each connector's share).
struct LoadAllocationRepository: Sendable {
    let database: Database

    /// A session charging at a managed site, with what the allocator needs to know of it.
    struct Charging: Sendable {
        var stationID: String
        var connectorID: Int
        var transactionID: Int
        var connectorMaximumW: Int
        var connectorStatus: String
        var startedAt: Date
        var reportedPowerW: Int?
        var priority: Int
        var previous: ConnectorAllocation?
    }

    /// Every station that belongs to a site with a power limit, with its site.
    func managedStations() async throws -> [String: String] {
        try await database.read { connection in
            var stations: [String: String] = [:]
            _ = try connection.query(
                """
                SELECT s.id, s.site_id FROM stations s JOIN sites t ON t.id = s.site_id WHERE t.max_power_kw IS NOT NULL
                """
            ) { row in stations[try row.get(0, as: String.self)] = try row.get(1, as: String.self) }
            return stations
        }
    }

    /// The site's limit and its charging sessions, read in one snapshot.
    func charging(siteID: String) async throws -> (maxPowerKw: Double?, sessions: [Charging]) {
        try await database.read { connection in
            let limit = try connection.queryFirst("SELECT max_power_kw FROM sites WHERE id = ?", siteID) {
                try $0.get(0, as: Double?.self)
            } ?? nil
            let previous = try Self.allocations(siteID: siteID, in: connection)
            let sessions = try connection.query(
                """
                SELECT s.id AS station_id, c.connector_id, c.max_power_kw, c.status, cs.transaction_id, cs.started_at,
                       cs.current_power_w, coalesce(d.priority, 0) AS priority
                FROM stations s
                JOIN connectors c ON c.station_id = s.id
                JOIN charging_sessions cs ON cs.station_id = s.id AND cs.connector_id = c.connector_id AND cs.status = 'active'
                LEFT JOIN drivers d ON d.id = cs.driver_id
                WHERE s.site_id = ?
                ORDER BY s.id, c.connector_id
                """, siteID
            ) { row in
                let station: String = try row.get("station_id")
                let connector: Int = try row.get("connector_id")
                return Charging(
                    stationID: station, connectorID: connector, transactionID: try row.get("transaction_id"),
                    connectorMaximumW: Int((try row.get("max_power_kw", as: Double.self) * 1000).rounded()),
                    connectorStatus: try row.get("status"), startedAt: try row.get("started_at"),
                    reportedPowerW: try row.get("current_power_w", as: Int64?.self).map { Int(clamping: $0) },
                    priority: try row.get("priority"),
                    previous: previous.first { $0.stationId == station && $0.connectorId == connector })
            }
            return (limit, sessions)
        }
    }

    /// Replaces the site's allocation: connectors no longer charging drop out.
    func store(siteID: String, _ allocations: [ConnectorAllocation]) async throws {
        try await database.write { connection in
            try connection.run("DELETE FROM load_allocations WHERE site_id = ?", siteID)
            for allocation in allocations {
                try connection.run(
                    """
                    INSERT INTO load_allocations (station_id, connector_id, site_id, transaction_id, limit_w,
                        acknowledged_limit_w, state, reported_power_w, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (station_id, connector_id) DO UPDATE SET site_id = excluded.site_id,
                        transaction_id = excluded.transaction_id, limit_w = excluded.limit_w,
                        acknowledged_limit_w = excluded.acknowledged_limit_w, state = excluded.state,
                        reported_power_w = excluded.reported_power_w, updated_at = excluded.updated_at
                    """, allocation.stationId, allocation.connectorId, siteID, allocation.transactionId, allocation.limitW,
                    allocation.acknowledgedLimitW, allocation.state.rawValue, allocation.reportedPowerW, allocation.updatedAt)
            }
        }
    }

    /// The charger accepted `limitW` for the connector's transaction.
    func acknowledge(stationID: String, connectorID: Int, transactionID: Int, limitW: Int) async throws {
        try await database.write { connection in
            try connection.run(
                """
                UPDATE load_allocations SET acknowledged_limit_w = ?
                WHERE station_id = ? AND connector_id = ? AND transaction_id = ?
                """, limitW, stationID, connectorID, transactionID)
        }
    }

    func siteAllocation(_ siteID: String) async throws -> SiteAllocation {
        try await database.read { connection in
            guard let site = try TableStore<Site>.fetch(siteID, from: connection) else { throw SiteError.notFound(siteID) }
            let connectors = try Self.allocations(siteID: siteID, in: connection)
            let allocated = connectors.reduce(0) { total, connector in
                total + (connector.state == .ignoring ? connector.reportedPowerW ?? 0 : connector.limitW)
            }
            return SiteAllocation(siteId: siteID, maxPowerKw: site.maxPowerKw, allocatedW: allocated, connectors: connectors)
        }
    }

    private static func allocations(siteID: String, in connection: Connection) throws -> [ConnectorAllocation] {
        try connection.query(
            "SELECT * FROM load_allocations WHERE site_id = ? ORDER BY station_id, connector_id", siteID
        ) { row in
            ConnectorAllocation(
                stationId: try row.get("station_id"), connectorId: try row.get("connector_id"),
                transactionId: try row.get("transaction_id"), limitW: try row.get("limit_w"),
                acknowledgedLimitW: try row.get("acknowledged_limit_w"), state: try row.decode("state"),
                reportedPowerW: try row.get("reported_power_w"), updatedAt: try row.get("updated_at"))
        }
    }
}
