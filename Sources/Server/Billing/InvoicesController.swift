import Foundation
import Hummingbird
import Storage

/// `/api/v1/invoices`: drivers see and pay their own; operators and admins all; admins void.
struct InvoicesController {
    let database: Database
    let idempotency: Idempotency
    let events: EventBus
    let now: @Sendable () -> Date

    struct PaymentRequest: Decodable, Sendable {
        var amount: Decimal6
        var method: String
        var reference: String?
    }

    struct Payment: Encodable, Sendable {
        var id: String
        var amount: Money
        var method: String
        var reference: String?
        var receivedAt: Date
    }

    struct InvoiceView: Encodable, Sendable {
        var invoice: Invoice
        var payments: [Payment]

        func encode(to encoder: any Encoder) throws {
            try invoice.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(invoice.amountDue, forKey: .amountDue)
            try container.encode(payments, forKey: .payments)
        }

        private enum Keys: String, CodingKey { case amountDue, payments }
    }

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("/api/v1/invoices") { request, context in
            let identity = try context.requireSignedIn()
            let parameters = request.uri.queryParameters
            var filter = QueryFilter()
            if identity.role == .driver {
                filter.ownedBy(user: identity.userID)
            }
            var validator = Validator()
            if let driver = parameters.text("driverId") { filter.equals("driver_id", driver) }
            if let status = validator.parse(parameters.text("status"), as: Invoice.Status.self, field: "status") {
                filter.equals("status", status.rawValue)
            }
            try validator.throwIfInvalid()
            if let from = try parameters.date("from") { filter.add("issued_at >= ?", from.sqlValue) }
            if let to = try parameters.date("to") { filter.add("issued_at < ?", to.sqlValue) }
            let page = try PageRequest(from: parameters)
            let query = filter
            let invoices = try await database.read { try TableStore<Invoice>.list(where: query, sort: nil, page: page, in: $0) }
            return try jsonResponse(ListResponse(items: invoices.items, nextCursor: invoices.nextCursor))
        }
        router.get("/api/v1/invoices/{id}") { _, context in
            let identity = try context.requireSignedIn()
            let id = try context.parameters.require("id")
            return try jsonResponse(try await view(id, visibleTo: identity))
        }
        router.post("/api/v1/invoices/{id}/payments") { request, context in
            let identity = try context.requireSignedIn()
            let id = try context.parameters.require("id")
            let (raw, body) = try await request.bodyAndJSON(as: PaymentRequest.self)
            var validator = Validator()
            validator.check(body.amount > .zero, "amount", "must be more than 0")
            validator.text(body.method, "method", length: 1...50)
            validator.text(body.reference, "reference", length: 0...200)
            try validator.throwIfInvalid()
            _ = try await view(id, visibleTo: identity)
            return try await idempotency.run(request, context: context, body: raw) {
                try JSONReply(try await pay(id, body), status: .created)
            }
        }
        router.post("/api/v1/invoices/{id}/void") { _, context in
            try context.require(.admin)
            let id = try context.parameters.require("id")
            let invoice = try await database.write { connection in
                guard var invoice = try TableStore<Invoice>.fetch(id, from: connection) else {
                    throw InvoiceError.notFound(id)
                }
                switch invoice.status {
                case .void: return invoice
                case .paid: throw InvoiceError.paidCannotBeVoided
                case .issued:
                    guard invoice.amountPaid.minorUnits == 0 else {
                        throw InvoiceError.hasPayments
                    }
                }
                let version = invoice.version
                invoice.status = .void
                return try TableStore<Invoice>.update(invoice, expectedVersion: version, in: connection)
            }
            return try jsonResponse(InvoiceView(invoice: invoice, payments: []))
        }
    }

    private func view(_ id: String, visibleTo identity: Identity) async throws -> InvoiceView {
        let found = try await database.read { connection -> (Invoice, [Payment], String?)? in
            guard let invoice = try TableStore<Invoice>.fetch(id, from: connection) else { return nil }
            let owner = try connection.queryFirst("SELECT user_id FROM drivers WHERE id = ?", invoice.driverId ?? "") {
                try $0.get(0, as: String?.self)
            } ?? nil
            return (invoice, try Self.payments(of: invoice, in: connection), owner)
        }
        guard let (invoice, payments, owner) = found, identity.role != .driver || owner == identity.userID else {
            throw InvoiceError.notFound(id)
        }
        return InvoiceView(invoice: invoice, payments: payments)
    }

    /// Partial payments add up; more than is due is refused; the last one marks the invoice paid.
    private func pay(_ id: String, _ request: PaymentRequest) async throws -> InvoiceView {
        let at = now()
        let view = try await database.write { connection -> InvoiceView in
            guard var invoice = try TableStore<Invoice>.fetch(id, from: connection) else {
                throw InvoiceError.notFound(id)
            }
            guard invoice.status == .issued else {
                throw InvoiceError.notPayable(invoice.status)
            }
            guard let amount = Money(request.amount.formatted(minimumFractionDigits: 0), currency: invoice.currency) else {
                throw InvoiceError.tooManyDecimals(invoice.currency)
            }
            guard amount.minorUnits <= invoice.amountDue.minorUnits else {
                throw InvoiceError.moreThanDue(invoice.amountDue)
            }
            try connection.run(
                "INSERT INTO payments (id, invoice_id, amount, method, reference, received_at) VALUES (?, ?, ?, ?, ?, ?)",
                Identifiers.make(), id, amount.minorUnits, request.method, request.reference, at)
            let version = invoice.version
            // At most the amount due, so the sum stays within the total.
            invoice.amountPaid = Money(minorUnits: invoice.amountPaid.minorUnits + amount.minorUnits, currency: invoice.currency)
            if invoice.amountPaid == invoice.total {
                invoice.status = .paid
                invoice.paidAt = at
            }
            let saved = try TableStore<Invoice>.update(invoice, expectedVersion: version, in: connection)
            return InvoiceView(invoice: saved, payments: try Self.payments(of: saved, in: connection))
        }
        if view.invoice.status == .paid { events.publish("invoice.paid", stationID: nil, payload: view.invoice) }
        return view
    }

    private static func payments(of invoice: Invoice, in connection: Connection) throws -> [Payment] {
        try connection.query("SELECT * FROM payments WHERE invoice_id = ? ORDER BY received_at, id", invoice.id) { row in
            Payment(
                id: try row.get("id"), amount: Money(minorUnits: try row.get("amount"), currency: invoice.currency),
                method: try row.get("method"), reference: try row.get("reference"), receivedAt: try row.get("received_at"))
        }
    }
}
