import Foundation
import Hummingbird

/// `/api/v1/stations/{id}/local-list`: staff send a station its local authorization list and see
/// its versions.
struct LocalListController {
    let service: LocalListService

    struct SendRequest: Decodable, Sendable {
        var type: String
    }

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post("/api/v1/stations/{id}/local-list") { request, context in
            let id = try context.parameters.require("id")
            let body = try await request.decodeJSON(as: SendRequest.self)
            return try jsonResponse(try await send(id, type: body.type))
        }
        router.get("/api/v1/stations/{id}/local-list") { _, context in
            let id = try context.parameters.require("id")
            guard try await service.stations.station(id) != nil else { throw LocalListError.stationNotFound(id) }
            return try jsonResponse(LocalListService.Outcome(state: try await service.repository.state(id), sent: nil))
        }
    }

    /// Shared with the dashboard.
    func send(_ stationID: String, type: String) async throws -> LocalListService.Outcome {
        var validator = Validator()
        let updateType = validator.parse(type, as: LocalListUpdateType.self, field: "type")
        try validator.throwIfInvalid()
        return try await OCPPController.mapCallErrors(station: stationID, action: "SendLocalList") {
            try await service.send(stationID, type: updateType!)
        }
    }
}
