import Foundation
import Hummingbird
import Storage

/// `/api/v1/invoices`: drivers see and pay their own; operators and admins all; admins void.
struct InvoicesController {
    let invoices: InvoiceService
    let idempotency: Idempotency

    struct PaymentRequest: Decodable, Sendable {
        var amount: Decimal6
        var method: String
        var reference: String?
    }

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("/api/v1/invoices") { request, context in
            let identity = try context.requireSignedIn()
            let parameters = request.uri.queryParameters
            var validator = Validator()
            let status = validator.parse(parameters.text("status"), as: Invoice.Status.self, field: "status")
            try validator.throwIfInvalid()
            let query = InvoiceQuery(
                ownedByUser: identity.role == .driver ? identity.userID : nil, driverID: parameters.text("driverId"),
                status: status, issuedFrom: try parameters.date("from"), issuedBefore: try parameters.date("to"))
            let listed = try await invoices.list(query, page: try PageRequest(from: parameters))
            return try jsonResponse(ListResponse(items: listed.items, nextCursor: listed.nextCursor))
        }
        router.get("/api/v1/invoices/{id}") { _, context in
            let identity = try context.requireSignedIn()
            let id = try context.parameters.require("id")
            return try jsonResponse(try await invoices.view(id, ownedByUser: Self.owner(identity)))
        }
        router.post("/api/v1/invoices/{id}/payments") { request, context in
            let identity = try context.requireSignedIn()
            let id = try context.parameters.require("id")
            let (raw, body) = try await request.bodyAndJSON(as: PaymentRequest.self)
            try Self.validate(body)
            _ = try await invoices.view(id, ownedByUser: Self.owner(identity))
            return try await idempotency.run(request, context: context, body: raw) { key in
                let outcome = try await invoices.pay(
                    id, amount: body.amount, method: body.method, reference: body.reference, idempotencyKey: key)
                return try JSONReply(
                    outcome.view, status: .created,
                    headers: outcome.replayed ? [Idempotency.replayedHeader: "true"] : [:])
            }
        }
        router.post("/api/v1/invoices/{id}/void") { _, context in
            let invoice = try await invoices.void(try context.parameters.require("id"))
            return try jsonResponse(InvoiceView(invoice: invoice, payments: []))
        }
    }

    /// The rules of a payment, for the API and the dashboard's payment form alike.
    static func validate(_ payment: PaymentRequest) throws {
        var validator = Validator()
        validator.check(payment.amount > .zero, "amount", "must be more than 0")
        validator.text(payment.method, "method", length: 1...50)
        validator.text(payment.reference, "reference", length: 0...200)
        try validator.throwIfInvalid()
    }

    /// Drivers see their own invoices only; staff see all.
    private static func owner(_ identity: Identity) -> String? {
        identity.role == .driver ? identity.userID : nil
    }
}
