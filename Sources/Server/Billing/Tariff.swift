import Foundation
import Storage

enum Weekday: String, Codable, Sendable, CaseIterable {
    case sun, mon, tue, wed, thu, fri, sat

    /// Calendar's weekday number (1 = Sunday).
    init?(calendarWeekday: Int) {
        guard (1...7).contains(calendarWeekday) else { return nil }
        self = Weekday.allCases[calendarWeekday - 1]
    }

    var previous: Weekday {
        let all = Weekday.allCases
        return all[(all.firstIndex(of: self)! + 6) % 7]
    }
}

/// A local time of day, "HH:mm"; "24:00" is allowed as a window's end.
struct LocalTime: Codable, Sendable, Hashable, Comparable, CustomStringConvertible {
    let minutes: Int

    init?(_ text: String) {
        let parts = text.split(separator: ":")
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let hour = Int(parts[0]),
            let minute = Int(parts[1]), (0...24).contains(hour), (0..<60).contains(minute), hour < 24 || minute == 0
        else { return nil }
        minutes = hour * 60 + minute
    }

    var hour: Int { minutes / 60 }
    var minute: Int { minutes % 60 }
    var description: String { String(format: "%02d:%02d", hour, minute) }
    static func < (lhs: Self, rhs: Self) -> Bool { lhs.minutes < rhs.minutes }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let value = LocalTime(try container.decode(String.self)) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "must be a time HH:mm")
        }
        self = value
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A time-of-day window that overrides the tariff's energy and time prices (peak, off-peak).
/// `end` at or before `start` runs past midnight; `daysOfWeek` names the day the window starts on.
struct TariffWindow: Codable, Sendable, Hashable {
    var daysOfWeek: [Weekday]?
    var start: LocalTime
    var end: LocalTime
    var energyPrice: Decimal6?
    var timePrice: Decimal6?

    var label: String { "\(start)–\(end)" }

    func applies(on day: Weekday) -> Bool { daysOfWeek?.contains(day) ?? true }

    func contains(weekday: Weekday, minuteOfDay: Double) -> Bool {
        let start = Double(self.start.minutes)
        let end = Double(self.end.minutes)
        if start < end {
            return applies(on: weekday) && minuteOfDay >= start && minuteOfDay < end
        }
        return (applies(on: weekday) && minuteOfDay >= start) || (applies(on: weekday.previous) && minuteOfDay < end)
    }
}

struct Tariff: TableRecord, Codable {
    var id: String
    var version: Int64 = 0
    var name: String
    var currency: Currency
    /// Per kWh.
    var energyPrice: Decimal6
    /// Per hour of charging.
    var timePrice: Decimal6?
    var sessionFee: Decimal6?
    /// Per minute once charging has stopped but the session has not, after the grace period.
    var idleFee: Decimal6?
    var idleGraceMinutes: Int
    var taxRatePercent: Decimal6
    var timeZone: String
    var validFrom: Date?
    var validTo: Date?
    var windows: [TariffWindow]
    var membershipDiscounts: [String: Decimal6]
    var isDefault: Bool
    var createdAt: Date
    var updatedAt: Date

    static let tableName = "tariffs"
    static let columns = [
        "name", "currency", "energy_price", "time_price", "session_fee", "idle_fee", "idle_grace_minutes",
        "tax_rate_percent", "time_zone", "valid_from", "valid_to", "windows", "membership_discounts", "is_default",
        "created_at", "updated_at",
    ]
    static let sortableColumns = ["name", "created_at"]
    static let defaultSort = SortKey("created_at")

    var columnValues: [SQLValue] {
        [
            .text(name), .text(currency.code), .integer(energyPrice.micros), timePrice.map { .integer($0.micros) } ?? .null,
            sessionFee.map { .integer($0.micros) } ?? .null, idleFee.map { .integer($0.micros) } ?? .null,
            .integer(Int64(idleGraceMinutes)), .integer(taxRatePercent.micros), .text(timeZone), validFrom.sqlValue,
            validTo.sqlValue, .json(windows), .json(membershipDiscounts), isDefault.sqlValue, createdAt.sqlValue,
            updatedAt.sqlValue,
        ]
    }

    init(
        id: String, name: String, currency: Currency, energyPrice: Decimal6, taxRatePercent: Decimal6 = .zero,
        timeZone: String = "UTC", now: Date
    ) {
        self.id = id
        self.name = name
        self.currency = currency
        self.energyPrice = energyPrice
        self.idleGraceMinutes = 0
        self.taxRatePercent = taxRatePercent
        self.timeZone = timeZone
        self.windows = []
        self.membershipDiscounts = [:]
        self.isDefault = false
        self.createdAt = now
        self.updatedAt = now
    }

    init(row: Row) throws {
        id = try row.get("id")
        version = try row.get("version")
        name = try row.get("name")
        guard let currency = Currency(try row.get("currency", as: String.self)) else {
            throw RowDecodingError(column: "currency", expectedType: "Currency", sql: Self.tableName)
        }
        self.currency = currency
        energyPrice = Decimal6(micros: try row.get("energy_price"))
        timePrice = try row.get("time_price", as: Int64?.self).map(Decimal6.init(micros:))
        sessionFee = try row.get("session_fee", as: Int64?.self).map(Decimal6.init(micros:))
        idleFee = try row.get("idle_fee", as: Int64?.self).map(Decimal6.init(micros:))
        idleGraceMinutes = try row.get("idle_grace_minutes")
        taxRatePercent = Decimal6(micros: try row.get("tax_rate_percent"))
        timeZone = try row.get("time_zone")
        validFrom = try row.get("valid_from")
        validTo = try row.get("valid_to")
        windows = try JSONDecoder().decode([TariffWindow].self, from: Data(try row.get("windows", as: String.self).utf8))
        membershipDiscounts = try JSONDecoder().decode(
            [String: Decimal6].self, from: Data(try row.get("membership_discounts", as: String.self).utf8))
        isDefault = try row.get("is_default")
        createdAt = try row.get("created_at")
        updatedAt = try row.get("updated_at")
    }
}
