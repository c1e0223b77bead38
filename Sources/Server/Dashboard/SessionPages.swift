import Foundation
import Storage

/// The session list (with the CSV export) and the session page with its meter chart.
enum SessionPages {
    static let liveEvents = "session.started session.updated session.stopped"

    static func list(filter: SessionListFilter, table: HTML) -> HTML {
        let statuses = [("", "any")] + SessionStatus.allCases.map { ($0.rawValue, $0.rawValue) }
        return """
            <h1>Sessions</h1>
            <form class="inline" method="get" action="/ui/sessions" role="search">
              <label for="stationId">Station <input id="stationId" name="stationId" value="\(filter.stationID)"></label>
              <label for="driverId">Driver id <input id="driverId" name="driverId" value="\(filter.driverID)"></label>
              <label for="status">Status <select id="status" name="status">\(DashboardLayout.options(statuses.map { (value: $0.0, label: $0.1) }, selected: filter.status?.rawValue ?? ""))</select></label>
              <label for="from">Started from <input id="from" name="from" type="date" value="\(filter.fromDay)"></label>
              <label for="to">to <input id="to" name="to" type="date" value="\(filter.toDay)"></label>
              <button type="submit">Filter</button>
              <a href="/ui/sessions/export.csv?\(DashboardLayout.queryString(filter.parameters))" download>Export CSV</a>
            </form>
            <section class="panel" id="session-table" data-live-fragment="/ui/sessions?fragment=table&amp;\(DashboardLayout.queryString(filter.parameters))" data-live-events="\(liveEvents)">\(table)</section>
            """
    }

    static func table(_ page: Page<ChargingSession>, filter: SessionListFilter, format: DisplayFormat) -> HTML {
        let rows = page.items.map { session -> HTML in
            """
            <tr data-session="\(session.id)">
              <td><a href="/ui/sessions/\(DashboardLayout.segment(session.id))">\(format.time(session.startedAt))</a></td>
              <td><a href="\(DashboardLayout.stationPath(session.stationId))">\(session.stationId)</a> #\(session.connectorId)</td>
              <td>\(session.idTag)</td>
              <td>\(session.status.rawValue)</td>
              <td class="session-energy">\(DisplayFormat.energy(session.energyWh))</td>
              <td>\(DisplayFormat.money(session.cost?.total))</td>
              <td>\(session.invoiceId.map { "<a href=\"/ui/invoices/\(DashboardLayout.segment($0))\">invoice</a>" as HTML } ?? .empty)</td>
            </tr>
            """
        }
        let more = DashboardLayout.nextPage("/ui/sessions", cursor: page.nextCursor, filter.parameters)
        return """
            \(DashboardLayout.table(id: "sessions", ["Started", "Station", "Id tag", "Status", "Energy", "Total", "Invoice"], rows, empty: "No sessions match."))
            \(more)
            """
    }

    static func detail(
        _ session: ChargingSession, estimate: CostBreakdown?, samples: [(at: Date, energyWh: Int64, powerW: Int64?)],
        format: DisplayFormat
    ) -> HTML {
        let cost = session.cost ?? estimate
        let lines = (cost?.lines ?? []).map { line -> HTML in
            "<tr><td>\(line.description)</td><td>\(line.quantity) \(line.unit)</td><td>\(DisplayFormat.money(line.amount))</td></tr>"
        }
        let flags = session.flags.map(\.rawValue).joined(separator: ", ")
        return """
            <h1>Session \(session.transactionId) <span class="muted">\(session.status.rawValue)</span></h1>
            <section class="panel">
              <dl class="facts">
                <dt>Station</dt><dd><a href="\(DashboardLayout.stationPath(session.stationId))">\(session.stationId)</a>, connector \(session.connectorId)</dd>
                <dt>Id tag</dt><dd>\(session.idTag)</dd>
                <dt>Started</dt><dd>\(format.time(session.startedAt))</dd>
                <dt>Stopped</dt><dd>\(format.time(session.stoppedAt))\(session.stopReason.map { " (\($0))" } ?? "")</dd>
                <dt>Energy</dt><dd id="session-energy">\(DisplayFormat.energy(session.energyWh))</dd>
                <dt>Meter</dt><dd>\(session.meterStartWh) → \(session.meterStopWh.map(String.init) ?? "…") Wh</dd>
                <dt>\(session.cost == nil ? "Estimated cost" : "Cost")</dt><dd id="session-cost">\(DisplayFormat.money(cost?.total))</dd>
                <dt>Invoice</dt><dd>\(session.invoiceId.map { "<a href=\"/ui/invoices/\(DashboardLayout.segment($0))\">\($0)</a>" as HTML } ?? "—")</dd>
                <dt>Flags</dt><dd>\(flags.isEmpty ? "—" : flags)</dd>
              </dl>
            </section>
            <section class="panel">
              <h2>Energy over time</h2>
              \(Charts.line(samples.map { (at: $0.at, value: Double($0.energyWh) / 1000) }, title: "Energy delivered, kWh", unit: "kWh"))
            </section>
            <section class="panel">
              <h2>Cost</h2>
              \(DashboardLayout.table(["Line", "Quantity", "Amount"], lines, empty: "No tariff applies."))
              \(cost.map { "<p>Subtotal \(DisplayFormat.money($0.subtotal)) · tax \($0.taxRatePercent)% \(DisplayFormat.money($0.tax)) · <strong>total \(DisplayFormat.money($0.total))</strong></p>" as HTML } ?? .empty)
            </section>
            """
    }
}
