import Foundation
import Hummingbird

/// Tariffs: the list, and a tariff with its time windows and the quote calculator.
enum TariffPages {
    static func list(_ tariffs: [Tariff]) -> HTML {
        let rows = tariffs.map { tariff -> HTML in
            """
            <tr>
              <td><a href="/ui/tariffs/\(DashboardLayout.segment(tariff.id))">\(tariff.name)</a>\(tariff.isDefault ? " (default)" : "")</td>
              <td>\(tariff.energyPrice.description) \(tariff.currency.code)/kWh</td>
              <td>\(tariff.timePrice.map { "\($0.description) \(tariff.currency.code)/h" } ?? "—")</td>
              <td>\(tariff.sessionFee.map { "\($0.description) \(tariff.currency.code)" } ?? "—")</td>
              <td>\(tariff.taxRatePercent.description)%</td>
              <td>\(tariff.windows.count)</td>
            </tr>
            """
        }
        return """
            <h1>Tariffs</h1>
            <section class="panel">
              \(DashboardLayout.table(id: "tariffs", ["Name", "Energy", "Time", "Session fee", "Tax", "Windows"], rows, empty: "No tariffs."))
            </section>
            """
    }

    static func detail(_ tariff: Tariff, parameters: Parameters, quote: Result<CostBreakdown, APIError>?) -> HTML {
        let windows = tariff.windows.map { window -> HTML in
            """
            <tr><td>\(window.label)</td><td>\(window.daysOfWeek.map { $0.map(\.rawValue).joined(separator: ", ") } ?? "every day")</td>
            <td>\(window.energyPrice.map { "\($0.description)/kWh" } ?? "—")</td><td>\(window.timePrice.map { "\($0.description)/h" } ?? "—")</td></tr>
            """
        }
        let memberships = [(value: "", label: "none")] + Membership.allCases.map { (value: $0.rawValue, label: $0.rawValue) }
        let result: HTML
        switch quote {
        case .success(let cost):
            let lines = cost.lines.map { "<tr><td>\($0.description)</td><td>\($0.quantity) \($0.unit)</td><td>\(DisplayFormat.money($0.amount))</td></tr>" as HTML }
            result = """
                \(DashboardLayout.table(id: "quote-lines", ["Line", "Quantity", "Amount"], lines, empty: "Nothing to pay."))
                <p>Subtotal \(DisplayFormat.money(cost.subtotal)) · tax \(DisplayFormat.money(cost.tax)) · <strong>total <span id="quote-total">\(DisplayFormat.money(cost.total))</span></strong></p>
                """
        case .failure(let problem):
            result = DashboardLayout.notice(
                ([problem.detail ?? problem.title] + (problem.errors ?? []).map { "\($0.field): \($0.message)" }).joined(separator: "; "), ok: false)
        case nil:
            result = .empty
        }
        return """
            <h1>\(tariff.name)</h1>
            <section class="panel">
              <dl class="facts">
                <dt>Energy</dt><dd>\(tariff.energyPrice.description) \(tariff.currency.code)/kWh</dd>
                <dt>Time</dt><dd>\(tariff.timePrice.map { "\($0.description) \(tariff.currency.code)/h" } ?? "—")</dd>
                <dt>Session fee</dt><dd>\(tariff.sessionFee.map { "\($0.description) \(tariff.currency.code)" } ?? "—")</dd>
                <dt>Idle fee</dt><dd>\(tariff.idleFee.map { "\($0.description) \(tariff.currency.code)/min after \(tariff.idleGraceMinutes) min" } ?? "—")</dd>
                <dt>Tax</dt><dd>\(tariff.taxRatePercent.description)%</dd>
                <dt>Time zone</dt><dd>\(tariff.timeZone)</dd>
              </dl>
              <h2>Time windows</h2>
              \(DashboardLayout.table(["Hours", "Days", "Energy", "Time"], windows, empty: "The base prices apply at all times."))
            </section>
            <section class="panel">
              <h2>Quote</h2>
              <form class="inline" method="get" action="/ui/tariffs/\(DashboardLayout.segment(tariff.id))" id="quote-form">
                <label for="energyKwh">Energy (kWh) <input id="energyKwh" name="energyKwh" inputmode="decimal" required value="\(parameters.text("energyKwh") ?? "20")"></label>
                <label for="durationMinutes">Duration (minutes) <input id="durationMinutes" name="durationMinutes" inputmode="decimal" required value="\(parameters.text("durationMinutes") ?? "60")"></label>
                <label for="membership">Membership <select id="membership" name="membership">\(DashboardLayout.options(memberships, selected: parameters.text("membership") ?? ""))</select></label>
                <button type="submit">Quote</button>
              </form>
              \(result)
            </section>
            """
    }
}
