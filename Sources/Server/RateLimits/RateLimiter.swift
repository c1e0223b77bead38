import Synchronization

/// Token buckets per client and route class, in memory: no database write per request (several
/// nodes would share them through the key/value store instead). Bounded: a bucket that has
/// refilled is worth nothing and `sweep` drops it, and at `maximumBuckets` the refilled ones go
/// first, then the longest idle half — so a flood of distinct clients cannot grow it without end.
final class RateLimiter: Sendable {
    enum Decision: Sendable, Equatable {
        case allowed(remaining: Int)
        case refused(retryAfterSeconds: Int)
    }

    private struct Key: Hashable {
        var client: String
        var routeClass: RouteClass
    }

    let rules: [RouteClass: RateLimitRule]
    let maximumBuckets: Int
    private let buckets = Mutex<[Key: TokenBucket]>([:])

    init(rules: [RouteClass: RateLimitRule], maximumBuckets: Int = 100_000) {
        self.rules = rules
        self.maximumBuckets = max(1, maximumBuckets)
    }

    var count: Int { buckets.withLock { $0.count } }

    /// Takes one token for `client` in `routeClass` at `now` (seconds on a monotonic clock).
    func take(_ client: String, _ routeClass: RouteClass, now: Double) -> Decision {
        guard let rule = rules[routeClass] else { return .allowed(remaining: .max) }
        let key = Key(client: client, routeClass: routeClass)
        return buckets.withLock { buckets in
            if buckets[key] == nil && buckets.count >= maximumBuckets {
                Self.evict(&buckets, rules: rules, now: now)
            }
            var bucket = buckets[key] ?? TokenBucket(full: rule, now: now)
            let wait = bucket.take(rule, now: now)
            buckets[key] = bucket
            guard let wait else { return .allowed(remaining: Int(bucket.tokens)) }
            return .refused(retryAfterSeconds: max(1, Int(wait.rounded(.up))))
        }
    }

    /// Drops the buckets that have refilled.
    func sweep(now: Double) {
        buckets.withLock { Self.dropFull(&$0, rules: rules, now: now) }
    }

    private static func dropFull(_ buckets: inout [Key: TokenBucket], rules: [RouteClass: RateLimitRule], now: Double) {
        buckets = buckets.filter { key, bucket in
            guard let rule = rules[key.routeClass] else { return false }
            return !bucket.isFull(rule, now: now)
        }
    }

    /// At the bound: the refilled buckets go; if that frees nothing, the longest idle half — a
    /// client it held back starts afresh, which is the price of a bound. Sorting is paid once per
    /// `maximumBuckets / 2` new clients, not per request.
    private static func evict(_ buckets: inout [Key: TokenBucket], rules: [RouteClass: RateLimitRule], now: Double) {
        let countBefore = buckets.count
        dropFull(&buckets, rules: rules, now: now)
        guard buckets.count == countBefore else { return }
        let idlest = buckets.sorted { $0.value.updated < $1.value.updated }.prefix(max(1, buckets.count / 2)).map(\.key)
        for key in idlest { buckets.removeValue(forKey: key) }
    }
}
