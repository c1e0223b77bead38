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

    func cost(of usage: ChargeUsage) -> CostBreakdown {
        let currency = tariff.currency
        let toMinor = Int64(pow(10, Double(6 - currency.minorDigits)))
        var lines: [CostLine] = []
        let stop = max(usage.stoppedAt, usage.startedAt)
        let chargingEnd = min(max(usage.chargingEndedAt ?? stop, usage.startedAt), stop)
        let segments = self.segments(from: usage.startedAt, to: stop)

        // Energy, grouped by the price that applied.
        let energy = EnergyCurve(usage: usage, stop: stop)
        var energyByWindow: [(window: TariffWindow?, wh: Int64)] = []
        for segment in segments {
            let wh = energy.energy(at: segment.end) - energy.energy(at: segment.start)
            if let index = energyByWindow.firstIndex(where: { $0.window == segment.window }) {
                energyByWindow[index].wh += wh
            } else {
                energyByWindow.append((segment.window, wh))
            }
        }
        if segments.isEmpty { energyByWindow = [(nil, usage.energyWh)] }
        for (window, wh) in energyByWindow where wh != 0 || window == nil {
            let price = window?.energyPrice ?? tariff.energyPrice
            lines.append(
                CostLine(
                    kind: .energy, description: window.map { "Energy \($0.label)" } ?? "Energy",
                    quantity: Decimal6(micros: wh * 1000).formatted(minimumFractionDigits: 3), unit: "kWh",
                    unitPrice: price.formatted(),
                    amount: Money(
                        minorUnits: Rounding.halfUp(wh, times: price.micros, dividedBy: 1000 * toMinor),
                        currency: currency)))
        }

        // Charging time, grouped the same way.
        if tariff.timePrice != nil || tariff.windows.contains(where: { $0.timePrice != nil }) {
            var secondsByWindow: [(window: TariffWindow?, seconds: Int64)] = []
            for segment in self.segments(from: usage.startedAt, to: chargingEnd) {
                let seconds = Int64((segment.end.timeIntervalSince(segment.start)).rounded())
                if let index = secondsByWindow.firstIndex(where: { $0.window == segment.window }) {
                    secondsByWindow[index].seconds += seconds
                } else {
                    secondsByWindow.append((segment.window, seconds))
                }
            }
            for (window, seconds) in secondsByWindow {
                guard let price = window?.timePrice ?? tariff.timePrice, seconds > 0 else { continue }
                lines.append(
                    CostLine(
                        kind: .time, description: window.map { "Charging time \($0.label)" } ?? "Charging time",
                        quantity: Decimal6(micros: Rounding.halfUp(seconds, times: 1_000_000, dividedBy: 3600))
                            .formatted(minimumFractionDigits: 2),
                        unit: "h", unitPrice: price.formatted(),
                        amount: Money(
                            minorUnits: Rounding.halfUp(seconds, times: price.micros, dividedBy: 3600 * toMinor),
                            currency: currency)))
            }
        }

        if let fee = tariff.sessionFee, fee.micros != 0 {
            lines.append(
                CostLine(
                    kind: .sessionFee, description: "Session fee", quantity: "1", unit: "session",
                    unitPrice: fee.formatted(),
                    amount: Money(minorUnits: Rounding.halfUp(fee.micros, dividedBy: toMinor), currency: currency)))
        }

        if let fee = tariff.idleFee, usage.chargingEndedAt != nil {
            let idleMinutes = Int64(stop.timeIntervalSince(chargingEnd) / 60) - Int64(tariff.idleGraceMinutes)
            if idleMinutes > 0 {
                lines.append(
                    CostLine(
                        kind: .idleFee, description: "Idle fee after \(tariff.idleGraceMinutes) min grace",
                        quantity: String(idleMinutes), unit: "min", unitPrice: fee.formatted(),
                        amount: Money(
                            minorUnits: Rounding.halfUp(idleMinutes, times: fee.micros, dividedBy: toMinor),
                            currency: currency)))
            }
        }

        var subtotal = lines.reduce(Money.zero(currency)) { $0 + $1.amount }
        if let membership = usage.membership, let percent = tariff.membershipDiscounts[membership.rawValue],
            percent.micros > 0
        {
            let discount = Rounding.halfUp(subtotal.minorUnits, times: percent.micros, dividedBy: 100 * Decimal6.scale)
            lines.append(
                CostLine(
                    kind: .discount, description: "\(membership.rawValue.capitalized) discount",
                    quantity: percent.formatted(minimumFractionDigits: 0), unit: "%", unitPrice: "",
                    amount: Money(minorUnits: -discount, currency: currency)))
            subtotal = subtotal - Money(minorUnits: discount, currency: currency)
        }
        let tax = Money(
            minorUnits: Rounding.halfUp(subtotal.minorUnits, times: tariff.taxRatePercent.micros, dividedBy: 100 * Decimal6.scale),
            currency: currency)
        return CostBreakdown(
            currency: currency, lines: lines, subtotal: subtotal, tax: tax,
            taxRatePercent: tariff.taxRatePercent.formatted(minimumFractionDigits: 0), total: subtotal + tax)
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
    private var points: [(at: Date, energyWh: Int64)]

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
