import Foundation
import Hummingbird

/// Rotating a charger's password (its AuthorizationKey) from the station page, as `POST
/// /api/v1/stations/{id}/credentials/rotate` does.
extension DashboardController {
    func addSecurityRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post("/ui/stations/{id}/credentials/rotate") { _, context in
            let id = try context.parameters.require("id")
            guard try await dependencies.stations.station(id) != nil else { throw APIError.notFound("no station \(id)") }
            let outcome: FormOutcome
            do {
                outcome = Self.rotationOutcome(
                    try await OCPPController.mapCallErrors(station: id, action: "ChangeConfiguration") {
                        try await dependencies.ocpp.commands.rotateAuthorizationKey(of: id)
                    })
            } catch {
                outcome = try Self.failure("rotate charger password", error)
            }
            return try await redirect(to: DashboardLayout.stationPath(id), with: outcome, context: context)
        }
    }

    /// The charger's answer to the new key, as the operator reads it.
    static func rotationOutcome(_ rotation: ChargePointCommands.Rotation) -> FormOutcome {
        rotation.rotated
            ? .done("rotate charger password: the charger accepted a new key (\(rotation.status)); only the new one is accepted from its next connection")
            : FormOutcome(ok: false, message: "rotate charger password: the charger refused (\(rotation.status)); the old key stays")
    }
}
