import Foundation
import OCPP

/// Smart Charging: checks a profile against OCPP's rules, stores it, and sends
/// SetChargingProfile, ClearChargingProfile and GetCompositeSchedule through `ChargePointCommands`,
/// whose effects keep the answers (so the passthrough's profiles are kept too).
struct ChargingProfileService: Sendable {
    let repository: ChargingProfileRepository
    let stations: StationRepository
    let sessions: SessionService
    let commands: ChargePointCommands
    let now: @Sendable () -> Date

    typealias Profile = OCPP16.SetChargingProfile.Request.CsChargingProfiles

    /// Sets `profile` (an OCPP `csChargingProfiles` object; without `chargingProfileId` the
    /// station's next one) on the connector. A TxProfile without `transactionId` gets the
    /// connector's active transaction.
    func set(stationID: String, connectorID: Int, profile json: JSONValue, source: ChargingProfileSource = .operator)
        async throws -> ChargingProfileRecord
    {
        guard let view = try await stations.get(stationID) else { throw ChargingProfileError.stationNotFound(stationID) }
        guard connectorID == 0 || view.connectors.contains(where: { $0.connectorId == connectorID }) else {
            throw ChargingProfileError.invalid([FieldError(field: "connectorId", message: "station \(stationID) has no connector \(connectorID)")])
        }
        guard case .object(var object) = json else {
            throw ChargingProfileError.invalid([FieldError(field: "chargingProfile", message: "must be an object")])
        }
        if object["chargingProfileId"] == nil {
            object["chargingProfileId"] = .int(try await repository.nextProfileID(stationID))
        }
        var profile: Profile
        do throws(OCPPValidationError) {
            profile = try Profile(json: .object(object))
        } catch {
            throw ChargingProfileError.invalid([
                FieldError(field: "chargingProfile" + (error.path.isEmpty ? "" : "." + error.path), message: error.reason)
            ])
        }
        if source != .loadManagement, profile.chargingProfileId >= ChargingProfileRepository.loadManagementIDs {
            throw ChargingProfileError.invalid([
                FieldError(
                    field: "chargingProfile.chargingProfileId",
                    message: "ids from \(ChargingProfileRepository.loadManagementIDs) are load management's")
            ])
        }
        let active = try await sessions.activeTransaction(stationID: stationID, connectorID: connectorID)
        let problems = ChargingProfileRules.problems(profile, connectorID: connectorID, activeTransaction: active)
        guard problems.isEmpty else { throw ChargingProfileError.invalid(problems) }
        if profile.chargingProfilePurpose == .txProfile, profile.transactionId == nil { profile.transactionId = active }
        return try await send(profile, stationID: stationID, connectorID: connectorID, source: source)
    }

    func isConnected(_ stationID: String) -> Bool { commands.connections.connection(stationID) != nil }

    /// Stores and sends an already checked profile; what load management uses.
    func send(_ profile: Profile, stationID: String, connectorID: Int, source: ChargingProfileSource) async throws
        -> ChargingProfileRecord
    {
        guard commands.connections.connection(stationID) != nil else { throw OutboundCallError.notConnected }
        let pending = try await repository.insertPending(
            ChargingProfileRecord(
                stationId: stationID, connectorId: connectorID, profile: profile, status: .pending, source: source, now: now()))
        do {
            _ = try await commands.send(
                OCPP16.SetChargingProfile.self, .init(connectorId: connectorID, csChargingProfiles: profile), to: stationID)
        } catch {
            try await repository.recordFailure(pending.id, reason: "\(error)", at: now())
            throw error
        }
        return try await repository.record(pending.id) ?? pending
    }

    struct Cleared: Encodable, Sendable {
        /// The charger's answer: Accepted, or Unknown when it had no matching profile.
        var status: String
        var cleared: [ChargingProfileRecord]
    }

    func clear(stationID: String, _ request: OCPP16.ClearChargingProfile.Request) async throws -> Cleared {
        guard try await stations.station(stationID) != nil else { throw ChargingProfileError.stationNotFound(stationID) }
        let before = Set(try await repository.list(stationID: stationID, status: .active).map(\.id))
        let response = try await commands.send(OCPP16.ClearChargingProfile.self, request, to: stationID)
        let cleared = try await repository.list(stationID: stationID, status: .cleared).filter { before.contains($0.id) }
        return Cleared(status: response.status.rawValue, cleared: cleared)
    }

    func compositeSchedule(stationID: String, connectorID: Int, duration: Int, unit: String?) async throws -> JSONValue {
        guard try await stations.station(stationID) != nil else { throw ChargingProfileError.stationNotFound(stationID) }
        var request = OCPP16.GetCompositeSchedule.Request(connectorId: connectorID, duration: duration)
        if let unit { request.chargingRateUnit = .init(rawValue: unit) }
        return try await commands.send(OCPP16.GetCompositeSchedule.self, request, to: stationID).json
    }
}
