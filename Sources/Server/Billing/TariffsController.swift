import Foundation
import Hummingbird
import Storage

/// `/api/v1/tariffs`: operators and admins write, everyone signed in reads.
struct TariffsController {
    let tariffs: TariffRepository
    let now: @Sendable () -> Date

    /// Both the create body and the PATCH body: on PATCH only the given fields change.
    struct TariffInput: Decodable, Sendable {
        var version: Int64?
        var name: String?
        var currency: Currency?
        var energyPrice: Decimal6?
        var timePrice: FieldUpdate<Decimal6>
        var sessionFee: FieldUpdate<Decimal6>
        var idleFee: FieldUpdate<Decimal6>
        var idleGraceMinutes: Int?
        var taxRatePercent: Decimal6?
        var timeZone: String?
        var validFrom: FieldUpdate<Date>
        var validTo: FieldUpdate<Date>
        var windows: [TariffWindow]?
        var membershipDiscounts: [String: Decimal6]?
        var isDefault: Bool?

        enum CodingKeys: String, CodingKey {
            case version, name, currency, energyPrice, timePrice, sessionFee, idleFee, idleGraceMinutes, taxRatePercent
            case timeZone, validFrom, validTo, windows, membershipDiscounts, isDefault
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            version = try container.decodeIfPresent(Int64.self, forKey: .version)
            name = try container.decodeIfPresent(String.self, forKey: .name)
            currency = try container.decodeIfPresent(Currency.self, forKey: .currency)
            energyPrice = try container.decodeIfPresent(Decimal6.self, forKey: .energyPrice)
            timePrice = try container.update(Decimal6.self, forKey: .timePrice)
            sessionFee = try container.update(Decimal6.self, forKey: .sessionFee)
            idleFee = try container.update(Decimal6.self, forKey: .idleFee)
            idleGraceMinutes = try container.decodeIfPresent(Int.self, forKey: .idleGraceMinutes)
            taxRatePercent = try container.decodeIfPresent(Decimal6.self, forKey: .taxRatePercent)
            timeZone = try container.decodeIfPresent(String.self, forKey: .timeZone)
            validFrom = try container.update(Date.self, forKey: .validFrom)
            validTo = try container.update(Date.self, forKey: .validTo)
            windows = try container.decodeIfPresent([TariffWindow].self, forKey: .windows)
            membershipDiscounts = try container.decodeIfPresent([String: Decimal6].self, forKey: .membershipDiscounts)
            isDefault = try container.decodeIfPresent(Bool.self, forKey: .isDefault)
        }

        func apply(to tariff: inout Tariff) {
            if let name { tariff.name = name }
            if let currency { tariff.currency = currency }
            if let energyPrice { tariff.energyPrice = energyPrice }
            timePrice.apply(to: &tariff.timePrice)
            sessionFee.apply(to: &tariff.sessionFee)
            idleFee.apply(to: &tariff.idleFee)
            if let idleGraceMinutes { tariff.idleGraceMinutes = idleGraceMinutes }
            if let taxRatePercent { tariff.taxRatePercent = taxRatePercent }
            if let timeZone { tariff.timeZone = timeZone }
            validFrom.apply(to: &tariff.validFrom)
            validTo.apply(to: &tariff.validTo)
            if let windows { tariff.windows = windows }
            if let membershipDiscounts { tariff.membershipDiscounts = membershipDiscounts }
            if let isDefault { tariff.isDefault = isDefault }
        }
    }

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("/api/v1/tariffs") { request, context in
            let page = try PageRequest(from: request.uri.queryParameters)
            let listed = try await tariffs.list(page: page)
            return try jsonResponse(ListResponse(items: listed.items, nextCursor: listed.nextCursor))
        }
        router.get("/api/v1/tariffs/{id}") { _, context in
            return try jsonResponse(try await tariffs.tariff(try context.parameters.require("id")))
        }
        router.post("/api/v1/tariffs") { request, context in
            let stored = try await create(try await request.decodeJSON(as: TariffInput.self))
            return try jsonResponse(stored, status: .created, headers: [.location: "/api/v1/tariffs/\(stored.id)"])
        }
        router.patch("/api/v1/tariffs/{id}") { request, context in
            let id = try context.parameters.require("id")
            return try jsonResponse(try await update(id, try await request.decodeJSON(as: TariffInput.self)))
        }
        router.delete("/api/v1/tariffs/{id}") { _, context in
            let id = try context.parameters.require("id")
            try await tariffs.delete(id)
            return Response(status: .noContent)
        }
        router.get("/api/v1/tariffs/{id}/quote") { request, context in
            let tariff = try await tariffs.tariff(try context.parameters.require("id"))
            return try jsonResponse(try quote(tariff, request.uri.queryParameters))
        }
    }

    // MARK: Writes shared with the dashboard

    func create(_ input: TariffInput) async throws -> Tariff {
        var missing = Validator()
        missing.check(input.name != nil, "name", "is required")
        missing.check(input.currency != nil, "currency", "is required")
        missing.check(input.energyPrice != nil, "energyPrice", "is required")
        try missing.throwIfInvalid()
        var tariff = Tariff(
            id: Identifiers.make(), name: input.name!, currency: input.currency!, energyPrice: input.energyPrice!, now: now())
        input.apply(to: &tariff)
        try Self.validate(tariff)
        return try await tariffs.create(tariff)
    }

    func update(_ id: String, _ input: TariffInput) async throws -> Tariff {
        // Changed and checked outside the writer; without a version the one read here must still
        // be the stored one, so a concurrent change is a conflict, not silently overwritten.
        var tariff = try await tariffs.tariff(id)
        let version = input.version ?? tariff.version
        input.apply(to: &tariff)
        tariff.updatedAt = now()
        try Self.validate(tariff)
        return try await tariffs.update(tariff, expectedVersion: version)
    }

    /// The cost of a charge under `tariff` from `energyKwh`, `durationMinutes`, `membership` and
    /// `startAt`: the API's quote and the dashboard's calculator.
    /// `blankStartIsNow`: the dashboard's form sends its empty start field as `startAt=`; the
    /// API keeps to its documented date-time.
    func quote(_ tariff: Tariff, _ parameters: Parameters, blankStartIsNow: Bool = false) throws -> CostBreakdown {
        var validator = Validator()
        let energy = parameters.text("energyKwh").flatMap(Decimal6.init)
        validator.check(energy.map { $0 >= .zero } ?? false, "energyKwh", "is required: a number of kWh ≥ 0")
        validator.check(
            energy.map { $0 <= Plausible.quoteEnergyKwh } ?? true, "energyKwh",
            "must be at most \(Plausible.quoteEnergyKwh.formatted(minimumFractionDigits: 0))")
        let minutes = parameters.text("durationMinutes").flatMap(Decimal6.init)
        validator.check(minutes.map { $0 >= .zero } ?? false, "durationMinutes", "is required: minutes ≥ 0")
        validator.check(
            minutes.map { $0 <= Self.maxQuoteMinutes } ?? true, "durationMinutes",
            "must be at most \(Self.maxQuoteMinutes.formatted(minimumFractionDigits: 0)) (one year)")
        // Empty is "no membership", as a form's blank choice sends it.
        let membership = validator.parse(
            parameters.text("membership").flatMap { $0.isEmpty ? nil : $0 }, as: Membership.self, field: "membership")
        let now = now()
        let blankStart = blankStartIsNow && parameters.text("startAt")?.isEmpty == true
        let startAt = blankStart ? now : try parameters.date("startAt") ?? now
        validator.check(
            startAt >= Plausible.earliestChargerClock && startAt <= now.addingTimeInterval(Self.quoteHorizon), "startAt",
            "must be after 2010-01-01 and at most a year ahead of now")
        try validator.throwIfInvalid()
        let seconds = Double(minutes!.micros) * 60 / Double(Decimal6.scale)
        // Both bounded above, so these fit: at most 10^12 Wh and one year of seconds.
        let usage = ChargeUsage(
            startedAt: startAt, stoppedAt: startAt.addingTimeInterval(seconds),
            energyWh: Rounding.halfUp(energy!.micros, dividedBy: 1000) ?? 0, membership: membership)
        return try TariffCalculator(tariff: tariff).cost(of: usage)
    }

    static let maxQuoteMinutes = Decimal6(integer: 366 * 24 * 60)
    static let quoteHorizon: TimeInterval = 366 * 86_400
    /// Per kWh, hour, session or minute: far above any real price, low enough that no plausible
    /// session's amount can overflow.
    static let maxUnitPrice = Decimal6(integer: 10_000)

    static func validate(_ tariff: Tariff) throws {
        var validator = Validator()
        validator.text(tariff.name, "name", length: 1...200)
        let prices: [(String, Decimal6?)] = [
            ("energyPrice", tariff.energyPrice), ("timePrice", tariff.timePrice), ("sessionFee", tariff.sessionFee),
            ("idleFee", tariff.idleFee),
        ]
        for (field, price) in prices {
            if let price {
                validator.check(price >= .zero, field, "must not be negative")
                validator.check(price <= maxUnitPrice, field, "must be at most \(maxUnitPrice.formatted())")
            }
        }
        validator.check((0...1440).contains(tariff.idleGraceMinutes), "idleGraceMinutes", "must be from 0 to 1440")
        validator.check(
            tariff.taxRatePercent >= .zero && tariff.taxRatePercent <= Decimal6(integer: 100), "taxRatePercent",
            "must be from 0 to 100")
        validator.check(TimeZone(identifier: tariff.timeZone) != nil, "timeZone", "must be an IANA time zone such as Europe/Berlin")
        if let from = tariff.validFrom, let to = tariff.validTo {
            validator.check(from < to, "validTo", "must be after validFrom")
        }
        for (index, window) in tariff.windows.enumerated() {
            validator.check(window.start != window.end, "windows[\(index)]", "start and end must differ")
            validator.check(window.daysOfWeek.map { !$0.isEmpty } ?? true, "windows[\(index)].daysOfWeek", "must not be empty")
            for (name, price) in [("energyPrice", window.energyPrice), ("timePrice", window.timePrice)] {
                guard let price else { continue }
                validator.check(price >= .zero, "windows[\(index)].\(name)", "must not be negative")
                validator.check(price <= maxUnitPrice, "windows[\(index)].\(name)", "must be at most \(maxUnitPrice.formatted())")
            }
        }
        validator.check(tariff.windows.count <= 50, "windows", "at most 50")
        for (membership, percent) in tariff.membershipDiscounts {
            validator.check(Membership(rawValue: membership) != nil, "membershipDiscounts.\(membership)", "is not a membership (basic, premium, enterprise)")
            validator.check(percent >= .zero && percent <= Decimal6(integer: 100), "membershipDiscounts.\(membership)", "must be from 0 to 100")
        }
        try validator.throwIfInvalid()
    }
}
