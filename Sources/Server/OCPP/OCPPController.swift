import Foundation
import Hummingbird
import Storage

/// REST onto the central system: the raw passthrough, typed commands, the drivers' app
/// start/stop and the message log.
struct OCPPController {
    let ocpp: OCPPService
    let stations: StationRepository
    let sessions: SessionService
    let drivers: DriverRepository
    let now: @Sendable () -> Date

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post("/api/v1/stations/{id}/ocpp/{action}") { request, context in
            let id = try context.parameters.require("id")
            let action = try context.parameters.require("action")
            guard let schema = OCPPSchemas.centralSystemRequests[action] else {
                throw APIError.notFound("\(action) is not an OCPP 1.6 action a central system sends")
            }
            let body = try await request.body.collect(upTo: .max)
            let object = try Self.object(from: Data(body.readableBytesView))
            do {
                try schema.validate(object)
            } catch let error as OCPPError {
                throw APIError(
                    status: .unprocessableContent, slug: "ocpp-schema-violation", title: "Invalid OCPP payload",
                    detail: "\(error.code.rawValue): \(error.description)")
            }
            let payload = try await call(id, action, object)
            return JSONReply(status: .ok, headers: [:], data: Data("{\"response\":\(payload)}".utf8)).response
        }
        router.post("/api/v1/stations/{id}/commands/{command}") { request, context in
            let id = try context.parameters.require("id")
            let command = try context.parameters.require("command")
            let body = try await request.body.collect(upTo: .max)
            let input = body.readableBytes == 0 ? [:] : try Self.object(from: Data(body.readableBytesView))
            let payload = try await typedCommand(command, station: id, input: input)
            return JSONReply(status: .ok, headers: [:], data: Data(payload.utf8)).response
        }
        router.post("/api/v1/me/charging/start") { request, context in
            let identity = try context.requireSignedIn()
            let body = try await request.decodeJSON(as: ChargingStart.self)
            guard let driver = try await drivers.driver(forUser: identity.userID) else {
                throw APIError.notFound("your account has no driver profile")
            }
            let tags = try await drivers.idTags(status: nil, driverID: driver.id, kind: .app, page: PageRequest(limit: 1))
            guard let appToken = tags.items.first else { throw APIError.conflict("your driver profile has no app token") }
            let decision = try await ocpp.handler.authorizer.authorize(appToken.id, forStartTransaction: true)
            guard decision.status == .accepted else {
                throw APIError.conflict("your app token is not accepted: \(decision.status.rawValue)")
            }
            let payload = try await typedCommand(
                "remote-start", station: body.stationId, input: ["connectorId": body.connectorId, "idTag": appToken.id])
            return JSONReply(status: .ok, headers: [:], data: Data(payload.utf8)).response
        }
        router.post("/api/v1/me/charging/{sessionId}/stop") { _, context in
            let identity = try context.requireSignedIn()
            let sessionID = try context.parameters.require("sessionId")
            guard let driver = try await drivers.driver(forUser: identity.userID),
                let session = try await sessions.session(sessionID), session.driverId == driver.id
            else { throw APIError.notFound("no session \(sessionID)") }
            let payload = try await typedCommand("remote-stop", station: session.stationId, input: ["sessionId": sessionID])
            return JSONReply(status: .ok, headers: [:], data: Data(payload.utf8)).response
        }
        router.get("/api/v1/stations/{id}/ocpp-log") { request, context in
            let id = try context.parameters.require("id")
            var limit = 50
            if let raw = request.uri.queryParameters["limit"] {
                guard let value = Int(raw), (1...500).contains(value) else {
                    throw APIError.validation(field: "limit", "must be from 1 to 500")
                }
                limit = value
            }
            guard try await stations.station(id) != nil else { throw APIError.notFound("no station \(id)") }
            return try jsonResponse(["items": try await ocpp.recorder.recent(stationID: id, limit: limit)])
        }
    }

    /// The typed commands, as `POST /stations/{id}/commands/{command}` names them.
    static let commands = [
        "remote-start", "remote-stop", "reset", "unlock", "change-availability", "get-configuration",
        "change-configuration", "clear-cache", "trigger-message",
    ]

    struct ChargingStart: Decodable, Sendable {
        var stationId: String
        var connectorId: Int
    }

    /// The live connection of a station, for `GET /stations/{id}`.
    func connectionInfo(_ stationID: String) async throws -> StationConnection {
        let connection = ocpp.registry.connection(stationID)
        return StationConnection(
            connected: connection != nil, connectedAt: connection?.connectedAt, registration: connection?.registration.rawValue,
            outboundQueueDepth: await connection?.outbound.depth,
            lastMessages: try await ocpp.recorder.recent(stationID: stationID, limit: 10))
    }

    // MARK: Commands

    /// Sends a CALL and maps the outcome onto HTTP: the answer's JSON, or 409/502/503/504.
    private func call(_ stationID: String, _ action: String, _ payload: [String: Any]) async throws -> String {
        guard try await stations.station(stationID) != nil else { throw APIError.notFound("no station \(stationID)") }
        let text = String(decoding: try JSONSerialization.data(withJSONObject: payload, options: [.withoutEscapingSlashes]), as: UTF8.self)
        do {
            switch try await ocpp.call(stationID, action: action, payload: text) {
            case .result(let json):
                return json
            case .error(let code, let description):
                var problem = APIError(
                    status: .badGateway, slug: "ocpp-call-error", title: "The charge point answered with an error",
                    detail: "\(code): \(description)")
                problem.errors = [FieldError(field: "ocppErrorCode", message: code)]
                throw problem
            }
        } catch let error as OutboundCallError {
            switch error {
            case .notConnected:
                throw APIError.conflict("station \(stationID) is not connected")
            case .queueFull:
                throw APIError(
                    status: .serviceUnavailable, slug: "service-unavailable", title: "Service unavailable",
                    detail: "too many commands are waiting for station \(stationID); try again shortly",
                    headers: [.retryAfter: "5"])
            case .timedOut:
                throw APIError(
                    status: .gatewayTimeout, slug: "ocpp-timeout", title: "The charge point did not answer in time",
                    detail: "no answer from \(stationID) to \(action) within the timeout")
            }
        }
    }

    private func typedCommand(_ command: String, station stationID: String, input: [String: Any]) async throws -> String {
        guard let view = try await stations.get(stationID) else { throw APIError.notFound("no station \(stationID)") }
        var validator = Validator()
        func connector(_ field: String = "connectorId", allowZero: Bool = false) -> Int? {
            guard let value = input.int(field) else {
                validator.fail(field, "is required: a connector number")
                return nil
            }
            if allowZero && value == 0 { return 0 }
            guard view.connectors.contains(where: { $0.connectorId == value }) else {
                validator.fail(field, "station \(stationID) has no connector \(value)")
                return nil
            }
            return value
        }
        func oneOf(_ field: String, _ allowed: [String]) -> String? {
            guard let value = input.string(field), allowed.contains(value) else {
                validator.fail(field, "must be one of \(allowed.joined(separator: ", "))")
                return nil
            }
            return value
        }
        func refuseWhilePending() throws {
            if ocpp.registry.connection(stationID)?.registration == .pending || view.registration == .pending {
                throw APIError.conflict("station \(stationID) is pending registration; remote start and stop are refused")
            }
        }
        switch command {
        case "remote-start":
            let connectorID = connector()
            let idTag = input.string("idTag")
            validator.check(idTag.map(IdTag.isValid) ?? false, "idTag", "is required: 1–20 printable ASCII characters")
            try validator.throwIfInvalid()
            try refuseWhilePending()
            return try await call(stationID, "RemoteStartTransaction", ["connectorId": connectorID!, "idTag": idTag!])
        case "remote-stop":
            guard let sessionID = input.string("sessionId") else {
                throw APIError.validation(field: "sessionId", "is required")
            }
            guard let session = try await sessions.session(sessionID), session.stationId == stationID, session.status == .active
            else { throw APIError.validation(field: "sessionId", "is not an active session at station \(stationID)") }
            try refuseWhilePending()
            return try await call(stationID, "RemoteStopTransaction", ["transactionId": session.transactionId])
        case "reset":
            let type = oneOf("type", ["Hard", "Soft"])
            try validator.throwIfInvalid()
            return try await call(stationID, "Reset", ["type": type!])
        case "unlock":
            let connectorID = connector()
            try validator.throwIfInvalid()
            return try await call(stationID, "UnlockConnector", ["connectorId": connectorID!])
        case "change-availability":
            let connectorID = connector(allowZero: true)
            let type = oneOf("type", ["Operative", "Inoperative"])
            try validator.throwIfInvalid()
            let answer = try await call(stationID, "ChangeAvailability", ["connectorId": connectorID!, "type": type!])
            if Self.status(of: answer) == "Accepted" || Self.status(of: answer) == "Scheduled" {
                try await recordAvailability(stationID, connectorID: connectorID!, operative: type == "Operative")
            }
            return answer
        case "get-configuration":
            var payload: [String: Any] = [:]
            if let keys = input["keys"] {
                guard let list = keys as? [String], list.allSatisfy({ (1...50).contains($0.count) }) else {
                    throw APIError.validation(field: "keys", "must be a list of configuration keys (1–50 characters)")
                }
                payload["key"] = list
            }
            let answer = try await call(stationID, "GetConfiguration", payload)
            try await keepConfiguration(stationID, answer: answer)
            return answer
        case "change-configuration":
            let key = input.string("key")
            let value = input.string("value")
            validator.check(key.map { (1...50).contains($0.count) } ?? false, "key", "is required: 1–50 characters")
            validator.check(value.map { $0.count <= 500 } ?? false, "value", "is required: at most 500 characters")
            if key == "AuthorizationKey", let value {
                validator.check(
                    ChargePointPassword.allowedLength.contains(value.count), "value",
                    "an AuthorizationKey must be 16–40 characters")
            }
            try validator.throwIfInvalid()
            let answer = try await call(stationID, "ChangeConfiguration", ["key": key!, "value": value!])
            let status = Self.status(of: answer)
            if key == "AuthorizationKey", status == "Accepted" || status == "RebootRequired" {
                // Stored before we answer, so the charger's reconnect with the new key succeeds.
                let hash = ChargePointPassword.hash(value!)
                _ = try await stations.update(stationID, expectedVersion: nil, now: now()) { $0.passwordHash = hash }
            }
            return answer
        case "clear-cache":
            return try await call(stationID, "ClearCache", [:])
        case "trigger-message":
            let message = oneOf(
                "message",
                ["BootNotification", "DiagnosticsStatusNotification", "FirmwareStatusNotification", "Heartbeat", "MeterValues", "StatusNotification"])
            var payload: [String: Any] = [:]
            if input["connectorId"] != nil, let connectorID = connector() { payload["connectorId"] = connectorID }
            try validator.throwIfInvalid()
            payload["requestedMessage"] = message!
            return try await call(stationID, "TriggerMessage", payload)
        default:
            throw APIError.notFound("no command \(command); commands: \(Self.commands.joined(separator: ", "))")
        }
    }

    private func recordAvailability(_ stationID: String, connectorID: Int, operative: Bool) async throws {
        let at = now()
        if connectorID == 0 {
            _ = try await stations.update(stationID, expectedVersion: nil, now: at) { station in
                if station.status == .active || station.status == .inactive { station.status = operative ? .active : .inactive }
            }
            return
        }
        guard !operative else { return }
        let history = ConnectorStatusHistory(recorder: ocpp.monitoring) { before, _ in
            guard before.status != .unavailable else { return nil }
            return ConnectorStatusChange(
                stationID: stationID, connectorID: connectorID, previous: before.status, current: .unavailable,
                errorCode: nil, info: "ChangeAvailability Inoperative", vendorErrorCode: nil, at: at, source: .api)
        }
        _ = try await stations.updateConnector(connectorID, of: stationID, now: at, history: history) { $0.status = .unavailable }
    }

    private func keepConfiguration(_ stationID: String, answer: String) async throws {
        guard let object = try? JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any] else { return }
        var values: [String: String] = [:]
        for entry in object.objects("configurationKey") {
            // A charger may echo its password; we keep only that one is set.
            if let key = entry.string("key") {
                values[key] = OCPPSecretRedaction.isSecretKey(key) ? OCPPSecretRedaction.placeholder : entry.string("value") ?? ""
            }
        }
        guard !values.isEmpty else { return }
        let update = values
        _ = try await stations.update(stationID, expectedVersion: nil, now: now()) { station in
            station.configuration = (station.configuration ?? [:]).merging(update) { $1 }
        }
    }

    private static func status(of answer: String) -> String? {
        (try? JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any])?.string("status")
    }

    private static func object(from data: Data) throws -> [String: Any] {
        guard !data.isEmpty else { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw APIError.badRequest("the body must be a JSON object")
        }
        return object
    }
}
