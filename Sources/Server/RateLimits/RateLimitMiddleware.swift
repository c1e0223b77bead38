import Foundation
import HTTPTypes
import Hummingbird
import Prometheus

/// Applies the per-client limits to every API and dashboard request. The client is the signed-in
/// user (bearer token or dashboard session), so a leaked token or a buggy app exhausts only its
/// own buckets; anonymous requests and sign-in attempts count against the client address, where
/// `X-Forwarded-For` is believed only from a configured trusted proxy. Over the limit: 429
/// problem+json with `Retry-After`; every limited response carries the IETF draft's
/// `RateLimit-Policy` and `RateLimit` fields. It runs after authentication, which needs no write.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let limiter: RateLimiter
    let trustedProxies: Set<String>
    private let refusals: [RouteClass: Prometheus.Counter]
    private let now: @Sendable () -> Double

    init(
        limiter: RateLimiter, trustedProxies: Set<String>, registry: PrometheusCollectorRegistry,
        now: @escaping @Sendable () -> Double = MonotonicSeconds.now
    ) {
        self.limiter = limiter
        self.trustedProxies = trustedProxies
        self.now = now
        refusals = Dictionary(
            uniqueKeysWithValues: RouteClass.allCases.map { routeClass in
                let counter = registry.makeCounter(
                    descriptor: MetricNameDescriptor(
                        namespace: "http", metricName: "rate_limited", unitName: "total",
                        helpText: "Requests refused with 429 by the per-client limits, by route class"),
                    labels: [("class", routeClass.rawValue)])
                return (routeClass, counter)
            })
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let routeClass = Self.routeClass(method: request.method, path: request.uri.path),
            let rule = limiter.rules[routeClass]
        else {
            return try await next(request, context)
        }
        let client =
            if routeClass != .auth, let userID = context.identity?.userID { "user:" + userID }
            else { "address:" + clientAddress(request, context) }
        switch limiter.take(client, routeClass, now: now()) {
        case .allowed(let remaining):
            var response = try await next(request, context)
            Self.addFields(&response.headers, routeClass, rule, remaining: remaining, resetSeconds: 0)
            return response
        case .refused(let retryAfter):
            refusals[routeClass]?.increment()
            var headers: HTTPFields = [.retryAfter: String(retryAfter)]
            Self.addFields(&headers, routeClass, rule, remaining: 0, resetSeconds: retryAfter)
            throw APIError(
                status: .tooManyRequests, slug: "rate-limited", title: "Too many requests",
                detail: "the \(routeClass.rawValue) limit is \(rule.quota) requests per \(rule.windowSeconds) s; "
                    + "try again in \(retryAfter) s",
                headers: headers)
        }
    }

    static let policyField = HTTPField.Name("RateLimit-Policy")!
    static let stateField = HTTPField.Name("RateLimit")!
    static let forwardedForField = HTTPField.Name("X-Forwarded-For")!

    /// Which limit a request counts against; nil for what is never limited: health and metrics
    /// (probes and scrapers), the dashboard's assets, and chargers' uploads (single-use tokens).
    static func routeClass(method: HTTPRequest.Method, path: String) -> RouteClass? {
        let segments = path.split(separator: "/")
        guard let first = segments.first else { return .reads }
        if first.hasPrefix("health") || first == "metrics" { return nil }
        if first == "ui", segments.count > 1, segments[1] == "assets" { return nil }
        if first == "api", segments.count > 2, segments[2] == "uploads" { return nil }
        let isRead = method == .get || method == .head
        if !isRead {
            if first == "ui", segments.count == 2, segments[1] == "login" { return .auth }
            if first == "api", segments.count > 3, segments[2] == "auth", segments[3] != "logout-all" { return .auth }
        }
        if let last = segments.last, last.hasSuffix(".csv") || (isRead && last == "file" && segments.contains("jobs")) {
            return .exports
        }
        if isRead { return .reads }
        return reachesCharger(segments) ? .commands : .writes
    }

    /// The writes that send a call to a charger: station commands and passthrough, the profile,
    /// list, firmware, diagnostics, log and certificate actions, reservations, and app charging.
    private static func reachesCharger(_ segments: [Substring]) -> Bool {
        let stationAction: Substring? =
            if segments.count >= 5, segments[0] == "api", segments[2] == "stations" { segments[4] }
            else if segments.count >= 4, segments[0] == "ui", segments[1] == "stations" { segments[3] }
            else { nil }
        if let stationAction {
            if chargerActions.contains(stationAction) { return true }
            if stationAction == "credentials", segments.last == "rotate" { return true }
        }
        return segments.contains("reservations") || (segments.contains("me") && segments.contains("charging"))
    }

    private static let chargerActions: Set<Substring> = [
        "commands", "ocpp", "local-list", "charging-profiles", "firmware", "signed-firmware", "diagnostics", "logs",
        "certificates",
    ]

    /// The draft's fields: the policy (quota per window) and what is left of it.
    static func addFields(
        _ headers: inout HTTPFields, _ routeClass: RouteClass, _ rule: RateLimitRule, remaining: Int, resetSeconds: Int
    ) {
        headers[policyField] = "\"\(routeClass.rawValue)\";q=\(rule.quota);w=\(rule.windowSeconds)"
        headers[stateField] = "\"\(routeClass.rawValue)\";r=\(max(0, remaining));t=\(resetSeconds)"
    }

    private func clientAddress(_ request: Request, _ context: Context) -> String {
        Self.clientAddress(
            peer: context.clientAddress ?? "unknown", forwardedFor: request.headers[values: Self.forwardedForField],
            trustedProxies: trustedProxies)
    }

    /// The peer; behind trusted proxies, the nearest `X-Forwarded-For` hop that is not one of them.
    /// Hops further left are whatever the client chose to send, so they never count.
    static func clientAddress(peer: String, forwardedFor: [String], trustedProxies: Set<String>) -> String {
        guard trustedProxies.contains(peer) else { return peer }
        var address = peer
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }
        for hop in hops.reversed().prefix(32) {
            let hop = hop.trimmingCharacters(in: .whitespaces)
            guard !hop.isEmpty, hop.utf8.count <= 64 else { break }
            address = hop
            guard trustedProxies.contains(hop) else { break }
        }
        return address
    }
}
