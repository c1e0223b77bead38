import Foundation
import OCPP
import Storage

/// One immutable record of something a person did: who, when, from where, to what, and what changed.
struct AuditEntry: Codable, Sendable, Equatable {
    var id: Int64
    var at: Date
    var actorUserId: String?
    var actorRole: String?
    var address: String?
    var userAgent: String?
    var requestId: String?
    var traceId: String?
    /// The request that did it: method and route pattern.
    var route: String?
    /// `<targetType>.create|update|delete`, or `ocpp.<Action>` for a command sent to a charger.
    var action: String
    var targetType: String
    var targetId: String
    var stationId: String?
    var driverId: String?
    /// For a row change `{"column": {"before": …, "after": …}}` of the changed columns (secrets as
    /// `[redacted]`); for a command `{"request": …, "outcome": …}`.
    var changes: JSONValue

    init(row: Row) throws {
        id = try row.get("id", as: Int64.self)
        at = try row.get("at", as: Date.self)
        actorUserId = try row.get("actor_user_id", as: String?.self)
        actorRole = try row.get("actor_role", as: String?.self)
        address = try row.get("address", as: String?.self)
        userAgent = try row.get("user_agent", as: String?.self)
        requestId = try row.get("request_id", as: String?.self)
        traceId = try row.get("trace_id", as: String?.self)
        route = try row.get("route", as: String?.self)
        action = try row.get("action", as: String.self)
        targetType = try row.get("target_type", as: String.self)
        targetId = try row.get("target_id", as: String.self)
        stationId = try row.get("station_id", as: String?.self)
        driverId = try row.get("driver_id", as: String?.self)
        let text = try row.get("changes", as: String.self)
        changes = (try? JSONParser.parse(text)) ?? .string(text)
    }

    /// The changes as one line of JSON (CSV, the dashboard).
    var changesText: String { JSONWriter.string(changes) }
}

/// The filters of the audit listing and export; every one optional.
struct AuditQuery: Sendable, Equatable {
    var actorUserID: String?
    var targetType: String?
    var targetID: String?
    var action: String?
    var stationID: String?
    var driverID: String?
    var from: Date?
    var to: Date?

    var filter: QueryFilter {
        var filter = QueryFilter()
        if let actorUserID { filter.equals("actor_user_id", actorUserID) }
        if let targetType { filter.equals("target_type", targetType) }
        if let targetID { filter.equals("target_id", targetID) }
        if let action { filter.equals("action", action) }
        if let stationID { filter.equals("station_id", stationID) }
        if let driverID { filter.equals("driver_id", driverID) }
        if let from { filter.add("at >= ?", from.sqlValue) }
        if let to { filter.add("at < ?", to.sqlValue) }
        return filter
    }
}
