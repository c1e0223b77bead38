import Foundation
import Logging
import OCPP
import X509

/// A command the operator's input does not allow, found before anything is sent.
enum CommandError: DomainError {
    case unknownAction(String)
    /// The passthrough payload breaks the action's request schema.
    case invalidPayload(OCPPValidationError)
    case invalid([FieldError])

    var kind: DomainErrorKind {
        switch self {
        case .unknownAction: .notFound
        case .invalidPayload, .invalid: .invalid
        }
    }

    var fields: [FieldError] {
        switch self {
        case .unknownAction: []
        case .invalidPayload(let error): [FieldError(field: error.path.isEmpty ? "payload" : error.path, message: "\(error.code.rawValue): \(error.reason)")]
        case .invalid(let fields): fields
        }
    }

    var description: String {
        switch self {
        case .unknownAction(let action): "\(action) is not an OCPP 1.6 action a central system sends"
        case .invalidPayload(let error): "the payload breaks the OCPP schema: \(error.description)"
        case .invalid(let fields): fields.map { "\($0.field): \($0.message)" }.joined(separator: "; ")
        }
    }
}

/// Every CALL we make to a charge point goes through here — the typed REST commands, the generic
/// passthrough and the server's own callers — so what follows from an answer (a new charger
/// password, availability, kept configuration) happens whichever path asked.
struct ChargePointCommands: Sendable {
    let connections: ChargePointRegistry
    let stations: StationRepository
    let reservations: ReservationRepository
    let localLists: LocalListRepository
    let chargingProfiles: ChargingProfileRepository
    let jobs: StationJobRepository
    let certificates: CertificateRepository
    let monitoring: MonitoringService
    /// Records the commands a person sends (under their request's attribution; the server's own
    /// commands carry none and are not recorded).
    let audit: AuditRepository
    let metrics: OCPPMetrics
    let logger: Logger
    let now: @Sendable () -> Date

    /// The actions an operator may send as they are, by name.
    static let passthroughActions: [String: any OCPPAction.Type] = Dictionary(
        uniqueKeysWithValues: OCPP16.allActions.filter { $0.initiator != .chargePoint }.map { ($0.name, $0) })

    /// Sends `request` to the station's live connection and applies what its answer means.
    func send<Action: OCPPAction>(_ action: Action.Type, _ request: Action.Request, to stationID: String) async throws
        -> Action.Response
    {
        try check(action, request)
        guard let connection = connections.connection(stationID) else { throw OutboundCallError.notConnected }
        metrics.message(direction: "out", action: Action.name, result: "sent")
        metrics.queueDepth.increment()
        defer { metrics.queueDepth.decrement() }
        let response: Action.Response
        do {
            response = try await connection.call(action, request)
        } catch let error as OutboundCallError {
            let sent: Bool =
                switch error {
                case .queueFull, .invalidRequest: false
                default: true
                }
            // A command that went out is recorded even when it failed; the failure is the outcome.
            if sent {
                try? await recordCommand(Action.self, request, stationID: stationID, outcome: .object(JSONObject([("error", .string("\(error)"))])))
            }
            switch error {
            case .invalidResponse(_, let violation):
                metrics.invalidFrame("charger_response")
                logger.notice(
                    "a charge point's answer breaks its schema",
                    metadata: ["chargePointId": .string(stationID), "action": .string(Action.name), "error": .string(violation.description)])
            case .invalidRequest(_, let violation):
                metrics.invalidFrame("our_request")
                logger.error(
                    "we built a request that breaks its schema; not sent",
                    metadata: ["action": .string(Action.name), "error": .string(violation.description)])
            default: break
            }
            throw error
        }
        try await recordCommand(Action.self, request, stationID: stationID, outcome: .object(JSONObject([("response", response.json)])))
        try await applyEffects(of: request, response, stationID: stationID)
        return response
    }

    /// The audit entry of a command: its request and the charger's answer or the failure, without
    /// secrets (an AuthorizationKey, URL passwords, upload tokens, private keys).
    private func recordCommand<Action: OCPPAction>(
        _ action: Action.Type, _ request: Action.Request, stationID: String, outcome: JSONValue
    ) async throws {
        try await audit.recordCommand(
            action: Action.name, stationID: stationID, request: OCPPSecretRedaction.redacted(request.json),
            outcome: OCPPSecretRedaction.redacted(outcome))
    }

    /// The passthrough: the operator's JSON decoded into the action's typed request (so it gets
    /// the same checks and effects as a typed command), the answer as JSON.
    func passthrough(_ name: String, payload: JSONValue, to stationID: String) async throws -> JSONValue {
        guard let action = Self.passthroughActions[name] else { throw CommandError.unknownAction(name) }
        return try await passthrough(action, payload: payload, to: stationID)
    }

    private func passthrough<Action: OCPPAction>(_ action: Action.Type, payload: JSONValue, to stationID: String) async throws
        -> JSONValue
    {
        let request: Action.Request
        do throws(OCPPValidationError) {
            request = try Action.Request(json: payload)
        } catch {
            throw CommandError.invalidPayload(error)
        }
        if let set = request as? OCPP16.SetChargingProfile.Request,
            set.csChargingProfiles.chargingProfileId >= ChargingProfileRepository.loadManagementIDs
        {
            throw CommandError.invalid([
                FieldError(
                    field: "csChargingProfiles.chargingProfileId",
                    message: "ids from \(ChargingProfileRepository.loadManagementIDs) are load management's")
            ])
        }
        return try await send(action, request, to: stationID).json
    }

    struct Rotation: Codable, Sendable {
        /// The charger's answer to ChangeConfiguration.
        var status: String
        /// Whether the stored password is now the new key. The old one is refused from now on, except
        /// after RebootRequired: then until the charger first connects with the new one.
        var rotated: Bool
    }

    /// A new random AuthorizationKey (20 bytes as 40 hexadecimal characters) sent with
    /// ChangeConfiguration; the stored password switches only when the charger accepts (the
    /// effect below). The key is never returned or stored in the clear.
    func rotateAuthorizationKey(of stationID: String) async throws -> Rotation {
        var generator = SystemRandomNumberGenerator()
        let key = (0..<20).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        let response = try await send(OCPP16.ChangeConfiguration.self, .init(key: "AuthorizationKey", value: key), to: stationID)
        return Rotation(
            status: response.status.rawValue, rotated: response.status == .accepted || response.status == .rebootRequired)
    }

    // MARK: Rules and effects per action

    /// Rules beyond the schema that hold on every path.
    private func check<Action: OCPPAction>(_ action: Action.Type, _ request: Action.Request) throws {
        if let change = request as? OCPP16.ChangeConfiguration.Request, Self.isAuthorizationKey(change.key) {
            // The charger would be locked out with a key we cannot also store.
            guard ChargePointPassword.allowedLength.contains(change.value.count) else {
                throw CommandError.invalid([FieldError(field: "value", message: "an AuthorizationKey must be 16–40 characters")])
            }
        }
    }

    private func applyEffects<Request: Sendable, Response: Sendable>(
        of request: Request, _ response: Response, stationID: String
    ) async throws {
        switch (request, response) {
        case (let request as OCPP16.ChangeConfiguration.Request, let response as OCPP16.ChangeConfiguration.Response):
            guard response.status == .accepted || response.status == .rebootRequired else { return }
            if Self.isAuthorizationKey(request.key) {
                // Stored before the caller hears back, so the charger's reconnect with the new key succeeds.
                // A charger that applies it only at its reboot may reconnect before that with the key it
                // has: that one stays valid too (over a second rotation before the reboot as well).
                let hash = ChargePointPassword.hash(request.value)
                let appliedAtReboot = response.status == .rebootRequired
                _ = try await stations.update(stationID, expectedVersion: nil, now: now()) { station in
                    station.previousPasswordHash = appliedAtReboot ? (station.previousPasswordHash ?? station.passwordHash) : nil
                    station.passwordHash = hash
                }
            }
            try await keepConfiguration(stationID, [(request.key, request.value)])
        case (let request as OCPP16.ChangeAvailability.Request, let response as OCPP16.ChangeAvailability.Response):
            guard response.status == .accepted || response.status == .scheduled else { return }
            try await recordAvailability(stationID, connectorID: request.connectorId, operative: request.type == .operative)
        case (let request as OCPP16.ReserveNow.Request, let response as OCPP16.ReserveNow.Response):
            try await reservations.recordAnswer(
                stationID: stationID, reservationID: request.reservationId, connectorID: request.connectorId, idTag: request.idTag,
                parentIdTag: request.parentIdTag, expiresAt: request.expiryDate.date, answer: response.status.rawValue, at: now())
        case (let request as OCPP16.CancelReservation.Request, let response as OCPP16.CancelReservation.Response):
            try await reservations.recordCancel(
                stationID: stationID, reservationID: request.reservationId, answer: response.status.rawValue, at: now())
        case (let request as OCPP16.SetChargingProfile.Request, let response as OCPP16.SetChargingProfile.Response):
            try await chargingProfiles.recordSetAnswer(
                stationID: stationID, connectorID: request.connectorId, profile: request.csChargingProfiles,
                answer: response.status.rawValue, at: now())
        case (let request as OCPP16.ClearChargingProfile.Request, let response as OCPP16.ClearChargingProfile.Response):
            guard response.status == .accepted else { return }
            _ = try await chargingProfiles.recordClear(stationID: stationID, request, at: now())
        case (let request as OCPP16.UpdateFirmware.Request, _ as OCPP16.UpdateFirmware.Response):
            try await jobs.recordAnswer(
                stationID: stationID, kind: .firmware, location: request.location, requestID: nil, answer: nil, fileName: nil, at: now())
        case (let request as OCPP16.SignedUpdateFirmware.Request, let response as OCPP16.SignedUpdateFirmware.Response):
            try await jobs.recordAnswer(
                stationID: stationID, kind: .signedFirmware, location: request.firmware.location, requestID: request.requestId,
                answer: response.status.rawValue, fileName: nil, at: now())
        case (let request as OCPP16.GetDiagnostics.Request, let response as OCPP16.GetDiagnostics.Response):
            try await jobs.recordAnswer(
                stationID: stationID, kind: .diagnostics, location: Self.storedLocation(request.location), requestID: nil,
                answer: nil, fileName: response.fileName, at: now())
        case (let request as OCPP16.GetLog.Request, let response as OCPP16.GetLog.Response):
            try await jobs.recordAnswer(
                stationID: stationID, kind: .log, location: Self.storedLocation(request.log.remoteLocation),
                requestID: request.requestId, answer: response.status.rawValue, fileName: response.filename, at: now())
        case (let request as OCPP16.CertificateSigned.Request, let response as OCPP16.CertificateSigned.Response):
            guard let leaf = Self.firstCertificatePEM(request.certificateChain) else { return }
            try await certificates.recordAnswer(stationID: stationID, pem: leaf, accepted: response.status == .accepted, at: now())
        case (let request as OCPP16.InstallCertificate.Request, let response as OCPP16.InstallCertificate.Response):
            guard let pem = Self.firstCertificatePEM(request.certificate) else { return }
            try await certificates.recordAnswer(stationID: stationID, pem: pem, accepted: response.status == .accepted, at: now())
        case (let request as OCPP16.DeleteCertificate.Request, let response as OCPP16.DeleteCertificate.Response):
            guard response.status == .accepted else { return }
            try await certificates.recordDeleted(stationID: stationID, serialNumber: request.certificateHashData.serialNumber, at: now())
        case (let request as OCPP16.GetInstalledCertificateIds.Request, let response as OCPP16.GetInstalledCertificateIds.Response):
            try await certificates.recordInstalledIDs(
                stationID: stationID, certificateType: request.certificateType.rawValue,
                response.status == .accepted ? response.certificateHashData ?? [] : [], at: now())
        case (let request as OCPP16.SendLocalList.Request, let response as OCPP16.SendLocalList.Response):
            let (updateType, changes) = LocalListService.changes(of: request)
            try await localLists.recordAnswer(
                stationID: stationID, listVersion: request.listVersion, updateType: updateType, changes: changes,
                status: response.status.rawValue, at: now())
        case (_ as OCPP16.GetLocalListVersion.Request, let response as OCPP16.GetLocalListVersion.Response):
            try await localLists.recordChargerVersion(stationID: stationID, version: response.listVersion, at: now())
        case (_ as OCPP16.GetConfiguration.Request, let response as OCPP16.GetConfiguration.Response):
            try await keepConfiguration(stationID, (response.configurationKey ?? []).map { ($0.key, $0.value ?? "") })
        default:
            break
        }
    }

    /// The first certificate of a PEM chain, as stored (re-encoded, so whitespace does not matter).
    static func firstCertificatePEM(_ chain: String) -> String? {
        guard let end = chain.range(of: "-----END CERTIFICATE-----") else { return nil }
        return try? Certificate(pemEncoded: String(chain[..<end.upperBound])).serializeAsPEM().pemString
    }

    /// An upload location as jobs keep it: without our upload URL's token.
    static func storedLocation(_ location: String) -> String {
        OCPPSecretRedaction.urlWithoutUploadToken(location) ?? location
    }

    static func isAuthorizationKey(_ key: String) -> Bool {
        key.caseInsensitiveCompare("AuthorizationKey") == .orderedSame
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
        let history = ConnectorStatusHistory(recorder: monitoring) { before, _ in
            guard before.status != .unavailable else { return nil }
            return ConnectorStatusChange(
                stationID: stationID, connectorID: connectorID, previous: before.status, current: .unavailable,
                errorCode: nil, info: "ChangeAvailability Inoperative", vendorErrorCode: nil, at: at, source: .api)
        }
        do {
            _ = try await stations.updateConnector(connectorID, of: stationID, now: at, history: history) { $0.status = .unavailable }
        } catch StationError.connectorNotFound {
            // The charger knows a connector the station record does not list; nothing to mark.
        }
    }

    /// Keeps the charger's configuration values; a secret is kept only as "set".
    private func keepConfiguration(_ stationID: String, _ entries: [(key: String, value: String)]) async throws {
        guard !entries.isEmpty else { return }
        var values: [String: String] = [:]
        for (key, value) in entries {
            values[key] = OCPPSecretRedaction.isSecretKey(key) ? OCPPSecretRedaction.placeholder : value
        }
        let update = values
        _ = try await stations.update(stationID, expectedVersion: nil, now: now()) { station in
            station.configuration = (station.configuration ?? [:]).merging(update) { $1 }
        }
    }
}
