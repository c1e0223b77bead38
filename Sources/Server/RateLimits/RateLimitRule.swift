import Foundation

/// What a request counts against: each class has its own bucket per client.
enum RouteClass: String, Sendable, CaseIterable {
    /// Sign-in, token refresh, password reset: by client address, before anyone is known.
    case auth
    case reads
    case writes
    /// Anything that sends a call to a charger.
    case commands
    /// CSV exports: the heaviest reads.
    case exports
}

/// A token bucket's shape: `quota` requests at once, refilled evenly over `windowSeconds` — the
/// `q` and `w` of the IETF draft's `RateLimit-Policy` field, and written the same way: `1200/60s`.
struct RateLimitRule: Sendable, Equatable, CustomStringConvertible {
    var quota: Int
    var windowSeconds: Int

    var perSecond: Double { Double(quota) / Double(windowSeconds) }
    var description: String { "\(quota)/\(windowSeconds)s" }

    /// `"<quota>/<seconds>s"`; nil when the text is not one.
    init?(_ text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "/")
        guard parts.count == 2, parts[1].hasSuffix("s"), let quota = Int(parts[0]), let window = Int(parts[1].dropLast()),
            (1...1_000_000).contains(quota), (1...86_400).contains(window)
        else { return nil }
        self.init(quota: quota, windowSeconds: window)
    }

    init(quota: Int, windowSeconds: Int) {
        self.quota = quota
        self.windowSeconds = windowSeconds
    }
}

/// A bucket of tokens that refills continuously: the one piece of arithmetic both the HTTP limits
/// and the OCPP throttle use. Times are seconds on a monotonic clock.
struct TokenBucket: Sendable {
    private(set) var tokens: Double
    private(set) var updated: Double

    init(full rule: RateLimitRule, now: Double) {
        tokens = Double(rule.quota)
        updated = now
    }

    /// Takes a token: nil when one was there, else the seconds until one will be.
    mutating func take(_ rule: RateLimitRule, now: Double) -> Double? {
        refill(rule, now: now)
        guard tokens >= 1 else { return (1 - tokens) / rule.perSecond }
        tokens -= 1
        return nil
    }

    /// Whether it has refilled by `now`: such a bucket acts exactly as a new one, so it can go.
    func isFull(_ rule: RateLimitRule, now: Double) -> Bool {
        tokens + max(0, now - updated) * rule.perSecond >= Double(rule.quota)
    }

    private mutating func refill(_ rule: RateLimitRule, now: Double) {
        // A clock that went backwards (it cannot, it is monotonic) would otherwise drain the bucket.
        tokens = min(Double(rule.quota), tokens + max(0, now - updated) * rule.perSecond)
        updated = max(updated, now)
    }
}

/// The limits as configured.
struct RateLimitSettings: Sendable, Equatable {
    /// Per route class; a class without a rule is not limited.
    var rules: [RouteClass: RateLimitRule]
    /// Peers whose `X-Forwarded-For` is believed: the reverse proxies in front of us.
    var trustedProxies: Set<String>

    static let defaultRules: [RouteClass: RateLimitRule] = [
        .auth: RateLimitRule(quota: 20, windowSeconds: 60),
        .reads: RateLimitRule(quota: 1200, windowSeconds: 60),
        .writes: RateLimitRule(quota: 300, windowSeconds: 60),
        .commands: RateLimitRule(quota: 60, windowSeconds: 60),
        .exports: RateLimitRule(quota: 20, windowSeconds: 60),
    ]
}

/// Seconds on the monotonic clock, for token buckets.
enum MonotonicSeconds {
    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}
