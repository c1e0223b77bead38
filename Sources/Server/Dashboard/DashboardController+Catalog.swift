import Foundation
import Hummingbird
import Storage

/// The dashboard's drivers and tariff writes, through the API controllers' rules.
extension DashboardController {
    func addCatalogRoutes(to router: some RouterMethods<AppRequestContext>) {
        let driversAPI = DriversController(repository: dependencies.drivers, now: dependencies.now)
        let tariffsAPI = TariffsController(tariffs: dependencies.tariffs, now: dependencies.now)

        router.get("/ui/drivers") { request, context in
            let parameters = request.uri.queryParameters
            var query = DriverQuery()
            query.text = context.form.text("q").map { String($0.prefix(100)) }
            let drivers = try await dependencies.drivers.list(query, page: PageRequest(limit: 100, cursor: parameters.text("cursor")))
            let notice = try await takeNotice(parameters.text("outcome"), context: context)
            return DashboardLayout.response(
                DashboardLayout.page(
                    title: "Drivers", current: "/ui/drivers", session: context.webSession,
                    DriverPages.list(drivers, text: query.text, notice: notice, session: try requireSession(context), format: format)))
        }
        router.post("/ui/drivers") { _, context in
            let form = context.form
            let outcome: FormOutcome
            do {
                let driver = try await driversAPI.create(
                    .init(
                        name: form.text("name") ?? "", email: form.text("email") ?? "", phone: form.text("phone"), status: nil,
                        membership: form.text("membership"), vehicles: nil, userId: nil))
                outcome = .done("new driver: \(driver.name) added")
            } catch {
                outcome = try Self.failure("new driver", error)
            }
            return try await redirect(to: "/ui/drivers", with: outcome, context: context)
        }
        router.post("/ui/tariffs") { _, context in
            let tariff: Tariff
            do {
                tariff = try await tariffsAPI.create(try Self.tariffInput(context.form))
            } catch {
                return try await redirect(to: "/ui/tariffs", with: try Self.failure("new tariff", error), context: context)
            }
            return try await redirect(
                to: "/ui/tariffs/" + DashboardLayout.segment(tariff.id),
                with: .done("new tariff: \(tariff.name) added"), context: context)
        }
        router.post("/ui/tariffs/{id}/edit") { _, context in
            let id = try context.parameters.require("id")
            let outcome: FormOutcome
            do {
                let tariff = try await tariffsAPI.update(id, try Self.tariffInput(context.form))
                outcome = .done("tariff: \(tariff.name) saved")
            } catch {
                outcome = try Self.failure("tariff", error)
            }
            return try await redirect(to: "/ui/tariffs/" + DashboardLayout.segment(id), with: outcome, context: context)
        }
    }

    static let windowRows = 1...4

    /// The tariff form as the API's JSON body, decoded by the same `TariffInput`: empty optional
    /// prices clear them, the window rows given replace the tariff's windows.
    static func tariffInput(_ form: FormFields) throws -> TariffsController.TariffInput {
        var json: [String: Any] = [:]
        for name in ["name", "currency", "energyPrice", "taxRatePercent", "timeZone"] {
            if let value = form.text(name) { json[name] = value }
        }
        for name in ["timePrice", "sessionFee", "idleFee"] { json[name] = form.text(name) ?? NSNull() }
        if let grace = form.text("idleGraceMinutes") {
            guard let minutes = Int(grace) else { throw APIError.validation(field: "idleGraceMinutes", "must be a whole number of minutes") }
            json["idleGraceMinutes"] = minutes
        }
        if let version = form.text("version").flatMap({ Int64($0) }) { json["version"] = version }
        json["isDefault"] = form["isDefault"] == "on"
        json["windows"] = try windowRows.compactMap { row -> [String: Any]? in
            guard let start = form.text("window\(row)Start"), let end = form.text("window\(row)End") else { return nil }
            var window: [String: Any] = ["start": start, "end": end]
            if let days = form.text("window\(row)Days") {
                window["daysOfWeek"] = days.lowercased().split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
            }
            if let price = form.text("window\(row)EnergyPrice") { window["energyPrice"] = price }
            if let price = form.text("window\(row)TimePrice") { window["timePrice"] = price }
            guard JSONSerialization.isValidJSONObject(window) else { throw APIError.validation(field: "windows", "cannot be read") }
            return window
        }
        let data = try JSONSerialization.data(withJSONObject: json)
        return try WireFormat.decoder.decode(TariffsController.TariffInput.self, from: data)
    }
}
