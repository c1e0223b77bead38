import Foundation
import Storage

/// Filters of the station listing; each maps to an indexed SQL condition.
struct StationQuery: Sendable {
    var status: StationStatus?
    var online: Bool?
    var siteID: String?
    var connectorType: ConnectorType?
    var minPowerKw: Double?
    var availableOnly = false
    var text: String?
    var near: (latitude: Double, longitude: Double, radiusKm: Double)?

    var filter: QueryFilter {
        var filter = QueryFilter()
        if let status { filter.equals("status", status.rawValue) }
        if let online { filter.equals("online", online) }
        if let siteID { filter.equals("site_id", siteID) }
        if let connectorType {
            filter.add(
                "EXISTS (SELECT 1 FROM connectors c WHERE c.station_id = stations.id AND c.type = ?)",
                .text(connectorType.rawValue))
        }
        if let minPowerKw {
            filter.add(
                "EXISTS (SELECT 1 FROM connectors c WHERE c.station_id = stations.id AND c.max_power_kw >= ?)",
                .real(minPowerKw))
        }
        if availableOnly {
            filter.add("EXISTS (SELECT 1 FROM connectors c WHERE c.station_id = stations.id AND c.status = 'Available')")
        }
        if let text, !text.isEmpty { filter.contains(text, inAnyOf: ["name", "address"]) }
        if let near {
            // A bounding box the index can use; the exact great-circle test follows in Swift.
            let latitudeDelta = near.radiusKm / 111.0
            let longitudeDelta = near.radiusKm / max(0.01, 111.0 * cos(near.latitude * .pi / 180))
            filter.add(
                "latitude BETWEEN ? AND ? AND longitude IS NOT NULL",
                .real(near.latitude - latitudeDelta), .real(near.latitude + latitudeDelta))
            if near.longitude - longitudeDelta > -180 && near.longitude + longitudeDelta < 180 {
                filter.add(
                    "longitude BETWEEN ? AND ?", .real(near.longitude - longitudeDelta),
                    .real(near.longitude + longitudeDelta))
            }
        }
        return filter
    }
}

struct Availability: Codable, Sendable {
    var stations: Int
    var online: Int
    var stationsByStatus: [String: Int]
    var connectors: Int
    var connectorsByStatus: [String: Int]
}

/// Stations and their connectors.
struct StationRepository: Sendable {
    let database: Database

    func create(_ station: Station, connectors: [Connector]) async throws -> StationView {
        try await database.write { connection in
            try Self.requireTariff(station.tariffId, in: connection)
            try Self.requireSite(station.siteId, in: connection)
            let stored = try TableStore<Station>.insert(station, into: connection)
            for connector in connectors { try Self.insert(connector, station: station.id, in: connection) }
            return StationView(stored, connectors: try Self.connectors(of: station.id, in: connection))
        }
    }

    func get(_ id: String) async throws -> StationView? {
        try await database.read { connection in try Self.view(id, in: connection) }
    }

    func station(_ id: String) async throws -> Station? {
        try await database.read { try TableStore<Station>.fetch(id, from: $0) }
    }

    /// Reads, changes and saves a station in one transaction; a stale `expectedVersion` is a conflict.
    func update(
        _ id: String, expectedVersion: Int64?, now: Date, _ change: @escaping @Sendable (inout Station) throws -> Void
    ) async throws -> StationView {
        try await database.write { connection in
            guard var station = try TableStore<Station>.fetch(id, from: connection) else {
                throw RecordNotFoundError(table: "stations", id: id)
            }
            let version = expectedVersion ?? station.version
            let (tariffBefore, siteBefore) = (station.tariffId, station.siteId)
            try change(&station)
            if station.tariffId != tariffBefore { try Self.requireTariff(station.tariffId, in: connection) }
            if station.siteId != siteBefore { try Self.requireSite(station.siteId, in: connection) }
            station.updatedAt = now
            _ = try TableStore<Station>.update(station, expectedVersion: version, in: connection)
            return try Self.view(id, in: connection)!
        }
    }

    func delete(_ id: String) async throws -> Bool {
        try await database.write { try TableStore<Station>.delete(id, from: $0) }
    }

    func list(_ query: StationQuery, page: PageRequest) async throws -> Page<StationView> {
        try await database.read { connection in
            if let near = query.near {
                return try Self.listNear(near, filter: query.filter, page: page, in: connection)
            }
            let stations = try TableStore<Station>.list(where: query.filter, sort: nil, page: page, in: connection)
            let connectors = try Self.connectors(of: stations.items.map(\.id), in: connection)
            return stations.map { StationView($0, connectors: connectors[$0.id] ?? []) }
        }
    }

    func availability() async throws -> Availability {
        try await database.read { connection in
            let stationCounts = try connection.query("SELECT status, count(*) AS n FROM stations GROUP BY status") {
                (try $0.get("status", as: String.self), try $0.get("n", as: Int.self))
            }
            let online = try connection.queryFirst(
                "SELECT count(*) FROM stations WHERE online = 1 AND status != 'decommissioned'"
            ) { try $0.get(0, as: Int.self) } ?? 0
            // An available connector that a charger accepted a reservation for is not free, whether
            // or not the charger reported it as Reserved.
            let connectorCounts = try connection.query(
                """
                SELECT CASE
                    WHEN c.status = 'Available' AND EXISTS (
                        SELECT 1 FROM reservations r
                        WHERE r.station_id = c.station_id AND r.connector_id = c.connector_id AND r.status = 'active')
                    THEN 'Reserved' ELSE c.status END AS status,
                    count(*) AS n
                FROM connectors c JOIN stations s ON s.id = c.station_id
                WHERE s.status != 'decommissioned' GROUP BY 1
                """
            ) { (try $0.get("status", as: String.self), try $0.get("n", as: Int.self)) }
            var byStatus = Dictionary(uniqueKeysWithValues: StationStatus.allCases.map { ($0.rawValue, 0) })
            for (status, count) in stationCounts { byStatus[status] = count }
            var connectorsByStatus = Dictionary(uniqueKeysWithValues: ConnectorStatus.allCases.map { ($0.rawValue, 0) })
            for (status, count) in connectorCounts { connectorsByStatus[status] = count }
            return Availability(
                stations: stationCounts.reduce(0) { $0 + $1.1 }, online: online, stationsByStatus: byStatus,
                connectors: connectorCounts.reduce(0) { $0 + $1.1 }, connectorsByStatus: connectorsByStatus)
        }
    }

    // MARK: Connectors

    func addConnector(_ connector: Connector, to stationID: String, now: Date) async throws -> StationView {
        try await database.write { connection in
            guard try TableStore<Station>.fetch(stationID, from: connection) != nil else {
                throw RecordNotFoundError(table: "stations", id: stationID)
            }
            try Self.insert(connector, station: stationID, in: connection)
            try Self.touch(stationID, now: now, in: connection)
            return try Self.view(stationID, in: connection)!
        }
    }

    /// Applies `change` to one connector; returns the station and the connector as it was before.
    /// With `history`, the status change it makes is recorded in the same transaction.
    func updateConnector(
        _ connectorID: Int, of stationID: String, now: Date, history: ConnectorStatusHistory? = nil,
        _ change: @escaping @Sendable (inout Connector) throws -> Void
    ) async throws -> (view: StationView, before: Connector) {
        let (view, before, recorded) = try await database.write { connection in
            guard
                let before = try connection.queryFirst(
                    "SELECT * FROM connectors WHERE station_id = ? AND connector_id = ?", stationID, connectorID,
                    map: Connector.init(row:))
            else { throw StationError.connectorNotFound(stationID: stationID, connectorID: connectorID) }
            var connector = before
            try change(&connector)
            if connector.status != before.status { connector.statusUpdatedAt = now }
            try connection.run(
                """
                UPDATE connectors SET type = ?, max_power_kw = ?, status = ?, error_code = ?, status_updated_at = ?
                WHERE station_id = ? AND connector_id = ?
                """, connector.type.rawValue, connector.maxPowerKw, connector.status.rawValue, connector.errorCode,
                connector.statusUpdatedAt, stationID, connectorID)
            try Self.touch(stationID, now: now, in: connection)
            let recorded = try history.flatMap { history in
                try history.describe(before, connector).flatMap { try history.recorder.record($0, in: connection) }
            }
            return (try Self.view(stationID, in: connection)!, before, recorded)
        }
        if let recorded { history?.recorder.publish(recorded) }
        return (view, before)
    }

    func deleteConnector(_ connectorID: Int, of stationID: String, now: Date) async throws {
        try await database.write { connection in
            let deleted = try connection.run(
                "DELETE FROM connectors WHERE station_id = ? AND connector_id = ?", stationID, connectorID)
            guard deleted > 0 else { throw StationError.connectorNotFound(stationID: stationID, connectorID: connectorID) }
            try Self.touch(stationID, now: now, in: connection)
        }
    }

    // MARK: Helpers inside a transaction

    private static func requireTariff(_ id: String?, in connection: Connection) throws {
        guard let id else { return }
        guard try TableStore<Tariff>.fetch(id, from: connection) != nil else {
            throw StationError.unknownTariff(id)
        }
    }

    private static func requireSite(_ id: String?, in connection: Connection) throws {
        guard let id else { return }
        guard try TableStore<Site>.fetch(id, from: connection) != nil else { throw StationError.unknownSite(id) }
    }

    static func view(_ id: String, in connection: Connection) throws -> StationView? {
        guard let station = try TableStore<Station>.fetch(id, from: connection) else { return nil }
        return StationView(station, connectors: try connectors(of: id, in: connection))
    }

    static func connectors(of stationID: String, in connection: Connection) throws -> [Connector] {
        try connection.query(
            "SELECT * FROM connectors WHERE station_id = ? ORDER BY connector_id", stationID, map: Connector.init(row:))
    }

    static func connectors(of stationIDs: [String], in connection: Connection) throws -> [String: [Connector]] {
        guard !stationIDs.isEmpty else { return [:] }
        let placeholders = Array(repeating: "?", count: stationIDs.count).joined(separator: ", ")
        var result: [String: [Connector]] = [:]
        _ = try connection.query(
            "SELECT * FROM connectors WHERE station_id IN (\(placeholders)) ORDER BY station_id, connector_id",
            bindings: stationIDs.map(SQLValue.text)
        ) { row in
            result[try row.get("station_id", as: String.self), default: []].append(try Connector(row: row))
        }
        return result
    }

    private static func insert(_ connector: Connector, station: String, in connection: Connection) throws {
        do {
            try connection.run(
                """
                INSERT INTO connectors (station_id, connector_id, type, max_power_kw, status, error_code, status_updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, station, connector.connectorId, connector.type.rawValue, connector.maxPowerKw,
                connector.status.rawValue, connector.errorCode, connector.statusUpdatedAt)
        } catch let error as SQLiteError where error.kind == .uniqueViolation {
            throw StationError.duplicateConnector(stationID: station, connectorID: connector.connectorId)
        }
    }

    private static func touch(_ stationID: String, now: Date, in connection: Connection) throws {
        try connection.run("UPDATE stations SET updated_at = ?, version = version + 1 WHERE id = ?", now, stationID)
    }

    /// Nearest first. The cursor is the position in the distance order (distance, id), so a page
    /// boundary holds even when stations are added.
    private static func listNear(
        _ near: (latitude: Double, longitude: Double, radiusKm: Double), filter: QueryFilter, page: PageRequest,
        in connection: Connection
    ) throws -> Page<StationView> {
        let candidates = try connection.query(
            "SELECT * FROM stations WHERE \(filter.sql)", bindings: filter.values, map: Station.init(row:))
        var ranked = candidates.compactMap { station -> (Station, Double)? in
            guard let latitude = station.latitude, let longitude = station.longitude else { return nil }
            let distance = GeoDistance.kilometres(
                fromLatitude: near.latitude, longitude: near.longitude, toLatitude: latitude, longitude: longitude)
            return distance <= near.radiusKm ? (station, distance) : nil
        }
        ranked.sort { ($0.1, $0.0.id) < ($1.1, $1.0.id) }
        if let token = page.cursor {
            guard let data = Data(base64URLEncoded: token),
                let position = try? JSONDecoder().decode(NearCursor.self, from: data)
            else { throw InvalidCursorError() }
            ranked.removeAll { ($0.1, $0.0.id) <= (position.distance, position.id) }
        }
        let pageItems = Array(ranked.prefix(page.limit))
        var next: String?
        if ranked.count > page.limit, let last = pageItems.last {
            next = try JSONEncoder().encode(NearCursor(distance: last.1, id: last.0.id)).base64URLEncodedString()
        }
        let connectors = try connectors(of: pageItems.map(\.0.id), in: connection)
        return Page(
            items: pageItems.map { StationView($0.0, connectors: connectors[$0.0.id] ?? [], distanceKm: $0.1) },
            nextCursor: next)
    }

    private struct NearCursor: Codable {
        var distance: Double
        var id: String
    }
}
