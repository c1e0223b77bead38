import Foundation
import Storage

/// The invoice list and the invoice page with its payments, the payment form and voiding.
enum InvoicePages {
    static func list(_ page: Page<Invoice>, status: Invoice.Status?, format: DisplayFormat) -> HTML {
        let statuses = [(value: "", label: "any")] + Invoice.Status.allCases.map { (value: $0.rawValue, label: $0.rawValue) }
        let rows = page.items.map { invoice -> HTML in
            """
            <tr>
              <td><a href="/ui/invoices/\(DashboardLayout.segment(invoice.id))">\(invoice.number)</a></td>
              <td>\(format.time(invoice.issuedAt))</td>
              <td>\(invoice.status.rawValue)</td>
              <td>\(DisplayFormat.money(invoice.total))</td>
              <td>\(DisplayFormat.money(invoice.amountPaid))</td>
              <td>\(format.time(invoice.dueAt))</td>
            </tr>
            """
        }
        let more = DashboardLayout.nextPage("/ui/invoices", cursor: page.nextCursor, [("status", status?.rawValue)])
        return """
            <h1>Invoices</h1>
            <form class="inline" method="get" action="/ui/invoices" role="search">
              <label for="status">Status <select id="status" name="status">\(DashboardLayout.options(statuses, selected: status?.rawValue ?? ""))</select></label>
              <button type="submit">Filter</button>
            </form>
            <section class="panel">
              \(DashboardLayout.table(id: "invoices", ["Number", "Issued", "Status", "Total", "Paid", "Due"], rows, empty: "No invoices."))
              \(more)
            </section>
            """
    }

    static func detail(_ view: InvoiceView, notice: FormOutcome?, session: WebSession, format: DisplayFormat) -> HTML {
        let invoice = view.invoice
        let path = "/ui/invoices/" + DashboardLayout.segment(invoice.id)
        let lines = invoice.lines.map { line -> HTML in
            "<tr><td>\(line.description)</td><td>\(line.quantity) \(line.unit)</td><td>\(line.unitPrice)</td><td>\(DisplayFormat.money(line.amount))</td></tr>"
        }
        let payments = view.payments.map { payment -> HTML in
            "<tr><td>\(format.time(payment.receivedAt))</td><td>\(DisplayFormat.money(payment.amount))</td><td>\(payment.method)</td><td>\(payment.reference)</td></tr>"
        }
        let outstanding = Money(minorUnits: invoice.total.minorUnits - invoice.amountPaid.minorUnits, currency: invoice.currency)
        let csrf = DashboardLayout.csrfField(session)
        let paymentForm: HTML =
            invoice.status == .issued
            ? """
            <form class="inline" method="post" action="\(path)/payments" id="record-payment">
              \(csrf)<input type="hidden" name="idempotencyKey" value="\(Identifiers.randomToken(bytes: 16))">
              <label for="amount">Amount (\(invoice.currency.code)) <input id="amount" name="amount" inputmode="decimal" required value="\(outstanding.decimalString)"></label>
              <label for="method">Method <select id="method" name="method">\(DashboardLayout.options(["card", "cash", "bank-transfer", "other"].map { (value: $0, label: $0) }, selected: "card"))</select></label>
              <label for="reference">Reference <input id="reference" name="reference" maxlength="200"></label>
              <button type="submit">Record payment</button>
            </form>
            """ : .empty
        let voidForm: HTML =
            invoice.status == .issued && session.identity.role == .admin
            ? """
            <form class="inline" method="post" action="\(path)/void" id="void-invoice" data-confirm="Void invoice \(invoice.number)?">
              \(csrf)<button type="submit" class="secondary">Void invoice</button>
            </form>
            """ : .empty
        return """
            <h1>Invoice \(invoice.number) <span class="muted" id="invoice-status">\(invoice.status.rawValue)</span></h1>
            \(DashboardLayout.notice(notice))
            <section class="panel">
              <dl class="facts">
                <dt>Session</dt><dd><a href="/ui/sessions/\(DashboardLayout.segment(invoice.sessionId))">\(invoice.sessionId)</a></dd>
                <dt>Issued</dt><dd>\(format.time(invoice.issuedAt))</dd>
                <dt>Due</dt><dd>\(format.time(invoice.dueAt))</dd>
                <dt>Paid</dt><dd>\(format.time(invoice.paidAt))</dd>
              </dl>
            </section>
            <section class="panel">
              <h2>Lines</h2>
              \(DashboardLayout.table(id: "invoice-lines", ["Line", "Quantity", "Unit price", "Amount"], lines, empty: "No lines."))
              <p>Subtotal \(DisplayFormat.money(invoice.subtotal)) · tax \(DisplayFormat.money(invoice.tax)) · <strong>total <span id="invoice-total">\(DisplayFormat.money(invoice.total))</span></strong> · paid <span id="invoice-paid">\(DisplayFormat.money(invoice.amountPaid))</span> · outstanding <span id="invoice-outstanding">\(DisplayFormat.money(outstanding))</span></p>
            </section>
            <section class="panel">
              <h2>Payments</h2>
              \(DashboardLayout.table(id: "payments", ["Received", "Amount", "Method", "Reference"], payments, empty: "No payments yet."))
              \(paymentForm)
              \(voidForm)
            </section>
            """
    }
}
