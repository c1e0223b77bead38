import Foundation

/// What an outside number or clock may be before it becomes energy, money or time. Values
/// outside these ranges come from broken meters, broken clocks or hostile clients: they are
/// kept as received where a record is kept, flagged, and never computed with.
enum Plausible {
    /// A meter's energy register: no charger meter reads more than a terawatt-hour.
    static let meterRegisterWh: ClosedRange<Int64> = 0...1_000_000_000_000
    /// Instantaneous power, either direction: 10 MW is far above any charger.
    static let powerW: ClosedRange<Int64> = -10_000_000...10_000_000
    /// Charger clocks before this are unset (1970, 0001), not history.
    static let earliestChargerClock = Date(timeIntervalSince1970: 1_262_304_000)  // 2010-01-01T00:00:00Z
    /// How far ahead of the server a charger's clock may run.
    static let clockAhead: TimeInterval = 86_400
    /// How far back an operator may record a session by hand.
    static let manualEntryBehind: TimeInterval = 366 * 86_400
    /// The most kWh a quote may ask for.
    static let quoteEnergyKwh = Decimal6(integer: 1_000_000)

    static func chargerTime(_ date: Date, now: Date) -> Bool {
        date >= earliestChargerClock && date <= now.addingTimeInterval(clockAhead)
    }

    static func manualTime(_ date: Date, now: Date) -> Bool {
        date >= now.addingTimeInterval(-manualEntryBehind) && date <= now.addingTimeInterval(clockAhead)
    }

    /// Wh (or W) from a reading in the given scale, or nil when it is not finite or leaves `range`.
    static func integer(_ number: Double, times factor: Double, within range: ClosedRange<Int64>) -> Int64? {
        let scaled = (number * factor).rounded()
        // Compared as Double first: Int64(Double) traps outside Int64's range.
        guard scaled.isFinite, scaled >= Double(range.lowerBound), scaled <= Double(range.upperBound) else { return nil }
        return Int64(scaled)
    }
}
