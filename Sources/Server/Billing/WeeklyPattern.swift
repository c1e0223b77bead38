import Foundation

/// A tariff's price windows as one repeating local week, so that a span of any length is priced
/// by arithmetic — whole weeks times one week's seconds per window, plus the remainder — instead
/// of day by day. Local time is UTC plus the zone's offset; the span is cut at each daylight-saving
/// transition (two a year at most), so each piece has one offset and the week repeats exactly in it.
struct WeeklyPattern {
    static let week: Double = 7 * 86_400

    /// The prices that can apply: the base price (nil) first, then each distinct window.
    let slots: [TariffWindow?]
    /// [0, week) in seconds since local Sunday 00:00, cut where a window opens or closes.
    private let intervals: [(start: Double, end: Double, slot: Int)]
    private let weekSeconds: [Double]
    private let timeZone: TimeZone

    init(tariff: Tariff) {
        timeZone = TimeZone(identifier: tariff.timeZone) ?? TimeZone(identifier: "UTC")!
        var slots: [TariffWindow?] = [nil]
        for window in tariff.windows where !slots.contains(where: { $0 == window }) { slots.append(window) }
        self.slots = slots
        var boundaries: Set<Double> = [0, Self.week]
        for (day, weekday) in Weekday.allCases.enumerated() {
            for window in tariff.windows where window.applies(on: weekday) {
                let closesDay = window.end > window.start ? day : day + 1
                for seconds in [day * 86_400 + window.start.minutes * 60, closesDay * 86_400 + window.end.minutes * 60] {
                    boundaries.insert(Double(seconds).truncatingRemainder(dividingBy: Self.week))
                }
            }
        }
        let ordered = boundaries.sorted()
        var intervals: [(start: Double, end: Double, slot: Int)] = []
        var weekSeconds = [Double](repeating: 0, count: slots.count)
        for (from, to) in zip(ordered, ordered.dropFirst()) {
            // The same rule as `TariffCalculator`: the first window containing the instant wins.
            let middle = (from + to) / 2
            let weekday = Weekday.allCases[Int(middle / 86_400)]
            let minuteOfDay = middle.truncatingRemainder(dividingBy: 86_400) / 60
            let window = tariff.windows.first { $0.contains(weekday: weekday, minuteOfDay: minuteOfDay) }
            let slot = slots.firstIndex { $0 == window } ?? 0
            intervals.append((from, to, slot))
            weekSeconds[slot] += to - from
        }
        self.intervals = intervals
        self.weekSeconds = weekSeconds
    }

    /// Seconds of [start, end) under each slot, in the order of `slots`.
    func seconds(from start: Date, to end: Date) -> [Double] {
        var totals = [Double](repeating: 0, count: slots.count)
        var pieceStart = start
        while pieceStart < end {
            var pieceEnd = end
            if let transition = timeZone.nextDaylightSavingTimeTransition(after: pieceStart), transition > pieceStart {
                pieceEnd = min(transition, end)
            }
            let local = pieceStart.timeIntervalSince1970 + Double(timeZone.secondsFromGMT(for: pieceStart))
            add(fromLocal: local, length: pieceEnd.timeIntervalSince(pieceStart), into: &totals)
            pieceStart = pieceEnd
        }
        return totals
    }

    private func add(fromLocal local: Double, length: Double, into totals: inout [Double]) {
        // 1970-01-01 was a Thursday, four days after a Sunday.
        var position = (local + 4 * 86_400).truncatingRemainder(dividingBy: Self.week)
        if position < 0 { position += Self.week }
        let weeks = (length / Self.week).rounded(.down)
        for slot in totals.indices { totals[slot] += weeks * weekSeconds[slot] }
        var remaining = length - weeks * Self.week
        var index = intervals.firstIndex { $0.end > position } ?? 0
        // Less than a week remains: at most one pass around the week, plus the wrap.
        for _ in 0...(intervals.count + 1) where remaining > 0 {
            let interval = intervals[index]
            let taken = min(max(interval.end - max(position, interval.start), 0), remaining)
            totals[interval.slot] += taken
            remaining -= taken
            index = (index + 1) % intervals.count
            position = intervals[index].start
        }
    }
}
