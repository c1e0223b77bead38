import Foundation
import Storage

/// Filters of the session listing and export.
struct SessionQuery: Sendable {
    /// Only sessions of the driver profile of this user (a driver's own).
    var ownedByUser: String?
    var stationID: String?
    var driverID: String?
    var status: SessionStatus?
    var startedFrom: Date?
    var startedBefore: Date?

    var filter: QueryFilter {
        var filter = QueryFilter()
        if let ownedByUser { filter.ownedBy(user: ownedByUser) }
        if let stationID { filter.equals("station_id", stationID) }
        if let driverID { filter.equals("driver_id", driverID) }
        if let status { filter.equals("status", status.rawValue) }
        if let startedFrom { filter.add("started_at >= ?", startedFrom.sqlValue) }
        if let startedBefore { filter.add("started_at < ?", startedBefore.sqlValue) }
        return filter
    }
}
