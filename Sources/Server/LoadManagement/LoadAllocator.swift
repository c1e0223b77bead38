/// How a site's power is shared among the connectors charging there. A pure function, so every
/// rule has its own test:
/// 1. A connector that ignores its limit is counted at the power it reports; the rest share what
///    is left.
/// 2. In order of priority (higher first), then of arrival (earlier first), each is admitted
///    while the site can still give it its minimum; the ones after that are paused (limit 0) —
///    the newest, lowest-priority sessions first.
/// 3. Every admitted connector gets its minimum (at most its maximum); one whose car has
///    suspended charging gets no more than that.
/// 4. The headroom left goes to the highest priority first, shared equally within a priority and
///    capped at each connector's maximum; what a capped connector cannot take goes to the others.
/// Limits are whole watts and never sum above the site's limit.
enum LoadAllocator {
    struct Demand: Sendable, Equatable {
        var key: String
        /// The most the connector can take, in W.
        var maximumW: Int
        /// The least a car needs to keep charging, in W.
        var minimumW: Int
        var priority: Int = 0
        /// Arrival order: the session's start (seconds since any fixed time).
        var arrival: Double
        /// The car has stopped drawing (SuspendedEV): it keeps its minimum only.
        var suspended = false
        /// The connector draws this much although its limit is lower: counted as it is.
        var ignoringAtW: Int?
    }

    enum State: String, Codable, Sendable {
        case charging, paused, ignoring
    }

    struct Allocation: Sendable, Equatable {
        var key: String
        var limitW: Int
        var state: State
    }

    static func allocate(siteLimitW: Int, _ demands: [Demand]) -> [Allocation] {
        var limits: [String: Int] = [:]
        var states: [String: State] = [:]
        var budget = max(0, siteLimitW)
        for demand in demands {
            guard let drawn = demand.ignoringAtW else { continue }
            limits[demand.key] = max(0, drawn)
            states[demand.key] = .ignoring
            budget -= max(0, drawn)
        }
        budget = max(0, budget)
        let ordered = demands.filter { $0.ignoringAtW == nil }.sorted { left, right in
            if left.priority != right.priority { return left.priority > right.priority }
            if left.arrival != right.arrival { return left.arrival < right.arrival }
            return left.key < right.key
        }
        var admitted: [Demand] = []
        for demand in ordered {
            let minimum = max(0, min(demand.minimumW, demand.maximumW))
            if minimum <= budget {
                admitted.append(demand)
                limits[demand.key] = minimum
                states[demand.key] = .charging
                budget -= minimum
            } else {
                limits[demand.key] = 0
                states[demand.key] = .paused
            }
        }
        // Headroom by priority tier, shared equally and capped (water-filling).
        let tiers = Dictionary(grouping: admitted.filter { !$0.suspended }, by: \.priority).sorted { $0.key > $1.key }
        for (_, tier) in tiers where budget > 0 {
            var open = tier.filter { limits[$0.key]! < $0.maximumW }
            while budget > 0 && !open.isEmpty {
                let share = max(1, budget / open.count)
                var given = 0
                for demand in open {
                    let room = demand.maximumW - limits[demand.key]!
                    let add = min(room, share, budget - given)
                    guard add > 0 else { continue }
                    limits[demand.key]! += add
                    given += add
                }
                budget -= given
                open = open.filter { limits[$0.key]! < $0.maximumW }
                if given == 0 { break }
            }
        }
        return demands.map { Allocation(key: $0.key, limitW: limits[$0.key] ?? 0, state: states[$0.key] ?? .paused) }
    }
}
