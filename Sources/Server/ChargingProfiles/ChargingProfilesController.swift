import Foundation
import Hummingbird
import OCPP

/// `/api/v1/stations/{id}/charging-profiles` and `…/composite-schedule`: staff set, list and
/// clear a station's charging profiles and ask for its composite schedule.
struct ChargingProfilesController {
    let service: ChargingProfileService

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post("/api/v1/stations/{id}/charging-profiles") { request, context in
            let id = try context.parameters.require("id")
            let body = try await request.body.collect(upTo: .max)
            guard case .object(let object)? = try? JSONParser.parse(Array(body.readableBytesView)) else {
                throw APIError.badRequest("the body must be a JSON object")
            }
            var validator = Validator()
            guard case .int(let connectorID)? = object["connectorId"], (0...100).contains(connectorID) else {
                throw APIError.validation(field: "connectorId", "is required: 0 (the charge point) or a connector number")
            }
            validator.check(object["chargingProfile"] != nil, "chargingProfile", "is required: an OCPP csChargingProfiles object")
            try validator.throwIfInvalid()
            let stored = try await OCPPController.mapCallErrors(station: id, action: "SetChargingProfile") {
                try await service.set(stationID: id, connectorID: connectorID, profile: object["chargingProfile"]!)
            }
            return try jsonResponse(stored, status: .created)
        }
        router.get("/api/v1/stations/{id}/charging-profiles") { request, context in
            let id = try context.parameters.require("id")
            guard try await service.stations.station(id) != nil else { throw ChargingProfileError.stationNotFound(id) }
            var validator = Validator()
            let status = validator.parse(request.uri.queryParameters.text("status"), as: ChargingProfileStatus.self, field: "status")
            try validator.throwIfInvalid()
            return try jsonResponse(["items": try await service.repository.list(stationID: id, status: status)])
        }
        router.delete("/api/v1/stations/{id}/charging-profiles") { request, context in
            let id = try context.parameters.require("id")
            let clear = try Self.clearRequest(request.uri.queryParameters)
            let cleared = try await OCPPController.mapCallErrors(station: id, action: "ClearChargingProfile") {
                try await service.clear(stationID: id, clear)
            }
            return try jsonResponse(cleared)
        }
        router.get("/api/v1/stations/{id}/composite-schedule") { request, context in
            let id = try context.parameters.require("id")
            let parameters = request.uri.queryParameters
            var validator = Validator()
            let connector = parameters.text("connectorId").flatMap(Int.init)
            validator.check(connector.map { (0...100).contains($0) } ?? false, "connectorId", "is required: 0 to 100")
            let duration = parameters.text("duration").flatMap(Int.init)
            validator.check(duration.map { (1...604_800).contains($0) } ?? false, "duration", "is required: 1 to 604800 seconds")
            let unit = parameters.text("unit")
            validator.check(unit == nil || unit == "A" || unit == "W", "unit", "must be A or W")
            try validator.throwIfInvalid()
            let answer = try await OCPPController.mapCallErrors(station: id, action: "GetCompositeSchedule") {
                try await service.compositeSchedule(stationID: id, connectorID: connector!, duration: duration!, unit: unit)
            }
            return JSONReply(status: .ok, headers: [:], data: Data(JSONWriter.bytes(answer))).response
        }
    }

    /// ClearChargingProfile's filters from the query: `id`, or `connectorId`, `purpose`, `stackLevel`.
    static func clearRequest(_ parameters: Parameters) throws -> OCPP16.ClearChargingProfile.Request {
        var validator = Validator()
        var request = OCPP16.ClearChargingProfile.Request()
        func integer(_ name: String, _ range: ClosedRange<Int>) -> Int? {
            guard let raw = parameters.text(name) else { return nil }
            guard let value = Int(raw), range.contains(value) else {
                validator.fail(name, "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
                return nil
            }
            return value
        }
        request.id = integer("id", 0...Int(Int32.max))
        request.connectorId = integer("connectorId", 0...100)
        request.stackLevel = integer("stackLevel", 0...1000)
        request.chargingProfilePurpose = validator.parse(
            parameters.text("purpose"), as: OCPP16.ClearChargingProfile.Request.ChargingProfilePurpose.self, field: "purpose")
        try validator.throwIfInvalid()
        return request
    }
}
