import Foundation
import Hummingbird
import Storage

/// `/api/v1/analytics/*` and `/api/v1/stations/{id}/metrics`, for operators and admins.
struct AnalyticsController {
    let analytics: AnalyticsService
    let stations: StationRepository

    struct Series<Item: Encodable & Sendable>: Encodable, Sendable {
        var from: Date
        var to: Date
        var groupBy: String
        var timeZone: String
        var stationId: String?
        var siteId: String?
        var buckets: [Item]
    }

    struct Overview: Encodable, Sendable {
        var stations: Int
        var online: Int
        var offline: Int
        var connectorsByStatus: [String: Int]
        var activeSessions: Int
        var today: TodayTotals
        var openAlerts: Int
    }

    struct TodayTotals: Encodable, Sendable {
        var from: Date
        var to: Date
        var energyWh: Int64
        var sessions: Int
        var revenue: [String: String]
    }

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("/api/v1/analytics/overview") { request, context in
            let zone = try Self.timeZone(request.uri.queryParameters)
            var calendar = Calendar(identifier: .iso8601)
            calendar.timeZone = zone
            let todayStart = calendar.startOfDay(for: analytics.now())
            let today = TimeBucket(start: todayStart, end: calendar.date(byAdding: .day, value: 1, to: todayStart)!)
            let availability = try await stations.availability()
            let totals = try await analytics.completedByStop([today], stationID: nil)[0]
            let open = try await analytics.openCounts()
            let live = availability.stations - (availability.stationsByStatus["decommissioned"] ?? 0)
            return try jsonResponse(
                Overview(
                    stations: live, online: availability.online, offline: live - availability.online,
                    connectorsByStatus: availability.connectorsByStatus, activeSessions: open.activeSessions,
                    today: TodayTotals(
                        from: today.start, to: today.end, energyWh: totals.energyWh, sessions: totals.sessions,
                        revenue: totals.revenue),
                    openAlerts: open.unresolvedAlerts))
        }
        for metric in ["energy", "revenue"] {
            router.get("/api/v1/analytics/\(metric)") { request, context in
                return try await Self.series(request) { try await analytics.completedByStop($0, stationID: $1, siteID: $2) }
            }
        }
        router.get("/api/v1/analytics/sessions") { request, context in
            return try await Self.series(request) { try await analytics.startedSessions($0, stationID: $1, siteID: $2) }
        }
        router.get("/api/v1/analytics/utilization") { request, context in
            let (from, to) = try Self.window(request.uri.queryParameters)
            let items = try await analytics.utilization(
                from: from, to: to, stationID: request.uri.queryParameters.text("stationId"),
                siteID: request.uri.queryParameters.text("siteId"))
            return try jsonResponse(["items": items])
        }
        router.get("/api/v1/stations/{id}/metrics") { request, context in
            let id = try context.parameters.require("id")
            guard try await stations.station(id) != nil else { throw APIError.notFound("no station \(id)") }
            let (from, to) = try Self.window(request.uri.queryParameters)
            let window = [TimeBucket(start: from, end: to)]
            let delivered = try await analytics.completedByStop(window, stationID: id)[0]
            let started = try await analytics.startedSessions(window, stationID: id)[0]
            let utilization = try await analytics.utilization(from: from, to: to, stationID: id)
            let down = utilization.reduce(0.0) { $0 + ($1.shares["faulted"] ?? 0) + ($1.shares["unavailable"] ?? 0) }
            let uptime = utilization.isEmpty ? 0 : 1 - down / Double(utilization.count)
            return try jsonResponse(
                StationMetrics(
                    stationId: id, from: from, to: to, energyWh: delivered.energyWh, revenue: delivered.revenue,
                    sessions: started.sessions, completedSessions: started.completed,
                    averageDurationSeconds: started.averageDurationSeconds, uptimeShare: (uptime * 10_000).rounded() / 10_000))
        }
    }

    struct StationMetrics: Encodable, Sendable {
        var stationId: String
        var from: Date
        var to: Date
        var energyWh: Int64
        var revenue: [String: String]
        var sessions: Int
        var completedSessions: Int
        var averageDurationSeconds: Int
        /// Share of connector time not Faulted or Unavailable.
        var uptimeShare: Double
    }

    /// A bucketed series for `from`, `to`, `groupBy`, `tz`, `stationId` and `siteId`.
    private static func series<Item: Encodable & Sendable>(
        _ request: Request, aggregate: ([TimeBucket], String?, String?) async throws -> [Item]
    ) async throws -> Response {
        let (from, to, granularity, zone, station) = try range(request.uri.queryParameters)
        let site = request.uri.queryParameters.text("siteId")
        let buckets = try AnalyticsService.buckets(from: from, to: to, granularity: granularity, timeZone: zone)
        return try jsonResponse(
            Series(
                from: from, to: to, groupBy: granularity.rawValue, timeZone: zone.identifier, stationId: station, siteId: site,
                buckets: try await aggregate(buckets, station, site)))
    }

    private static func timeZone(_ parameters: Parameters) throws -> TimeZone {
        guard let name = parameters.text("tz") else { return TimeZone(identifier: "UTC")! }
        guard let zone = TimeZone(identifier: name) else {
            throw APIError.validation(field: "tz", "must be an IANA time zone such as Europe/Berlin")
        }
        return zone
    }

    private static func window(_ parameters: Parameters) throws -> (Date, Date) {
        var validator = Validator()
        let from = try parameters.date("from")
        let to = try parameters.date("to")
        validator.check(from != nil, "from", "is required")
        validator.check(to != nil, "to", "is required")
        try validator.throwIfInvalid()
        guard from! < to! else { throw APIError.validation(field: "to", "must be after from") }
        return (from!, to!)
    }

    private static func range(_ parameters: Parameters) throws -> (Date, Date, Granularity, TimeZone, String?) {
        let (from, to) = try window(parameters)
        var validator = Validator()
        let granularity = validator.parse(parameters.text("groupBy") ?? "day", as: Granularity.self, field: "groupBy")
        try validator.throwIfInvalid()
        return (from, to, granularity!, try timeZone(parameters), parameters.text("stationId"))
    }
}
