import Testing

@testable import Server

@Suite("Load allocation: a site's power shared fairly, within caps, minimums and priorities")
struct LoadAllocatorTests {
    typealias Demand = LoadAllocator.Demand

    private func demand(
        _ key: String, max: Int = 22_000, min: Int = 4140, priority: Int = 0, arrival: Double, suspended: Bool = false,
        ignoringAt: Int? = nil
    ) -> Demand {
        Demand(
            key: key, maximumW: max, minimumW: min, priority: priority, arrival: arrival, suspended: suspended,
            ignoringAtW: ignoringAt)
    }

    private func limits(_ allocations: [LoadAllocator.Allocation]) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: allocations.map { ($0.key, $0.limitW) })
    }

    @Test("equal shares when nobody is capped, and never more than the site")
    func fairShare() {
        let result = LoadAllocator.allocate(siteLimitW: 22_000, [demand("a", arrival: 1), demand("b", arrival: 2), demand("c", arrival: 3)])
        let shares = limits(result)
        #expect(shares.values.reduce(0, +) <= 22_000)
        #expect(shares.values.allSatisfy { (7333...7334).contains($0) }, "\(shares)")
        #expect(result.allSatisfy { $0.state == .charging })
    }

    @Test("a connector capped below its share gives the rest to the others")
    func redistribution() {
        let shares = limits(
            LoadAllocator.allocate(siteLimitW: 22_000, [demand("small", max: 3700, min: 1380, arrival: 1), demand("big", arrival: 2)]))
        #expect(shares == ["small": 3700, "big": 18_300])
    }

    @Test("one connector alone gets its maximum, not the whole site")
    func cappedAtMaximum() {
        #expect(limits(LoadAllocator.allocate(siteLimitW: 50_000, [demand("a", max: 11_000, arrival: 1)])) == ["a": 11_000])
    }

    @Test("when the site cannot give everyone the minimum, the newest sessions are paused")
    func pausesNewest() {
        let result = LoadAllocator.allocate(
            siteLimitW: 10_000, [demand("first", arrival: 1), demand("second", arrival: 2), demand("third", arrival: 3)])
        let shares = limits(result)
        #expect(shares["third"] == 0 && result.first { $0.key == "third" }?.state == .paused)
        #expect(shares["first"]! >= 4140 && shares["second"]! >= 4140)
        #expect(shares.values.reduce(0, +) == 10_000)
    }

    @Test("priority keeps a later session charging and gets the headroom first")
    func priority() {
        let result = limits(
            LoadAllocator.allocate(
                siteLimitW: 12_000,
                [demand("early", arrival: 1), demand("late-vip", priority: 5, arrival: 9), demand("middle", arrival: 5)]))
        // Room for two minimums (8280 W): the VIP and the earliest; the VIP takes the rest.
        #expect(result["middle"] == 0)
        #expect(result["early"] == 4140)
        #expect(result["late-vip"] == 12_000 - 4140)
    }

    @Test("a suspended car keeps its minimum only; the others share the rest")
    func suspended() {
        let result = limits(
            LoadAllocator.allocate(siteLimitW: 22_000, [demand("idle", arrival: 1, suspended: true), demand("busy", arrival: 2)]))
        #expect(result == ["idle": 4140, "busy": 22_000 - 4140])
    }

    @Test("a connector ignoring its limit is counted at its reported power; the rest share what is left")
    func ignoring() {
        let result = LoadAllocator.allocate(
            siteLimitW: 22_000, [demand("rogue", arrival: 1, ignoringAt: 16_000), demand("a", arrival: 2), demand("b", arrival: 3)])
        let shares = limits(result)
        #expect(result.first { $0.key == "rogue" }?.state == .ignoring && shares["rogue"] == 16_000)
        // 6000 W left: one minimum (4140) fits, the newest is paused, the first takes the rest.
        #expect(shares["a"] == 6000 && shares["b"] == 0)
        #expect(shares.values.reduce(0, +) <= 22_000)
    }

    @Test("nothing is given past the limit, whatever the inputs")
    func neverAboveTheSite() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let site = Int.random(in: 0...60_000, using: &generator)
            let demands = (0..<Int.random(in: 0...8, using: &generator)).map { index in
                demand(
                    "c\(index)", max: Int.random(in: 1000...50_000, using: &generator),
                    min: Int.random(in: 0...8000, using: &generator), priority: Int.random(in: -1...1, using: &generator),
                    arrival: Double(index), suspended: Bool.random(using: &generator))
            }
            let result = LoadAllocator.allocate(siteLimitW: site, demands)
            #expect(result.map(\.limitW).reduce(0, +) <= site, "site \(site): \(result)")
            for (demand, allocation) in zip(demands, result) {
                #expect(allocation.limitW <= demand.maximumW && allocation.limitW >= 0)
                if allocation.state == .charging { #expect(allocation.limitW >= min(demand.minimumW, demand.maximumW)) }
            }
        }
    }
}
