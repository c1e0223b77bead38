import Foundation
import Storage

/// Invoices and their payments. A payment and the invoice's paid state are written in one
/// transaction, and a payment carries the idempotency key of the request that made it, so a
/// request retried after a crash finds its payment instead of paying again.
struct InvoiceService: Sendable {
    let database: Database
    let events: EventBus
    let now: @Sendable () -> Date

    struct PaymentOutcome: Sendable {
        var view: InvoiceView
        /// The idempotency key had already paid: `view` is the answer that payment had.
        var replayed: Bool
    }

    func list(_ query: InvoiceQuery, page: PageRequest) async throws -> Page<Invoice> {
        let filter = query.filter
        return try await database.read { try TableStore<Invoice>.list(where: filter, sort: nil, page: page, in: $0) }
    }

    /// The invoice with its payments; `ownedByUser` set hides other drivers' invoices as not found.
    func view(_ id: String, ownedByUser userID: String? = nil) async throws -> InvoiceView {
        let found = try await database.read { connection -> (InvoiceView, String?)? in
            guard let invoice = try TableStore<Invoice>.fetch(id, from: connection) else { return nil }
            let owner = try connection.queryFirst("SELECT user_id FROM drivers WHERE id = ?", invoice.driverId ?? "") {
                try $0.get(0, as: String?.self)
            } ?? nil
            return (InvoiceView(invoice: invoice, payments: try Self.payments(of: invoice, in: connection)), owner)
        }
        guard let (view, owner) = found, userID == nil || owner == userID else { throw InvoiceError.notFound(id) }
        return view
    }

    /// Partial payments add up; more than is due is refused; the last one marks the invoice paid.
    /// With `idempotencyKey`, a payment already recorded under that key is answered again as it was.
    func pay(
        _ id: String, amount: Decimal6, method: String, reference: String?, idempotencyKey: String?
    ) async throws -> PaymentOutcome {
        let at = now()
        let outcome = try await database.write { connection -> PaymentOutcome in
            guard var invoice = try TableStore<Invoice>.fetch(id, from: connection) else {
                throw InvoiceError.notFound(id)
            }
            if let idempotencyKey, let replay = try Self.replay(of: invoice, key: idempotencyKey, in: connection) {
                return PaymentOutcome(view: replay, replayed: true)
            }
            guard invoice.status == .issued else { throw InvoiceError.notPayable(invoice.status) }
            guard let money = Money(amount.formatted(minimumFractionDigits: 0), currency: invoice.currency) else {
                throw InvoiceError.tooManyDecimals(invoice.currency)
            }
            guard money.minorUnits <= invoice.amountDue.minorUnits else {
                throw InvoiceError.moreThanDue(invoice.amountDue)
            }
            try connection.run(
                """
                INSERT INTO payments (id, invoice_id, amount, method, reference, received_at, idempotency_key)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, Identifiers.make(), id, money.minorUnits, method, reference, at, idempotencyKey)
            let version = invoice.version
            // At most the amount due, so the sum stays within the total.
            invoice.amountPaid = Money(minorUnits: invoice.amountPaid.minorUnits + money.minorUnits, currency: invoice.currency)
            if invoice.amountPaid == invoice.total {
                invoice.status = .paid
                invoice.paidAt = at
            }
            let saved = try TableStore<Invoice>.update(invoice, expectedVersion: version, in: connection)
            return PaymentOutcome(
                view: InvoiceView(invoice: saved, payments: try Self.payments(of: saved, in: connection)), replayed: false)
        }
        if !outcome.replayed, outcome.view.invoice.status == .paid {
            events.publish("invoice.paid", stationID: nil, payload: outcome.view.invoice)
        }
        return outcome
    }

    /// Only an issued invoice without payments can be voided; voiding twice is the same.
    func void(_ id: String) async throws -> Invoice {
        try await database.write { connection in
            guard var invoice = try TableStore<Invoice>.fetch(id, from: connection) else {
                throw InvoiceError.notFound(id)
            }
            switch invoice.status {
            case .void: return invoice
            case .paid: throw InvoiceError.paidCannotBeVoided
            case .issued:
                guard invoice.amountPaid.minorUnits == 0 else { throw InvoiceError.hasPayments }
            }
            let version = invoice.version
            invoice.status = .void
            return try TableStore<Invoice>.update(invoice, expectedVersion: version, in: connection)
        }
    }

    /// The invoice as the payment under `key` left it, or nil when the key has not paid. Payments
    /// are never deleted and each one updates the invoice once, so the state right after it is the
    /// payments up to it (by rowid, their insertion order) and one version per later payment less.
    private static func replay(of invoice: Invoice, key: String, in connection: Connection) throws -> InvoiceView? {
        guard
            let rowID = try connection.queryFirst(
                "SELECT rowid FROM payments WHERE invoice_id = ? AND idempotency_key = ?", invoice.id, key,
                map: { try $0.get(0, as: Int64.self) })
        else { return nil }
        let upToIt = try payments(of: invoice, in: connection, upToRowID: rowID)
        let later = try connection.queryFirst(
            "SELECT count(*) FROM payments WHERE invoice_id = ? AND rowid > ?", invoice.id, rowID
        ) { try $0.get(0, as: Int64.self) } ?? 0
        guard later > 0 else { return InvoiceView(invoice: invoice, payments: upToIt) }
        // A payment followed by others did not settle the invoice: it was still issued then.
        var then = invoice
        then.version -= later
        then.amountPaid = Money(minorUnits: upToIt.reduce(0) { $0 + $1.amount.minorUnits }, currency: invoice.currency)
        then.status = .issued
        then.paidAt = nil
        return InvoiceView(invoice: then, payments: upToIt)
    }

    private static func payments(of invoice: Invoice, in connection: Connection, upToRowID: Int64 = .max) throws -> [Payment] {
        try connection.query(
            "SELECT * FROM payments WHERE invoice_id = ? AND rowid <= ? ORDER BY received_at, id", invoice.id, upToRowID
        ) { row in
            Payment(
                id: try row.get("id"), amount: Money(minorUnits: try row.get("amount"), currency: invoice.currency),
                method: try row.get("method"), reference: try row.get("reference"), receivedAt: try row.get("received_at"))
        }
    }
}
