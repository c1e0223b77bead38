import Foundation
import Hummingbird
import Logging
import OCPP
import Storage

/// REST onto the central system: the raw passthrough, typed commands, the drivers' app
/// start/stop and the message log.
struct OCPPController {
    let ocpp: OCPPService
    let stations: StationRepository
    let sessions: SessionService
    let drivers: DriverRepository
    let authorizer: IdTagAuthorizer
    let now: @Sendable () -> Date

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post("/api/v1/stations/{id}/ocpp/{action}") { request, context in
            let id = try context.parameters.require("id")
            let action = try context.parameters.require("action")
            guard ChargePointCommands.passthroughActions[action] != nil else {
                throw APIError.notFound("\(action) is not an OCPP 1.6 action a central system sends")
            }
            let body = try await request.body.collect(upTo: .max)
            let payload: JSONValue
            if body.readableBytes == 0 {
                payload = .object(JSONObject())
            } else {
                guard let parsed = try? JSONParser.parse(Array(body.readableBytesView)) else {
                    throw APIError.badRequest("the body must be a JSON object")
                }
                payload = parsed
            }
            try await requireStation(id)
            let answer = try await Self.mapCallErrors(station: id, action: action) {
                try await ocpp.commands.passthrough(action, payload: payload, to: id)
            }
            return JSONReply(
                status: .ok, headers: [:], data: Data(JSONWriter.bytes(.object(JSONObject([("response", answer)]))))
            ).response
        }
        router.post("/api/v1/stations/{id}/commands/{command}") { request, context in
            let id = try context.parameters.require("id")
            let command = try context.parameters.require("command")
            let body = try await request.body.collect(upTo: .max)
            let input =
                body.readableBytes == 0 ? CommandInput() : try WireFormat.decoder.decode(CommandInput.self, from: Data(body.readableBytesView))
            let answer = try await typedCommand(command, station: id, input: input)
            return JSONReply(status: .ok, headers: [:], data: Data(JSONWriter.bytes(answer))).response
        }
        router.post("/api/v1/me/charging/start") { request, context in
            let identity = try context.requireSignedIn()
            let body = try await request.decodeJSON(as: ChargingStart.self)
            guard let driver = try await drivers.driver(forUser: identity.userID) else {
                throw APIError.notFound("your account has no driver profile")
            }
            let tags = try await drivers.idTags(status: nil, driverID: driver.id, kind: .app, page: PageRequest(limit: 1))
            guard let appToken = tags.items.first else { throw APIError.conflict("your driver profile has no app token") }
            let decision = try await authorizer.authorize(appToken.id, forStartTransaction: true)
            guard decision.status == .accepted else {
                throw APIError.conflict("your app token is not accepted: \(decision.status.rawValue)")
            }
            let answer = try await typedCommand(
                "remote-start", station: body.stationId, input: CommandInput(connectorId: body.connectorId, idTag: appToken.id))
            return JSONReply(status: .ok, headers: [:], data: Data(JSONWriter.bytes(answer))).response
        }
        router.post("/api/v1/me/charging/{sessionId}/stop") { _, context in
            let identity = try context.requireSignedIn()
            let sessionID = try context.parameters.require("sessionId")
            guard let driver = try await drivers.driver(forUser: identity.userID),
                let session = try await sessions.session(sessionID), session.driverId == driver.id
            else { throw APIError.notFound("no session \(sessionID)") }
            let answer = try await typedCommand("remote-stop", station: session.stationId, input: CommandInput(sessionId: sessionID))
            return JSONReply(status: .ok, headers: [:], data: Data(JSONWriter.bytes(answer))).response
        }
        router.post("/api/v1/stations/{id}/credentials/rotate") { _, context in
            let id = try context.parameters.require("id")
            try await requireStation(id)
            let answer = try await Self.mapCallErrors(station: id, action: "ChangeConfiguration") {
                try await ocpp.commands.rotateAuthorizationKey(of: id)
            }
            return try jsonResponse(answer)
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
        "change-configuration", "clear-cache", "trigger-message", "extended-trigger-message", "get-local-list-version",
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
            outboundQueueDepth: connection?.outbound.depth,
            lastMessages: try await ocpp.recorder.recent(stationID: stationID, limit: 10))
    }

    /// See `OCPPService.enforceSecurityProfile`.
    func enforceSecurityProfile(_ stationID: String, _ profile: Int) {
        ocpp.enforceSecurityProfile(stationID: stationID, profile: profile, logger: Self.logger)
    }

    private static let logger = Logger(label: "ocpp.security")

    // MARK: Commands

    /// The body of a typed command; which fields count depends on the command.
    struct CommandInput: Decodable, Sendable {
        var connectorId: Int?
        var idTag: String?
        var sessionId: String?
        var type: String?
        var keys: [String]?
        var key: String?
        var value: String?
        var message: String?
        /// remote-start: a TxProfile for the transaction it starts (OCPP `chargingProfile`).
        var chargingProfile: JSONValue?
    }

    private func requireStation(_ stationID: String) async throws {
        guard try await stations.station(stationID) != nil else { throw APIError.notFound("no station \(stationID)") }
    }

    /// Runs a call and maps what can go wrong with a charger onto HTTP: 409 (not connected),
    /// 503 (queue full), 504 (no answer in time), 502 (a CALLERROR, or an answer that breaks its schema).
    static func mapCallErrors<T>(station stationID: String, action: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
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
            case .callError(let code, let description):
                var problem = APIError(
                    status: .badGateway, slug: "ocpp-call-error", title: "The charge point answered with an error",
                    detail: "\(code): \(description)")
                problem.errors = [FieldError(field: "ocppErrorCode", message: code)]
                throw problem
            case .invalidResponse(_, let violation):
                var problem = APIError(
                    status: .badGateway, slug: "ocpp-invalid-response", title: "The charge point's answer breaks the OCPP schema",
                    detail: "\(stationID) answered \(action) with \(violation.description)")
                problem.errors = [FieldError(field: violation.path.isEmpty ? "response" : "response.\(violation.path)", message: violation.reason)]
                throw problem
            case .invalidRequest(_, let violation):
                throw APIError(
                    status: .internalServerError, slug: "internal-error", title: "Internal error",
                    detail: "the server built an invalid \(action) request (\(violation.description)); nothing was sent")
            }
        }
    }

    private func send<Action: OCPPAction>(_ action: Action.Type, _ request: Action.Request, to stationID: String) async throws
        -> JSONValue
    {
        try await Self.mapCallErrors(station: stationID, action: Action.name) {
            try await ocpp.commands.send(action, request, to: stationID).json
        }
    }

    /// A remote start's profile: a TxProfile without a transaction (the charger gives it the one it
    /// starts), by the schema and OCPP's rules for schedules.
    static func remoteStartProfile(_ json: JSONValue, validator: inout Validator)
        -> OCPP16.RemoteStartTransaction.Request.ChargingProfile?
    {
        let profile: OCPP16.RemoteStartTransaction.Request.ChargingProfile
        let checked: ChargingProfileRules.Profile
        do throws(OCPPValidationError) {
            profile = try .init(json: json)
            checked = try .init(json: profile.json)
        } catch {
            validator.fail("chargingProfile" + (error.path.isEmpty ? "" : "." + error.path), error.reason)
            return nil
        }
        validator.check(profile.chargingProfilePurpose == .txProfile, "chargingProfile.chargingProfilePurpose", "must be TxProfile")
        validator.check(profile.transactionId == nil, "chargingProfile.transactionId", "is given by the charger to the transaction it starts")
        for problem in ChargingProfileRules.scheduleProblems(checked) { validator.fail(problem.field, problem.message) }
        return profile
    }

    /// Validates and sends one of the typed commands; the dashboard sends its commands through here too.
    func typedCommand(_ command: String, station stationID: String, input: CommandInput) async throws -> JSONValue {
        guard let view = try await stations.get(stationID) else { throw APIError.notFound("no station \(stationID)") }
        var validator = Validator()
        func connector(allowZero: Bool = false) -> Int? {
            guard let value = input.connectorId else {
                validator.fail("connectorId", "is required: a connector number")
                return nil
            }
            if allowZero && value == 0 { return 0 }
            guard view.connectors.contains(where: { $0.connectorId == value }) else {
                validator.fail("connectorId", "station \(stationID) has no connector \(value)")
                return nil
            }
            return value
        }
        func required<T: RawRepresentable & CaseIterable>(_ raw: String?, as type: T.Type, field: String) -> T?
        where T.RawValue == String {
            guard let raw else {
                validator.fail(field, "must be one of \(T.allCases.map(\.rawValue).joined(separator: ", "))")
                return nil
            }
            return validator.parse(raw, as: type, field: field)
        }
        func refuseWhilePending() throws {
            if ocpp.registry.connection(stationID)?.registration == .pending || view.registration == .pending {
                throw APIError.conflict("station \(stationID) is pending registration; remote start and stop are refused")
            }
        }
        switch command {
        case "remote-start":
            let connectorID = connector()
            validator.check(input.idTag.map(IdTag.isValid) ?? false, "idTag", "is required: 1–20 printable ASCII characters")
            let profile = input.chargingProfile.flatMap { Self.remoteStartProfile($0, validator: &validator) }
            try validator.throwIfInvalid()
            try refuseWhilePending()
            return try await send(
                OCPP16.RemoteStartTransaction.self, .init(connectorId: connectorID!, idTag: input.idTag!, chargingProfile: profile),
                to: stationID)
        case "remote-stop":
            guard let sessionID = input.sessionId else { throw APIError.validation(field: "sessionId", "is required") }
            guard let session = try await sessions.session(sessionID), session.stationId == stationID, session.status == .active
            else { throw APIError.validation(field: "sessionId", "is not an active session at station \(stationID)") }
            try refuseWhilePending()
            return try await send(OCPP16.RemoteStopTransaction.self, .init(transactionId: session.transactionId), to: stationID)
        case "reset":
            let type = required(input.type, as: OCPP16.Reset.Request.RequestType.self, field: "type")
            try validator.throwIfInvalid()
            return try await send(OCPP16.Reset.self, .init(type: type!), to: stationID)
        case "unlock":
            let connectorID = connector()
            try validator.throwIfInvalid()
            return try await send(OCPP16.UnlockConnector.self, .init(connectorId: connectorID!), to: stationID)
        case "change-availability":
            let connectorID = connector(allowZero: true)
            let type = required(input.type, as: OCPP16.ChangeAvailability.Request.RequestType.self, field: "type")
            try validator.throwIfInvalid()
            return try await send(OCPP16.ChangeAvailability.self, .init(connectorId: connectorID!, type: type!), to: stationID)
        case "get-configuration":
            if let keys = input.keys {
                validator.check(keys.allSatisfy { (1...50).contains($0.count) }, "keys", "must be a list of configuration keys (1–50 characters)")
            }
            try validator.throwIfInvalid()
            return try await send(OCPP16.GetConfiguration.self, .init(key: input.keys), to: stationID)
        case "change-configuration":
            validator.check(input.key.map { (1...50).contains($0.count) } ?? false, "key", "is required: 1–50 characters")
            validator.check(input.value.map { $0.count <= 500 } ?? false, "value", "is required: at most 500 characters")
            try validator.throwIfInvalid()
            return try await send(OCPP16.ChangeConfiguration.self, .init(key: input.key!, value: input.value!), to: stationID)
        case "clear-cache":
            return try await send(OCPP16.ClearCache.self, .init(), to: stationID)
        case "extended-trigger-message":
            let message = required(
                input.message, as: OCPP16.ExtendedTriggerMessage.Request.MessageTriggerEnumType.self, field: "message")
            let connectorID = input.connectorId == nil ? nil : connector()
            try validator.throwIfInvalid()
            return try await send(
                OCPP16.ExtendedTriggerMessage.self, .init(requestedMessage: message!, connectorId: connectorID), to: stationID)
        case "get-local-list-version":
            return try await send(OCPP16.GetLocalListVersion.self, .init(), to: stationID)
        case "trigger-message":
            let message = required(input.message, as: OCPP16.TriggerMessage.Request.RequestedMessage.self, field: "message")
            let connectorID = input.connectorId == nil ? nil : connector()
            try validator.throwIfInvalid()
            return try await send(OCPP16.TriggerMessage.self, .init(requestedMessage: message!, connectorId: connectorID), to: stationID)
        default:
            throw APIError.notFound("no command \(command); commands: \(Self.commands.joined(separator: ", "))")
        }
    }
}
