import Foundation

/// One line of a cost breakdown or invoice.
struct CostLine: Encodable, Sendable, Equatable {
    enum Kind: String, Codable, Sendable {
        case energy, time, sessionFee = "session_fee", idleFee = "idle_fee", discount
    }

    var kind: Kind
    var description: String
    /// kWh, hours, minutes, sessions or percent, as a decimal string.
    var quantity: String
    var unit: String
    var unitPrice: String
    var amount: Money
}

struct CostBreakdown: Encodable, Sendable, Equatable {
    var currency: Currency
    var lines: [CostLine]
    var subtotal: Money
    var tax: Money
    var taxRatePercent: String
    var total: Money
}

/// The stored form of lines and breakdowns: amounts as integer minor units.
extension CostLine {
    struct Stored: Codable, Sendable {
        var kind: Kind
        var description: String
        var quantity: String
        var unit: String
        var unitPrice: String
        var amountMinor: Int64
    }

    var stored: Stored {
        Stored(kind: kind, description: description, quantity: quantity, unit: unit, unitPrice: unitPrice, amountMinor: amount.minorUnits)
    }

    init(stored: Stored, currency: Currency) {
        self.init(
            kind: stored.kind, description: stored.description, quantity: stored.quantity, unit: stored.unit,
            unitPrice: stored.unitPrice, amount: Money(minorUnits: stored.amountMinor, currency: currency))
    }
}

extension CostBreakdown {
    struct Stored: Codable, Sendable {
        var currency: Currency
        var lines: [CostLine.Stored]
        var subtotalMinor: Int64
        var taxMinor: Int64
        var taxRatePercent: String
        var totalMinor: Int64
    }

    var stored: Stored {
        Stored(
            currency: currency, lines: lines.map(\.stored), subtotalMinor: subtotal.minorUnits, taxMinor: tax.minorUnits,
            taxRatePercent: taxRatePercent, totalMinor: total.minorUnits)
    }

    init(stored: Stored) {
        let currency = stored.currency
        self.init(
            currency: currency, lines: stored.lines.map { CostLine(stored: $0, currency: currency) },
            subtotal: Money(minorUnits: stored.subtotalMinor, currency: currency),
            tax: Money(minorUnits: stored.taxMinor, currency: currency), taxRatePercent: stored.taxRatePercent,
            total: Money(minorUnits: stored.totalMinor, currency: currency))
    }
}

/// What a session consumed, for pricing.
struct ChargeUsage: Sendable {
    var startedAt: Date
    var stoppedAt: Date
    var energyWh: Int64
    /// Energy delivered since the start at each meter reading, in time order.
    var samples: [(at: Date, energyWh: Int64)] = []
    /// When energy stopped flowing; after it (and the grace period) the idle fee runs.
    var chargingEndedAt: Date?
    var membership: Membership?
}

/// Prices a session with a tariff.
///
/// Rounding rule: every line is computed exactly and rounded once to the currency's minor unit,
/// half away from zero. The discount is a percentage of the sum of the rounded lines, rounded the
/// same way; tax is the tax rate of the discounted subtotal, rounded the same way. Prices are net.
///
/// Energy in a price window is the meter's: the cumulative reading is interpolated linearly
/// between samples (and between start and stop when there are none), so each window gets the
/// energy that flowed during it. Time is charged for the charging time, per window likewise.
struct TariffCalculator: Sendable {
    let tariff: Tariff

    struct Segment: Equatable {
        var start: Date
        var end: Date
        var window: TariffWindow?
    }

    /// Spans up to this long are cut into segments day by day; longer ones are summed per week
    /// (`WeeklyPattern`), so the work does not grow with the span.
    static let dayByDaySpan: TimeInterval = 35 * 86_400

    func cost(of usage: ChargeUsage) throws(TariffError) -> CostBreakdown {
        let currency = tariff.currency
        let toMinor = Self.minorFactor(currency)
        var lines: [CostLine] = []
        let stop = max(usage.stoppedAt, usage.startedAt)
        let chargingEnd = min(max(usage.chargingEndedAt ?? stop, usage.startedAt), stop)

        for (window, wh) in energyByWindow(usage, stop: stop) where wh != 0 || window == nil {
            let price = window?.energyPrice ?? tariff.energyPrice
            let (quantity, overflow) = wh.multipliedReportingOverflow(by: 1000)
            guard !overflow, let amount = Rounding.halfUp(wh, times: price.micros, dividedBy: 1000 * toMinor)
            else { throw .amountOutOfRange }
            lines.append(
                CostLine(
                    kind: .energy, description: window.map { "Energy \($0.label)" } ?? "Energy",
                    quantity: Decimal6(micros: quantity).formatted(minimumFractionDigits: 3), unit: "kWh",
                    unitPrice: price.formatted(), amount: Money(minorUnits: amount, currency: currency)))
        }

        if tariff.timePrice != nil || tariff.windows.contains(where: { $0.timePrice != nil }) {
            for (window, seconds) in secondsByWindow(from: usage.startedAt, to: chargingEnd) {
                guard let price = window?.timePrice ?? tariff.timePrice, seconds > 0 else { continue }
                guard let hours = Rounding.halfUp(seconds, times: 1_000_000, dividedBy: 3600),
                    let amount = Rounding.halfUp(seconds, times: price.micros, dividedBy: 3600 * toMinor)
                else { throw .amountOutOfRange }
                lines.append(
                    CostLine(
                        kind: .time, description: window.map { "Charging time \($0.label)" } ?? "Charging time",
                        quantity: Decimal6(micros: hours).formatted(minimumFractionDigits: 2),
                        unit: "h", unitPrice: price.formatted(), amount: Money(minorUnits: amount, currency: currency)))
            }
        }

        if let fee = tariff.sessionFee, fee.micros != 0 {
            guard let amount = Rounding.halfUp(fee.micros, dividedBy: toMinor) else { throw .amountOutOfRange }
            lines.append(
                CostLine(
                    kind: .sessionFee, description: "Session fee", quantity: "1", unit: "session",
                    unitPrice: fee.formatted(), amount: Money(minorUnits: amount, currency: currency)))
        }

        if let fee = tariff.idleFee, usage.chargingEndedAt != nil {
            let idleMinutes = Int64(stop.timeIntervalSince(chargingEnd) / 60) - Int64(tariff.idleGraceMinutes)
            if idleMinutes > 0 {
                guard let amount = Rounding.halfUp(idleMinutes, times: fee.micros, dividedBy: toMinor) else {
                    throw .amountOutOfRange
                }
                lines.append(
                    CostLine(
                        kind: .idleFee, description: "Idle fee after \(tariff.idleGraceMinutes) min grace",
                        quantity: String(idleMinutes), unit: "min", unitPrice: fee.formatted(),
                        amount: Money(minorUnits: amount, currency: currency)))
            }
        }

        var subtotal = Money.zero(currency)
        for line in lines {
            guard let sum = subtotal.adding(line.amount) else { throw .amountOutOfRange }
            subtotal = sum
        }
        if let membership = usage.membership, let percent = tariff.membershipDiscounts[membership.rawValue],
            percent.micros > 0
        {
            guard let discount = Rounding.halfUp(subtotal.minorUnits, times: percent.micros, dividedBy: 100 * Decimal6.scale),
                let discounted = subtotal.subtracting(Money(minorUnits: discount, currency: currency))
            else { throw .amountOutOfRange }
            lines.append(
                CostLine(
                    kind: .discount, description: "\(membership.rawValue.capitalized) discount",
                    quantity: percent.formatted(minimumFractionDigits: 0), unit: "%", unitPrice: "",
                    amount: Money(minorUnits: -discount, currency: currency)))
            subtotal = discounted
        }
        guard
            let taxMinor = Rounding.halfUp(
                subtotal.minorUnits, times: tariff.taxRatePercent.micros, dividedBy: 100 * Decimal6.scale),
            let total = subtotal.adding(Money(minorUnits: taxMinor, currency: currency))
        else { throw .amountOutOfRange }
        return CostBreakdown(
            currency: currency, lines: lines, subtotal: subtotal, tax: Money(minorUnits: taxMinor, currency: currency),
            taxRatePercent: tariff.taxRatePercent.formatted(minimumFractionDigits: 0), total: total)
    }

    /// Micro-units per minor unit: 10^4 for EUR, 10^6 for JPY, 10^3 for KWD.
    static func minorFactor(_ currency: Currency) -> Int64 {
        (0..<(6 - currency.minorDigits)).reduce(1) { product, _ in product * 10 }
    }

    /// Energy per price window, in order of first use; the parts add up to the session's energy.
    func energyByWindow(_ usage: ChargeUsage, stop: Date) -> [(window: TariffWindow?, wh: Int64)] {
        let energy = EnergyCurve(usage: usage, stop: stop)
        guard stop.timeIntervalSince(usage.startedAt) > Self.dayByDaySpan, !tariff.windows.isEmpty else {
            let segments = self.segments(from: usage.startedAt, to: stop)
            guard !segments.isEmpty else { return [(nil, usage.energyWh)] }
            var totals: [(window: TariffWindow?, wh: Int64)] = []
            for segment in segments {
                let wh = energy.energy(at: segment.end) - energy.energy(at: segment.start)
                if let index = totals.firstIndex(where: { $0.window == segment.window }) {
                    totals[index].wh += wh
                } else {
                    totals.append((segment.window, wh))
                }
            }
            return totals
        }
        // Between two meter points energy flows evenly, so each window gets the share of the
        // piece's energy that its share of the piece's time is.
        let pattern = WeeklyPattern(tariff: tariff)
        var shares = [Double](repeating: 0, count: pattern.slots.count)
        for (from, to) in zip(energy.points, energy.points.dropFirst()) where to.at > from.at {
            let seconds = pattern.seconds(from: from.at, to: to.at)
            let span = to.at.timeIntervalSince(from.at)
            let wh = Double(to.energyWh - from.energyWh)
            for index in shares.indices { shares[index] += wh * seconds[index] / span }
        }
        return zip(pattern.slots, Self.wholeParts(of: shares, total: usage.energyWh)).map { ($0, $1) }
    }

    /// Charging seconds per price window over [start, end).
    func secondsByWindow(from start: Date, to end: Date) -> [(window: TariffWindow?, seconds: Int64)] {
        guard end.timeIntervalSince(start) > Self.dayByDaySpan, !tariff.windows.isEmpty else {
            var totals: [(window: TariffWindow?, seconds: Int64)] = []
            for segment in segments(from: start, to: end) {
                let seconds = Int64((segment.end.timeIntervalSince(segment.start)).rounded())
                if let index = totals.firstIndex(where: { $0.window == segment.window }) {
                    totals[index].seconds += seconds
                } else {
                    totals.append((segment.window, seconds))
                }
            }
            return totals
        }
        let pattern = WeeklyPattern(tariff: tariff)
        // Spans here are bounded by the Date range (±10^11 s), so rounding to Int64 cannot trap.
        return zip(pattern.slots, pattern.seconds(from: start, to: end)).map { ($0, Int64($1.rounded())) }
    }

    /// Rounds shares to whole numbers that add up to `total` exactly (largest remainder first).
    static func wholeParts(of shares: [Double], total: Int64) -> [Int64] {
        var parts = shares.map { Int64($0.rounded(.down)) }
        guard !parts.isEmpty else { return parts }
        let byRemainder = shares.indices.sorted { shares[$0] - shares[$0].rounded(.down) > shares[$1] - shares[$1].rounded(.down) }
        var missing = total - parts.reduce(0, +)
        for index in byRemainder where missing > 0 {
            parts[index] += 1
            missing -= 1
        }
        // Floating-point error beyond one unit per part lands on the largest part.
        if missing != 0, let largest = parts.indices.max(by: { parts[$0] < parts[$1] }) { parts[largest] += missing }
        return parts
    }

    /// The pieces of [start, end) over which one price applies, in order.
    func segments(from start: Date, to end: Date) -> [Segment] {
        guard end > start else { return [] }
        guard !tariff.windows.isEmpty else { return [Segment(start: start, end: end, window: nil)] }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: tariff.timeZone) ?? TimeZone(identifier: "UTC")!
        var boundaries: Set<Date> = [start, end]
        var day = calendar.date(byAdding: .day, value: -1, to: calendar.startOfDay(for: start))!
        while day <= end {
            let weekday = Weekday(calendarWeekday: calendar.component(.weekday, from: day))!
            for window in tariff.windows where window.applies(on: weekday) {
                let opens = Self.instant(window.start, on: day, calendar: calendar)
                let closesDay = window.end > window.start ? day : calendar.date(byAdding: .day, value: 1, to: day)!
                let closes = Self.instant(window.end, on: closesDay, calendar: calendar)
                for boundary in [opens, closes] where boundary > start && boundary < end {
                    boundaries.insert(boundary)
                }
            }
            day = calendar.date(byAdding: .day, value: 1, to: day)!
        }
        let ordered = boundaries.sorted()
        var segments: [Segment] = []
        for (from, to) in zip(ordered, ordered.dropFirst()) {
            let window = window(at: from.addingTimeInterval(to.timeIntervalSince(from) / 2), calendar: calendar)
            if let last = segments.last, last.window == window, last.end == from {
                segments[segments.count - 1].end = to
            } else {
                segments.append(Segment(start: from, end: to, window: window))
            }
        }
        return segments
    }

    private func window(at instant: Date, calendar: Calendar) -> TariffWindow? {
        let parts = calendar.dateComponents([.weekday, .hour, .minute, .second], from: instant)
        guard let weekday = Weekday(calendarWeekday: parts.weekday ?? 0) else { return nil }
        let minuteOfDay = Double((parts.hour ?? 0) * 60 + (parts.minute ?? 0)) + Double(parts.second ?? 0) / 60
        return tariff.windows.first { $0.contains(weekday: weekday, minuteOfDay: minuteOfDay) }
    }

    private static func instant(_ time: LocalTime, on day: Date, calendar: Calendar) -> Date {
        if time.minutes == 24 * 60 { return calendar.date(byAdding: .day, value: 1, to: day)! }
        return calendar.date(bySettingHour: time.hour, minute: time.minute, second: 0, of: day) ?? day
    }
}

/// Cumulative energy over time: piecewise linear through the meter samples, rounded to whole Wh
/// at each point asked, so that the energy of adjacent pieces adds up to the total exactly.
struct EnergyCurve {
    private(set) var points: [(at: Date, energyWh: Int64)]

    init(usage: ChargeUsage, stop: Date) {
        var points: [(at: Date, energyWh: Int64)] = [(usage.startedAt, 0)]
        var highest: Int64 = 0
        for sample in usage.samples.sorted(by: { $0.at < $1.at })
        where sample.at > usage.startedAt && sample.at < stop {
            // Energy never runs backwards; a late or low reading does not lower the curve.
            highest = min(max(highest, sample.energyWh), usage.energyWh)
            points.append((sample.at, highest))
        }
        points.append((stop, usage.energyWh))
        self.points = points
    }

    func energy(at instant: Date) -> Int64 {
        guard let first = points.first, instant > first.at else { return 0 }
        guard let upper = points.firstIndex(where: { $0.at >= instant }) else { return points.last!.energyWh }
        let after = points[upper]
        let before = points[upper - 1]
        let span = after.at.timeIntervalSince(before.at)
        guard span > 0 else { return after.energyWh }
        let share = instant.timeIntervalSince(before.at) / span
        return before.energyWh + Int64((Double(after.energyWh - before.energyWh) * share).rounded())
    }
}
