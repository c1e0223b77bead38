import Foundation
import Hummingbird

/// Tariffs: the list, and a tariff with its time windows and the quote calculator.
enum TariffPages {
    static func list(_ tariffs: [Tariff], next: HTML, notice: FormOutcome?, session: WebSession) -> HTML {
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
            \(DashboardLayout.notice(notice))
            <section class="panel">
              \(DashboardLayout.table(id: "tariffs", ["Name", "Energy", "Time", "Session fee", "Tax", "Windows"], rows, empty: "No tariffs."))
              \(next)
            </section>
            <details class="panel" id="new-tariff">
              <summary>Add a tariff</summary>
              \(form(action: "/ui/tariffs", tariff: nil, session: session, button: "Add tariff"))
            </details>
            """
    }

    /// The tariff form: base prices, tax, zone, default, and up to four time windows.
    static func form(action: String, tariff: Tariff?, session: WebSession, button: String) -> HTML {
        func price(_ value: Decimal6?) -> String { value.map(\.description) ?? "" }
        let windows = HTML(
            DashboardController.windowRows.map { row -> HTML in
                let window = tariff.flatMap { row <= $0.windows.count ? $0.windows[row - 1] : nil }
                return """
                    <label for="window\(row)-start">Window \(row) from <input id="window\(row)-start" name="window\(row)Start" placeholder="22:00" size="5" value="\(window.map { $0.start.description })"></label>
                    <label for="window\(row)-end">to <input id="window\(row)-end" name="window\(row)End" placeholder="06:00" size="5" value="\(window.map { $0.end.description })"></label>
                    <label for="window\(row)-days">days <input id="window\(row)-days" name="window\(row)Days" placeholder="mon,tue (empty: all)" value="\(window?.daysOfWeek.map { $0.map(\.rawValue).joined(separator: ",") })"></label>
                    <label for="window\(row)-energy">kWh price <input id="window\(row)-energy" name="window\(row)EnergyPrice" inputmode="decimal" size="6" value="\(price(window?.energyPrice))"></label>
                    <label for="window\(row)-time">hour price <input id="window\(row)-time" name="window\(row)TimePrice" inputmode="decimal" size="6" value="\(price(window?.timePrice))"></label>
                    """
            })
        return """
            <form class="inline" method="post" action="\(action)" id="tariff-form">
              \(DashboardLayout.csrfField(session))
              \(tariff.map { "<input type=\"hidden\" name=\"version\" value=\"\($0.version)\">" as HTML } ?? .empty)
              <label for="tariff-name">Name <input id="tariff-name" name="name" required maxlength="200" value="\(tariff?.name)"></label>
              <label for="tariff-currency">Currency <input id="tariff-currency" name="currency" required size="4" maxlength="3" value="\(tariff?.currency.code ?? "EUR")"></label>
              <label for="tariff-energy">Energy price per kWh <input id="tariff-energy" name="energyPrice" inputmode="decimal" required size="6" value="\(price(tariff?.energyPrice))"></label>
              <label for="tariff-time">Price per hour <input id="tariff-time" name="timePrice" inputmode="decimal" size="6" value="\(price(tariff?.timePrice))"></label>
              <label for="tariff-fee">Session fee <input id="tariff-fee" name="sessionFee" inputmode="decimal" size="6" value="\(price(tariff?.sessionFee))"></label>
              <label for="tariff-idle">Idle fee per minute <input id="tariff-idle" name="idleFee" inputmode="decimal" size="6" value="\(price(tariff?.idleFee))"></label>
              <label for="tariff-grace">Idle grace (min) <input id="tariff-grace" name="idleGraceMinutes" inputmode="numeric" size="4" value="\(String(tariff?.idleGraceMinutes ?? 0))"></label>
              <label for="tariff-tax">Tax % <input id="tariff-tax" name="taxRatePercent" inputmode="decimal" size="5" value="\(price(tariff?.taxRatePercent))"></label>
              <label for="tariff-zone">Time zone <input id="tariff-zone" name="timeZone" value="\(tariff?.timeZone ?? "UTC")"></label>
              <label for="tariff-default">Default <input id="tariff-default" name="isDefault" type="checkbox"\(HTML(stringLiteral: tariff?.isDefault == true ? " checked" : ""))></label>
              \(windows)
              <button type="submit">\(button)</button>
            </form>
            """
    }

    static func detail(
        _ tariff: Tariff, parameters: Parameters, quote: Result<CostBreakdown, APIError>?, notice: FormOutcome?, session: WebSession
    ) -> HTML {
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
            \(DashboardLayout.notice(notice))
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
                <label for="startAt">Starts (ISO 8601, empty is now) <input id="startAt" name="startAt" placeholder="2026-01-31T22:00:00Z" value="\(parameters.text("startAt") ?? "")"></label>
                <label for="membership">Membership <select id="membership" name="membership">\(DashboardLayout.options(memberships, selected: parameters.text("membership") ?? ""))</select></label>
                <button type="submit">Quote</button>
              </form>
              \(result)
            </section>
            <section class="panel">
              <h2>Change</h2>
              \(form(action: "/ui/tariffs/" + DashboardLayout.segment(tariff.id) + "/edit", tariff: tariff, session: session, button: "Save tariff"))
            </section>
            """
    }
}
