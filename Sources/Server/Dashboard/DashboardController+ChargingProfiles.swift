import Foundation
import Hummingbird
import OCPP

/// Clearing a charging profile from the station page, as `DELETE /api/v1/stations/{id}/charging-profiles?id=`
/// does: the same request checks and the same mapping of the charger's errors.
extension DashboardController {
    func addChargingProfileRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post("/ui/stations/{id}/charging-profiles/{profileId}/clear") { _, context in
            let id = try context.parameters.require("id")
            let profileID = try context.parameters.require("profileId")
            guard try await dependencies.stations.station(id) != nil else { throw APIError.notFound("no station \(id)") }
            let outcome: FormOutcome
            do {
                let request = try ChargingProfilesController.clearRequest(["id": Substring(profileID)])
                let cleared = try await OCPPController.mapCallErrors(station: id, action: "ClearChargingProfile") {
                    try await dependencies.chargingProfiles.clear(stationID: id, request)
                }
                let count = cleared.cleared.count == 1 ? "1 profile" : "\(cleared.cleared.count) profiles"
                outcome = FormOutcome(
                    ok: cleared.status == OCPP16.ClearChargingProfile.Response.Status.accepted.rawValue,
                    message: "clear profile \(profileID): the charger answered \(cleared.status); \(count) cleared")
            } catch {
                outcome = try Self.failure("clear profile \(profileID)", error)
            }
            return try await redirect(to: DashboardLayout.stationPath(id), with: outcome, context: context)
        }
    }
}
