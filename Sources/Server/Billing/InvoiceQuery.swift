import Foundation
import Storage

/// Filters of the invoice listing.
struct InvoiceQuery: Sendable {
    /// Only invoices of the driver profile of this user (a driver's own).
    var ownedByUser: String?
    var driverID: String?
    var status: Invoice.Status?
    var issuedFrom: Date?
    var issuedBefore: Date?

    var filter: QueryFilter {
        var filter = QueryFilter()
        if let ownedByUser { filter.ownedBy(user: ownedByUser) }
        if let driverID { filter.equals("driver_id", driverID) }
        if let status { filter.equals("status", status.rawValue) }
        if let issuedFrom { filter.add("issued_at >= ?", issuedFrom.sqlValue) }
        if let issuedBefore { filter.add("issued_at < ?", issuedBefore.sqlValue) }
        return filter
    }
}
