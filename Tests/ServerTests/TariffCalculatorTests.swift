import Foundation
import Testing

@testable import Server

@Suite("Money and tariff maths")
struct TariffCalculatorTests {
    static let eur = Currency("EUR")!

    static func date(_ text: String) -> Date { ISO8601Timestamp.parse(text)! }

    static func tariff(
        energy: String, time: String? = nil, fee: String? = nil, idle: String? = nil, grace: Int = 0, tax: String = "0",
        zone: String = "UTC", windows: [TariffWindow] = [], discounts: [String: String] = [:]
    ) -> Tariff {
        var tariff = Tariff(
            id: "t", name: "t", currency: eur, energyPrice: Decimal6(energy)!, taxRatePercent: Decimal6(tax)!,
            timeZone: zone, now: Date())
        tariff.timePrice = time.flatMap(Decimal6.init)
        tariff.sessionFee = fee.flatMap(Decimal6.init)
        tariff.idleFee = idle.flatMap(Decimal6.init)
        tariff.idleGraceMinutes = grace
        tariff.windows = windows
        tariff.membershipDiscounts = discounts.mapValues { Decimal6($0)! }
        return tariff
    }

    static func window(_ start: String, _ end: String, energy: String?, time: String? = nil, days: [Weekday]? = nil) -> TariffWindow {
        TariffWindow(
            daysOfWeek: days, start: LocalTime(start)!, end: LocalTime(end)!, energyPrice: energy.flatMap(Decimal6.init),
            timePrice: time.flatMap(Decimal6.init))
    }

    struct Case: Sendable, CustomStringConvertible {
        let name: String
        let tariff: Tariff
        let usage: ChargeUsage
        /// (kind, amount) per line, in order.
        let lines: [(CostLine.Kind, String)]
        let subtotal: String
        let tax: String
        let total: String
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "sub-cent price: 10 kWh at 0.3499 is 3.499, rounded half up to 3.50",
            tariff: tariff(energy: "0.3499"),
            usage: ChargeUsage(startedAt: date("2026-05-05T10:00:00Z"), stoppedAt: date("2026-05-05T11:00:00Z"), energyWh: 10_000),
            lines: [(.energy, "3.50")], subtotal: "3.50", tax: "0.00", total: "3.50"),
        Case(
            name: "one watt-hour at a sub-cent price rounds to zero",
            tariff: tariff(energy: "0.3499"),
            usage: ChargeUsage(startedAt: date("2026-05-05T10:00:00Z"), stoppedAt: date("2026-05-05T10:01:00Z"), energyWh: 1),
            lines: [(.energy, "0.00")], subtotal: "0.00", tax: "0.00", total: "0.00"),
        Case(
            name: "the issue's example: 10:00–11:30 local over a 10–11 peak window, 22.5 kWh, time price, fee, 19 % tax",
            tariff: tariff(
                energy: "0.30", time: "1.20", fee: "0.99", tax: "19", zone: "Europe/Berlin",
                windows: [window("10:00", "11:00", energy: "0.50", time: "2.00")]),
            usage: ChargeUsage(startedAt: date("2026-03-10T09:00:00Z"), stoppedAt: date("2026-03-10T10:30:00Z"), energyWh: 22_500),
            lines: [(.energy, "7.50"), (.energy, "2.25"), (.time, "2.00"), (.time, "0.60"), (.sessionFee, "0.99")],
            subtotal: "13.34", tax: "2.53", total: "15.87"),
        Case(
            name: "a window on other weekdays does not apply",
            tariff: tariff(energy: "0.30", windows: [window("00:00", "24:00", energy: "0.10", days: [.sat, .sun])]),
            usage: ChargeUsage(startedAt: date("2026-03-10T09:00:00Z"), stoppedAt: date("2026-03-10T10:00:00Z"), energyWh: 10_000),
            lines: [(.energy, "3.00")], subtotal: "3.00", tax: "0.00", total: "3.00"),
        Case(
            name: "an overnight window 22:00–06:00 covers the part after midnight",
            tariff: tariff(energy: "0.40", windows: [window("22:00", "06:00", energy: "0.20")]),
            usage: ChargeUsage(startedAt: date("2026-03-10T05:00:00Z"), stoppedAt: date("2026-03-10T07:00:00Z"), energyWh: 10_000),
            lines: [(.energy, "1.00"), (.energy, "2.00")], subtotal: "3.00", tax: "0.00", total: "3.00"),
        Case(
            name: "on the spring DST day a local 01:00–02:00 window is one real hour of a two-hour session",
            tariff: tariff(energy: "0.30", zone: "Europe/Berlin", windows: [window("01:00", "02:00", energy: "0.50")]),
            usage: ChargeUsage(startedAt: date("2026-03-29T00:00:00Z"), stoppedAt: date("2026-03-29T02:00:00Z"), energyWh: 20_000),
            lines: [(.energy, "5.00"), (.energy, "3.00")], subtotal: "8.00", tax: "0.00", total: "8.00"),
        Case(
            name: "meter samples decide which window the energy fell in",
            tariff: tariff(energy: "0.30", windows: [window("10:00", "11:00", energy: "0.50")]),
            usage: ChargeUsage(
                startedAt: date("2026-05-05T10:00:00Z"), stoppedAt: date("2026-05-05T11:30:00Z"), energyWh: 14_000,
                samples: [(date("2026-05-05T10:30:00Z"), 2_000), (date("2026-05-05T11:00:00Z"), 12_000)]),
            lines: [(.energy, "6.00"), (.energy, "0.60")], subtotal: "6.60", tax: "0.00", total: "6.60"),
        Case(
            name: "a premium discount of 10 % comes off the subtotal before tax",
            tariff: tariff(energy: "0.50", tax: "20", discounts: ["premium": "10"]),
            usage: ChargeUsage(
                startedAt: date("2026-05-05T10:00:00Z"), stoppedAt: date("2026-05-05T11:00:00Z"), energyWh: 20_000,
                membership: .premium),
            lines: [(.energy, "10.00"), (.discount, "-1.00")], subtotal: "9.00", tax: "1.80", total: "10.80"),
        Case(
            name: "a basic member gets no premium discount",
            tariff: tariff(energy: "0.50", discounts: ["premium": "10"]),
            usage: ChargeUsage(
                startedAt: date("2026-05-05T10:00:00Z"), stoppedAt: date("2026-05-05T11:00:00Z"), energyWh: 20_000,
                membership: .basic),
            lines: [(.energy, "10.00")], subtotal: "10.00", tax: "0.00", total: "10.00"),
        Case(
            name: "tax is rounded once, half up: 19 % of 0.05 is 0.0095, so 0.01",
            tariff: tariff(energy: "0.50", tax: "19"),
            usage: ChargeUsage(startedAt: date("2026-05-05T10:00:00Z"), stoppedAt: date("2026-05-05T10:10:00Z"), energyWh: 100),
            lines: [(.energy, "0.05")], subtotal: "0.05", tax: "0.01", total: "0.06"),
        Case(
            name: "idle fee: whole minutes after the grace period once charging has ended",
            tariff: tariff(energy: "0.30", idle: "0.10", grace: 30),
            usage: ChargeUsage(
                startedAt: date("2026-05-05T10:00:00Z"), stoppedAt: date("2026-05-05T11:40:30Z"), energyWh: 10_000,
                chargingEndedAt: date("2026-05-05T11:00:00Z")),
            lines: [(.energy, "3.00"), (.idleFee, "1.00")], subtotal: "4.00", tax: "0.00", total: "4.00"),
        Case(
            name: "no idle fee within the grace period",
            tariff: tariff(energy: "0.30", idle: "0.10", grace: 30),
            usage: ChargeUsage(
                startedAt: date("2026-05-05T10:00:00Z"), stoppedAt: date("2026-05-05T11:29:00Z"), energyWh: 10_000,
                chargingEndedAt: date("2026-05-05T11:00:00Z")),
            lines: [(.energy, "3.00")], subtotal: "3.00", tax: "0.00", total: "3.00"),
    ]

    @Test("tariff cases", arguments: cases)
    func tariffCases(_ testCase: Case) throws {
        let cost = try TariffCalculator(tariff: testCase.tariff).cost(of: testCase.usage)
        #expect(cost.lines.map(\.kind) == testCase.lines.map(\.0), "\(cost.lines)")
        #expect(cost.lines.map(\.amount.decimalString) == testCase.lines.map(\.1), "\(cost.lines)")
        #expect(cost.subtotal.decimalString == testCase.subtotal)
        #expect(cost.tax.decimalString == testCase.tax)
        #expect(cost.total.decimalString == testCase.total)
    }

    @Test("line quantities and unit prices are shown exactly")
    func lineDetails() throws {
        let cost = try TariffCalculator(tariff: Self.cases[2].tariff).cost(of: Self.cases[2].usage)
        let peak = cost.lines[0]
        #expect(peak.description == "Energy 10:00–11:00")
        #expect(peak.quantity == "15.000")
        #expect(peak.unit == "kWh")
        #expect(peak.unitPrice == "0.50")
        #expect(cost.lines[1].description == "Energy" && cost.lines[1].quantity == "7.500")
        #expect(cost.lines[2].quantity == "1.00" && cost.lines[2].unit == "h")
        #expect(cost.lines[3].quantity == "0.50" && cost.lines[3].unitPrice == "1.20")
    }

    @Test("decimals parse exactly and refuse what they cannot hold")
    func decimals() {
        #expect(Decimal6("0.3499")?.micros == 349_900)
        #expect(Decimal6("12")?.micros == 12_000_000)
        #expect(Decimal6("-0.5")?.micros == -500_000)
        #expect(Decimal6("0.1234560")?.micros == 123_456)
        #expect(Decimal6("0.1234567") == nil)
        #expect(Decimal6("1e3") == nil)
        #expect(Decimal6("") == nil && Decimal6(".5") == nil && Decimal6("5.") == nil)
        #expect(Decimal6(micros: 349_900).formatted() == "0.3499")
        #expect(Decimal6(micros: 500_000).formatted() == "0.50")
        #expect(Money("12.90", currency: Self.eur)?.minorUnits == 1290)
        #expect(Money("12.905", currency: Self.eur) == nil)
        #expect(Money("1000", currency: Currency("JPY")!)?.decimalString == "1000")
        #expect(Money(minorUnits: -5, currency: Self.eur).decimalString == "-0.05")
        #expect(Currency("eur")?.code == "EUR")
        #expect(Currency("XYZ") == nil)
    }

    @Test("rounding is half away from zero, exact for large products")
    func rounding() {
        #expect(Rounding.halfUp(5, dividedBy: 10) == 1)
        #expect(Rounding.halfUp(4, dividedBy: 10) == 0)
        #expect(Rounding.halfUp(-5, dividedBy: 10) == -1)
        #expect(Rounding.halfUp(-4, dividedBy: 10) == 0)
        #expect(Rounding.halfUp(Int64.max / 2, times: 4, dividedBy: 8) == Int64.max / 4 + 1)
    }

    @Test("JSON numbers and strings both decode to the same exact price")
    func priceDecoding() throws {
        struct Body: Decodable { var price: Decimal6 }
        let fromNumber = try JSONDecoder().decode(Body.self, from: Data(#"{"price": 0.3499}"#.utf8))
        let fromString = try JSONDecoder().decode(Body.self, from: Data(#"{"price": "0.3499"}"#.utf8))
        #expect(fromNumber.price.micros == 349_900)
        #expect(fromString.price == fromNumber.price)
    }
}
