import Foundation
import Hummingbird

/// Adding, changing and decommissioning stations and setting a charger's password, through the
/// same rules as the stations API (`StationsController`).
extension DashboardController {
    func addStationWriteRoutes(to router: some RouterMethods<AppRequestContext>) {
        let stationsAPI = StationsController(
            repository: dependencies.stations, connectorStatusChanges: dependencies.monitoring,
            connectionInfo: { [ocpp] in try await ocpp.connectionInfo($0) },
            enforceSecurityProfile: { [ocpp] in ocpp.enforceSecurityProfile($0, $1) }, now: dependencies.now)
        router.post("/ui/stations") { _, context in
            let form = context.form
            let id = form.text("id") ?? ""
            let outcome: FormOutcome
            do {
                var connectors: [StationsController.ConnectorInput] = []
                for number in 1...4 {
                    guard let type = form.text("connector\(number)Type") else { continue }
                    guard let power = form.text("connector\(number)PowerKw").flatMap(Double.init) else {
                        throw APIError.validation(field: "connector\(number)PowerKw", "is required for connector \(number): kW")
                    }
                    connectors.append(.init(connectorId: number, type: type, maxPowerKw: power, status: nil))
                }
                let view = try await stationsAPI.create(
                    .init(
                        id: id, name: form.text("name") ?? "", operatorId: nil, address: form.text("address"), latitude: nil,
                        longitude: nil, status: nil, registration: nil, ocppVersion: nil, tariffId: form.text("tariffId"),
                        connectors: connectors))
                outcome = .done("new station: \(view.id) added with \(view.connectors.count) connectors")
                return try await redirect(to: DashboardLayout.stationPath(view.id), with: outcome, context: context)
            } catch {
                let failure = try Self.failure("new station \(id)", error)
                return DashboardLayout.response(
                    DashboardLayout.page(
                        title: "Stations", current: "/ui/stations", session: context.webSession,
                        """
                        <h1>Stations</h1>
                        \(DashboardLayout.notice(failure))
                        <p><a href="/ui/stations">Back to the stations</a></p>
                        """), status: ProblemMiddleware.problem(for: error).status)
            }
        }
        router.post("/ui/stations/{id}/edit") { _, context in
            let id = try context.parameters.require("id")
            let form = context.form
            func optional(_ name: String) -> FieldUpdate<String> { .set(form.text(name)) }
            let outcome: FormOutcome
            do {
                var patch = StationsController.PatchRequest(
                    version: form.text("version").flatMap { Int64($0) }, name: form.text("name") ?? "",
                    operatorId: optional("operatorId"), address: optional("address"), status: form.text("status"),
                    registration: form.text("registration"), tariffId: optional("tariffId"), siteId: optional("siteId"))
                if let profile = form.text("securityProfile") {
                    // The API checks the range; a value that is no number at all never reaches it.
                    guard let number = Int(profile) else { throw APIError.validation(field: "securityProfile", "must be 0, 1, 2 or 3") }
                    patch.securityProfile = number
                }
                _ = try await stationsAPI.update(id, patch)
                outcome = .done("settings: saved")
            } catch {
                outcome = try Self.failure("settings", error)
            }
            return try await redirect(to: DashboardLayout.stationPath(id), with: outcome, context: context)
        }
        router.post("/ui/stations/{id}/password") { _, context in
            let id = try context.parameters.require("id")
            let outcome: FormOutcome
            do {
                try await stationsAPI.setPassword(id, context.form["password"] ?? "")
                outcome = .done("charger password: set; the charger must use it from its next connection")
            } catch {
                outcome = try Self.failure("charger password", error)
            }
            return try await redirect(to: DashboardLayout.stationPath(id), with: outcome, context: context)
        }
        router.post("/ui/stations/{id}/decommission") { _, context in
            let id = try context.parameters.require("id")
            let outcome: FormOutcome
            do {
                _ = try await stationsAPI.decommission(id)
                outcome = .done("decommission: \(id) is decommissioned")
            } catch {
                outcome = try Self.failure("decommission", error)
            }
            return try await redirect(to: DashboardLayout.stationPath(id), with: outcome, context: context)
        }
    }
}
