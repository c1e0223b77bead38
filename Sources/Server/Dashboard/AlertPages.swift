import Foundation

/// Alerts by state, each open one with acknowledge and resolve.
enum AlertPages {
    static let liveEvents = "alert.raised alert.resolved"

    static func list(table: HTML, state: String, notice: FormOutcome?) -> HTML {
        let states = AlertState.allCases.map { (value: $0.rawValue, label: $0.rawValue) } + [(value: "all", label: "all")]
        return """
            <h1>Alerts</h1>
            \(DashboardLayout.notice(notice))
            <form class="inline" method="get" action="/ui/alerts" role="search">
              <label for="state">State <select id="state" name="state">\(DashboardLayout.options(states, selected: state))</select></label>
              <button type="submit">Filter</button>
            </form>
            <section class="panel" id="alert-table" data-live-fragment="/ui/alerts?fragment=table&amp;state=\(state)" data-live-events="\(liveEvents)">\(table)</section>
            """
    }

    /// `listState` is the list's filter, where each button's form comes back to.
    static func table(_ alerts: [Alert], listState: String, session: WebSession, format: DisplayFormat) -> HTML {
        let csrf = DashboardLayout.csrfField(session)
        let rows = alerts.map { alert -> HTML in
            func action(_ name: String, _ title: String) -> HTML {
                """
                <form method="post" action="/ui/alerts/\(DashboardLayout.segment(alert.id))/\(name)" class="inline">\(csrf)<input type="hidden" name="returnState" value="\(listState)"><button type="submit" class="secondary">\(title)</button></form>
                """
            }
            let actions: HTML =
                switch alert.state {
                case .open: "\(action("acknowledge", "Acknowledge"))\(action("resolve", "Resolve"))"
                case .acknowledged: action("resolve", "Resolve")
                case .resolved: .empty
                }
            return """
                <tr data-alert="\(alert.id)">
                  <td>\(format.time(alert.raisedAt))</td>
                  <td>\(alert.severity.rawValue)</td>
                  <td>\(alert.kind.rawValue)</td>
                  <td>\(alert.stationId.map { "<a href=\"\(DashboardLayout.stationPath($0))\">\($0)</a>" as HTML } ?? .empty)\(alert.connectorId.map { " #\($0)" } ?? "")</td>
                  <td>\(alert.message)</td>
                  <td class="alert-state">\(alert.state.rawValue)</td>
                  <td>\(actions)</td>
                </tr>
                """
        }
        return DashboardLayout.table(id: "alerts", ["Raised", "Severity", "Kind", "Station", "Message", "State", ""], rows, empty: "No alerts.")
    }
}
