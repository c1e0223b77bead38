import Foundation

/// The landing page: the fleet at a glance, refreshed live.
enum OverviewPage {
    static let liveEvents =
        "connector.status station.online station.offline session.started session.stopped alert.raised alert.resolved invoice.issued"

    static func render(stats: HTML) -> HTML {
        """
        <h1>Overview</h1>
        <div id="overview-stats" data-live-fragment="/ui?fragment=stats" data-live-events="\(liveEvents)">\(stats)</div>
        """
    }

    static func stats(
        availability: Availability, activeSessions: Int, openAlerts: Int,
        today: AnalyticsService.SessionBucket, month: AnalyticsService.SessionBucket, zone: TimeZone
    ) -> HTML {
        func card(_ label: String, _ value: String, id: String) -> HTML {
            "<div class=\"card\" id=\"\(id)\"><div class=\"value\">\(value)</div><div class=\"label\">\(label)</div></div>"
        }
        func revenue(_ bucket: AnalyticsService.SessionBucket) -> String {
            bucket.revenue.isEmpty ? "0" : bucket.revenue.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        }
        let connectorRows = HTML(
            ConnectorStatus.allCases.map { status -> HTML in
                let count = availability.connectorsByStatus[status.rawValue] ?? 0
                return "<tr><td><span class=\"badge status-\(status.rawValue.lowercased())\">\(status.rawValue)</span></td><td data-connector-count=\"\(status.rawValue)\">\(count)</td></tr>"
            })
        // As the API's overview counts them: decommissioned stations are not part of the fleet.
        let inService = availability.stations - (availability.stationsByStatus[StationStatus.decommissioned.rawValue] ?? 0)
        return """
            <div class="cards">
              \(card("stations online", String(availability.online), id: "stations-online"))
              \(card("stations offline", String(inService - availability.online), id: "stations-offline"))
              \(card("charging now", String(activeSessions), id: "sessions-active"))
              \(card("open alerts", String(openAlerts), id: "alerts-open"))
              \(card("energy today", DisplayFormat.energy(today.energyWh), id: "energy-today"))
              \(card("revenue today", revenue(today), id: "revenue-today"))
              \(card("energy this month", DisplayFormat.energy(month.energyWh), id: "energy-month"))
              \(card("revenue this month", revenue(month), id: "revenue-month"))
            </div>
            <p class="muted">Days and months in \(DisplayFormat.zoneName(zone)); energy and revenue of completed sessions.</p>
            <section class="panel">
              <h2>Connectors by status</h2>
              <table><thead><tr><th>Status</th><th>Connectors</th></tr></thead><tbody>\(connectorRows)</tbody></table>
            </section>
            """
    }
}
