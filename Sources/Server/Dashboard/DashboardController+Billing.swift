import Foundation
import Hummingbird
import Storage

/// The dashboard's sessions and invoices.
extension DashboardController {
    func addBillingRoutes(to router: some RouterMethods<AppRequestContext>) {
        let sessionsAPI = SessionsController(sessions: dependencies.sessions, idempotency: dependencies.idempotency)
        router.get("/ui/sessions") { request, context in
            let filter = try SessionListFilter(context.form, format: format)
            let page = try await dependencies.sessions.list(filter.query, page: PageRequest(limit: 50, cursor: filter.cursor))
            let table = SessionPages.table(page, filter: filter, format: format)
            if request.uri.queryParameters.text("fragment") == "table" { return DashboardLayout.response(table) }
            return DashboardLayout.response(
                DashboardLayout.page(
                    title: "Sessions", current: "/ui/sessions", session: context.webSession,
                    SessionPages.list(filter: filter, table: table)))
        }
        router.get("/ui/sessions/export.csv") { _, context in
            let filter = try SessionListFilter(context.form, format: format)
            return try await sessionsAPI.csv(filter.query)
        }
        router.get("/ui/sessions/{id}") { _, context in
            let id = try context.parameters.require("id")
            guard let session = try await dependencies.sessions.session(id) else { throw SessionError.notFound(id) }
            let estimate = try await dependencies.sessions.estimate(session)
            let samples = try await dependencies.sessions.samples(of: id)
            return DashboardLayout.response(
                DashboardLayout.page(
                    title: "Session \(session.transactionId)", current: "/ui/sessions", session: context.webSession,
                    SessionPages.detail(session, estimate: estimate, samples: samples, format: format)))
        }
        router.get("/ui/invoices") { request, context in
            var validator = Validator()
            let status = validator.parse(
                request.uri.queryParameters.text("status").flatMap { $0.isEmpty ? nil : $0 }, as: Invoice.Status.self,
                field: "status")
            try validator.throwIfInvalid()
            let page = try await dependencies.invoices.list(
                InvoiceQuery(status: status), page: PageRequest(limit: 50, cursor: request.uri.queryParameters.text("cursor")))
            return DashboardLayout.response(
                DashboardLayout.page(
                    title: "Invoices", current: "/ui/invoices", session: context.webSession,
                    InvoicePages.list(page, status: status, format: format)))
        }
        router.get("/ui/invoices/{id}") { request, context in
            let view = try await dependencies.invoices.view(try context.parameters.require("id"))
            let notice = try await takeNotice(request.uri.queryParameters.text("outcome"), context: context)
            return DashboardLayout.response(
                DashboardLayout.page(
                    title: "Invoice \(view.invoice.number)", current: "/ui/invoices", session: context.webSession,
                    InvoicePages.detail(view, notice: notice, session: try requireSession(context), format: format)))
        }
        router.post("/ui/invoices/{id}/payments") { _, context in
            let id = try context.parameters.require("id")
            let form = context.form
            let outcome: FormOutcome
            do {
                guard let amount = form.text("amount").flatMap(Decimal6.init) else {
                    throw APIError.validation(field: "amount", "must be a decimal amount such as 12.50")
                }
                let payment = InvoicesController.PaymentRequest(amount: amount, method: form.text("method") ?? "", reference: form.text("reference"))
                try InvoicesController.validate(payment)
                // The form's one-time key makes a double submit record the payment once.
                let paid = try await dependencies.invoices.pay(
                    id, amount: payment.amount, method: payment.method, reference: payment.reference,
                    idempotencyKey: form.text("idempotencyKey").map { "ui:" + String($0.prefix(100)) })
                outcome = .done(
                    "payment: recorded \(DisplayFormat.money(paid.view.payments.last?.amount)); the invoice is \(paid.view.invoice.status.rawValue)")
            } catch {
                outcome = try Self.failure("payment", error)
            }
            return try await redirect(to: "/ui/invoices/" + DashboardLayout.segment(id), with: outcome, context: context)
        }
        router.post("/ui/invoices/{id}/void") { _, context in
            let id = try context.parameters.require("id")
            let outcome: FormOutcome
            do {
                let invoice = try await dependencies.invoices.void(id)
                outcome = .done("void: invoice \(invoice.number) is void")
            } catch {
                outcome = try Self.failure("void", error)
            }
            return try await redirect(to: "/ui/invoices/" + DashboardLayout.segment(id), with: outcome, context: context)
        }
    }
}

/// The session list's filters: station, status and a range of days in the display time zone.
struct SessionListFilter: Sendable {
    var stationID: String?
    var driverID: String?
    var status: SessionStatus?
    var fromDay: String?
    var toDay: String?
    var from: Date?
    var before: Date?
    var cursor: String?

    init(_ fields: FormFields, format: DisplayFormat) throws {
        var validator = Validator()
        func nonEmpty(_ name: String) -> String? { fields.text(name).map { String($0.prefix(100)) } }
        stationID = nonEmpty("stationId")
        driverID = nonEmpty("driverId")
        status = nonEmpty("status").flatMap { validator.parse($0, as: SessionStatus.self, field: "status") }
        fromDay = nonEmpty("from")
        toDay = nonEmpty("to")
        if let fromDay {
            from = format.startOfDay(fromDay)
            validator.check(from != nil, "from", "must be a day such as 2026-11-28")
        }
        if let toDay {
            before = format.startOfDay(toDay).flatMap { format.calendar.date(byAdding: .day, value: 1, to: $0) }
            validator.check(before != nil, "to", "must be a day such as 2026-11-28")
        }
        cursor = nonEmpty("cursor")
        try validator.throwIfInvalid()
    }

    var query: SessionQuery {
        SessionQuery(stationID: stationID, driverID: driverID, status: status, startedFrom: from, startedBefore: before)
    }

    /// The filters as query parameters, for links that keep them.
    var parameters: [(String, String?)] {
        [("stationId", stationID), ("driverId", driverID), ("status", status?.rawValue), ("from", fromDay), ("to", toDay)]
    }
}
