import Foundation
import Hummingbird

/// What the analytics page charts: a metric per time bucket over a range of days in the
/// display time zone, for one station or all.
struct AnalyticsChart: Sendable {
    enum Metric: String, CaseIterable, Sendable {
        case energy, revenue, sessions
    }

    var metric: Metric
    var granularity: Granularity
    var fromDay: String
    var toDay: String
    var from: Date
    /// Exclusive: the end of `toDay`.
    var to: Date
    var stationID: String?
    /// Only the stations of this site.
    var siteID: String?
    var currency: String?
    var buckets: [TimeBucket]

    /// Defaults: energy per day over the last seven days.
    init(_ fields: FormFields, format: DisplayFormat, now: Date) throws {
        var validator = Validator()
        func nonEmpty(_ name: String) -> String? { fields.text(name).map { String($0.prefix(100)) } }
        metric = validator.parse(nonEmpty("metric") ?? Metric.energy.rawValue, as: Metric.self, field: "metric") ?? .energy
        granularity = validator.parse(nonEmpty("groupBy") ?? Granularity.day.rawValue, as: Granularity.self, field: "groupBy") ?? .day
        let today = format.day(now)
        toDay = nonEmpty("to") ?? today
        let end = format.startOfDay(toDay).flatMap { format.calendar.date(byAdding: .day, value: 1, to: $0) }
        fromDay = nonEmpty("from") ?? format.day(format.calendar.date(byAdding: .day, value: -6, to: format.startOfDay(today) ?? now) ?? now)
        let start = format.startOfDay(fromDay)
        validator.check(start != nil, "from", "must be a day such as 2026-11-01")
        validator.check(end != nil, "to", "must be a day such as 2026-11-28")
        stationID = nonEmpty("stationId")
        siteID = nonEmpty("siteId")
        currency = nonEmpty("currency")?.uppercased()
        try validator.throwIfInvalid()
        guard let start, let end, start < end else { throw APIError.validation(field: "to", "must not be before from") }
        from = start
        to = end
        buckets = try AnalyticsService.buckets(from: start, to: end, granularity: granularity, timeZone: format.timeZone)
    }

    /// Each bucket's value for the chart and its exact text for the table.
    func values(_ analytics: AnalyticsService) async throws -> [(bucket: TimeBucket, value: Double, text: String)] {
        switch metric {
        case .energy:
            return try await analytics.completedByStop(buckets, stationID: stationID, siteID: siteID).map {
                (TimeBucket(start: $0.start, end: $0.end), Double($0.energyWh) / 1000, DisplayFormat.energy($0.energyWh))
            }
        case .revenue:
            let rows = try await analytics.completedByStop(buckets, stationID: stationID, siteID: siteID)
            let code = currency ?? rows.lazy.flatMap(\.revenue.keys).min() ?? "EUR"
            return rows.map { row in
                let amount = row.revenue[code] ?? "0"
                return (TimeBucket(start: row.start, end: row.end), Double(amount) ?? 0, "\(amount) \(code)")
            }
        case .sessions:
            return try await analytics.startedSessions(buckets, stationID: stationID, siteID: siteID).map {
                (TimeBucket(start: $0.start, end: $0.end), Double($0.sessions), String($0.sessions))
            }
        }
    }
}

enum AnalyticsPage {
    static let classes = AnalyticsService.categories

    /// The mean share of each class over the connectors, in percent.
    static func classShares(_ utilization: [AnalyticsService.ConnectorUtilization]) -> [(label: String, value: Double)] {
        classes.map { name in
            (label: name, value: 100 * utilization.reduce(0) { $0 + ($1.shares[name] ?? 0) } / Double(max(utilization.count, 1)))
        }
    }

    static func render(
        _ chart: AnalyticsChart, values: [(bucket: TimeBucket, value: Double, text: String)],
        utilization: [AnalyticsService.ConnectorUtilization], sites: [Site], format: DisplayFormat
    ) -> HTML {
        func label(_ bucket: TimeBucket) -> String {
            let day = format.day(bucket.start)
            switch chart.granularity {
            case .hour: return day + " " + String(format: "%02d:00", format.calendar.component(.hour, from: bucket.start))
            case .day, .week: return day
            case .month: return String(day.prefix(7))
            }
        }
        let unit = switch chart.metric {
            case .energy: "kWh"
            case .revenue: chart.currency ?? "revenue"
            case .sessions: "sessions"
        }
        let rows = values.map { "<tr><td>\(label($0.bucket))</td><td>\($0.text)</td></tr>" as HTML }
        let shares = utilization.map { item -> HTML in
            func percent(_ key: String) -> String { String(format: "%.1f%%", (item.shares[key] ?? 0) * 100) }
            return "<tr><td>\(item.stationId) #\(item.connectorId)</td>\(HTML(classes.map { "<td>\(percent($0))</td>" }))</tr>"
        }
        return """
            <h1>Analytics</h1>
            <form class="inline" method="get" action="/ui/analytics" id="analytics-form">
              <label for="metric">Metric <select id="metric" name="metric">\(DashboardLayout.options(AnalyticsChart.Metric.allCases.map { (value: $0.rawValue, label: $0.rawValue) }, selected: chart.metric.rawValue))</select></label>
              <label for="groupBy">Per <select id="groupBy" name="groupBy">\(DashboardLayout.options(Granularity.allCases.map { (value: $0.rawValue, label: $0.rawValue) }, selected: chart.granularity.rawValue))</select></label>
              <label for="from">From <input id="from" name="from" type="date" value="\(chart.fromDay)"></label>
              <label for="to">To <input id="to" name="to" type="date" value="\(chart.toDay)"></label>
              <label for="stationId">Station <input id="stationId" name="stationId" value="\(chart.stationID)" placeholder="all"></label>
              <label for="siteId">Site <select id="siteId" name="siteId"><option value="">all</option>\(DashboardLayout.options(sites.map { (value: $0.id, label: $0.name) }, selected: chart.siteID ?? ""))</select></label>
              <button type="submit">Show</button>
            </form>
            <section class="panel">
              <h2>\(chart.metric.rawValue) per \(chart.granularity.rawValue), \(DisplayFormat.zoneName(format.timeZone))</h2>
              \(Charts.bars(values.map { (label: label($0.bucket), value: $0.value) }, title: "\(chart.metric.rawValue) per \(chart.granularity.rawValue)", unit: unit))
              \(DashboardLayout.table(id: "analytics-table", [chart.granularity.rawValue, chart.metric.rawValue], rows, empty: "No buckets."))
            </section>
            <section class="panel">
              <h2>Utilization by connector</h2>
              \(utilization.isEmpty ? HTML.empty : Charts.bars(classShares(utilization), title: "Share of connector time by class", unit: "%"))
              \(DashboardLayout.table(id: "utilization", ["Connector", "Charging", "Occupied", "Available", "Unavailable", "Faulted"], shares, empty: "No connector history in this range."))
            </section>
            """
    }
}
