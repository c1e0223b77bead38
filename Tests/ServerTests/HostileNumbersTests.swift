import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Server

/// Numbers and clocks from outside that cannot be right: refused over REST, flagged from chargers,
/// never computed with unchecked, never a crash and never unbounded work.
@Suite("Hostile numbers, clocks and spans")
struct HostileNumbersTests {
    static func date(_ text: String) -> Date { ISO8601Timestamp.parse(text)! }

    @Test("meter readings outside the plausible range or not finite are implausible, not a trap")
    func implausibleReadings() {
        let energy = "Energy.Active.Import.Register"
        #expect(ChargerActivity.read("1e300", measurand: energy, unit: "kWh", format: nil) == .implausible)
        #expect(ChargerActivity.read("9.3e18", measurand: energy, unit: "Wh", format: nil) == .implausible)
        #expect(ChargerActivity.read("-1e300", measurand: energy, unit: "Wh", format: nil) == .implausible)
        #expect(ChargerActivity.read("NaN", measurand: energy, unit: "Wh", format: nil) == .implausible)
        #expect(ChargerActivity.read("1000000001", measurand: energy, unit: "kWh", format: nil) == .implausible)
        #expect(ChargerActivity.read("1000000000", measurand: energy, unit: "kWh", format: nil) == .value(1_000_000_000_000))
        #expect(ChargerActivity.read("1e300", measurand: "Power.Active.Import", unit: "kW", format: nil) == .implausible)
        #expect(ChargerActivity.read("-50", measurand: "Power.Active.Import", unit: "W", format: nil) == .value(-50))
        #expect(ChargerActivity.read("1e300", measurand: "Temperature", unit: "Celsius", format: nil) == .notNumeric)
        #expect(ChargerActivity.normalize("9.3e18", measurand: energy, unit: "Wh", format: nil) == nil)
    }

    @Test("charger clocks before 2010 or more than a day ahead are implausible")
    func chargerClocks() {
        let now = Self.date("2026-06-01T12:00:00Z")
        #expect(!Plausible.chargerTime(Self.date("0001-01-01T00:00:00Z"), now: now))
        #expect(!Plausible.chargerTime(Self.date("1970-01-01T00:00:00Z"), now: now))
        #expect(!Plausible.chargerTime(Self.date("2026-06-02T12:00:01Z"), now: now))
        #expect(Plausible.chargerTime(Self.date("2026-06-01T11:00:00Z"), now: now))
    }

    @Test("rounding reports a result that does not fit instead of trapping")
    func roundingOverflow() {
        #expect(Rounding.halfUp(Int64.max, times: 10, dividedBy: 1) == nil)
        #expect(Rounding.halfUp(Int64.max, times: Int64.max, dividedBy: 3) == nil)
        #expect(Rounding.halfUp(Int64.max, times: 2, dividedBy: 2) == Int64.max)
        #expect(Money(minorUnits: Int64.max, currency: Currency("EUR")!).adding(Money(minorUnits: 1, currency: Currency("EUR")!)) == nil)
    }

    @Test("an amount that does not fit is a pricing error, not a crash")
    func pricingOverflow() {
        var tariff = TariffCalculatorTests.tariff(energy: "999999999999")
        tariff.idleFee = Decimal6("999999999999")
        let usage = ChargeUsage(
            startedAt: Self.date("2026-03-10T09:00:00Z"), stoppedAt: Self.date("2026-03-10T10:00:00Z"),
            energyWh: 1_000_000_000_000)
        #expect(throws: TariffError.self) { try TariffCalculator(tariff: tariff).cost(of: usage) }
    }

    static let berlinPeaks = TariffCalculatorTests.tariff(
        energy: "0.30", time: "1.20", zone: "Europe/Berlin",
        windows: [
            TariffCalculatorTests.window("10:00", "11:00", energy: "0.50", time: "2.00"),
            TariffCalculatorTests.window("22:00", "06:00", energy: "0.20", time: "0.60", days: [.fri, .sat]),
        ])

    @Test(
        "the weekly pattern gives the same seconds per window as cutting day by day, across DST changes",
        arguments: [
            ("2026-03-01T07:13:00Z", "2026-04-12T19:00:00Z"), ("2026-10-05T23:30:00Z", "2026-11-20T10:30:00Z"),
            ("2025-12-30T10:30:00Z", "2026-06-30T10:30:00Z"),
        ])
    func weeklyPatternMatchesSegments(_ span: (String, String)) {
        let calculator = TariffCalculator(tariff: Self.berlinPeaks)
        let (start, end) = (Self.date(span.0), Self.date(span.1))
        let pattern = WeeklyPattern(tariff: Self.berlinPeaks)
        let fast = pattern.seconds(from: start, to: end)
        var slow = [Double](repeating: 0, count: pattern.slots.count)
        for segment in calculator.segments(from: start, to: end) {
            slow[pattern.slots.firstIndex { $0 == segment.window }!] += segment.end.timeIntervalSince(segment.start)
        }
        #expect(fast == slow, "\(fast) vs \(slow)")
    }

    @Test("a session starting in year 1 is priced by arithmetic: every second and Wh is accounted for")
    func twoThousandYears() throws {
        let start = Self.date("0001-01-01T00:00:00Z")
        let stop = Self.date("2026-03-10T10:30:00Z")
        let usage = ChargeUsage(
            startedAt: start, stoppedAt: stop, energyWh: 22_500, samples: [(Self.date("2026-03-10T10:00:00Z"), 20_000)])
        let calculator = TariffCalculator(tariff: Self.berlinPeaks)
        let seconds = calculator.secondsByWindow(from: start, to: stop)
        #expect(seconds.map(\.seconds).reduce(0, +) == Int64(stop.timeIntervalSince(start).rounded()))
        let energy = calculator.energyByWindow(usage, stop: stop)
        #expect(energy.map(\.wh).reduce(0, +) == 22_500)
        let cost = try calculator.cost(of: usage)
        #expect(cost.total.minorUnits > 0)
    }

    @Test("REST refuses implausible meters, dates, connectors and quotes with 422")
    func restBounds() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            let tariffID = try await client.setUpPricedStation(admin)
            func start(_ body: [String: Any]) async throws -> Reply {
                var json: [String: Any] = [
                    "stationId": "CP1", "connectorId": 1, "idTag": "CARD1", "startedAt": "2026-03-10T09:00:00Z",
                    "meterStartWh": 0,
                ]
                json.merge(body) { $1 }
                return try await client.call(.post, "/api/v1/sessions", token: admin, json: json)
            }
            #expect(try await start(["connectorId": 2_147_483_648]).fieldErrors == ["connectorId"])
            #expect(try await start(["connectorId": 3]).fieldErrors == ["connectorId"])
            #expect(try await start(["startedAt": "0000-01-01T00:00:00Z"]).status == .unprocessableContent)
            #expect(try await start(["startedAt": "0001-01-01T00:00:00Z"]).fieldErrors == ["startedAt"])
            #expect(try await start(["meterStartWh": -8_000_000_000_000_000]).fieldErrors == ["meterStartWh"])
            let started = try await start([:])
            #expect(started.status == .created)
            let id = try #require(started["id"] as? String)
            for meterStop in [10_000_000_000_000_000, 4_611_686_018_427_387_904] {
                let stop = try await client.call(
                    .post, "/api/v1/sessions/\(id)/stop", token: admin,
                    json: ["meterStopWh": meterStop, "stoppedAt": "2026-03-10T10:00:00Z"])
                #expect(stop.status == .unprocessableContent && stop.fieldErrors == ["meterStopWh"])
            }
            let quote = "/api/v1/tariffs/\(tariffID)/quote?energyKwh=1"
            #expect(try await client.call(.get, quote + "&durationMinutes=999999999999", token: admin).fieldErrors == ["durationMinutes"])
            #expect(try await client.call(.get, quote + "0000000&durationMinutes=60", token: admin).fieldErrors == ["energyKwh"])
            #expect(
                try await client.call(.get, quote + "&durationMinutes=60&startAt=0001-01-01T00:00:00Z", token: admin)
                    .fieldErrors == ["startAt"])
            #expect(try await client.call(.get, quote + "&durationMinutes=525600", token: admin).status == .ok)
            let tooDear = try await client.call(
                .post, "/api/v1/tariffs", token: admin, json: ["name": "x", "currency": "EUR", "energyPrice": "999999999999"])
            #expect(tooDear.fieldErrors == ["energyPrice"])
        }
    }

    @Test("a session longer than the billable maximum is closed, priced and flagged, but not invoiced")
    func tooLongIsNotInvoiced() async throws {
        try await withApp(withAdmin.merging(["sessionMaxBillableHours": "2"]) { $1 }) { client, _ async throws in
            let admin = try await client.adminToken()
            _ = try await client.setUpPricedStation(admin)
            let stopped = try await client.recordSession(
                admin, start: "2026-03-10T07:00:00Z", stop: "2026-03-10T10:30:00Z", meterStart: 1_000, meterStop: 21_000)
            #expect(stopped.status == .ok)
            #expect(stopped["flags"] as? [String] == ["implausible_duration"])
            #expect(stopped["invoiceId"] == nil)
            #expect(stopped["cost"] != nil)
            let normal = try await client.recordSession(
                admin, start: "2026-03-11T07:00:00Z", stop: "2026-03-11T08:30:00Z", meterStart: 1_000, meterStop: 21_000,
                connector: 2)
            #expect(normal["flags"] as? [String] == [])
            #expect(normal["invoiceId"] as? String != nil)
        }
    }
}
