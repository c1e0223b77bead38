import Foundation

/// A payment received against an invoice.
struct Payment: Encodable, Sendable {
    var id: String
    var amount: Money
    var method: String
    var reference: String?
    var receivedAt: Date
}
