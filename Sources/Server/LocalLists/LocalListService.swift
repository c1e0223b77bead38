import Foundation
import Logging
import OCPP

/// Sends stations their local authorization list — full, or only what changed since the version
/// the charger accepted — through `ChargePointCommands`, whose effects keep the answer (so the
/// passthrough's SendLocalList and GetLocalListVersion count as well). Lists a tag change made
/// stale are brought up to date by `syncStale`.
struct LocalListService: Sendable {
    let repository: LocalListRepository
    let stations: StationRepository
    let commands: ChargePointCommands
    let logger: Logger
    let now: @Sendable () -> Date

    static let defaultMaximumEntries = 10_000

    /// What one update sent.
    struct Sent: Codable, Sendable, Equatable {
        var updateType: LocalListUpdateType
        var listVersion: Int
        var entries: Int
        /// The charger's answer.
        var status: String
    }

    struct Outcome: Codable, Sendable {
        var state: LocalListState?
        /// Nil when a differential update found nothing to send.
        var sent: Sent?
    }

    /// A differential update needs a version the charger accepted (and no mismatch since); without
    /// one it is sent as a full update.
    /// `desired` saves reading every card again when the caller already did (the sync, per pass).
    func send(_ stationID: String, type: LocalListUpdateType, desired known: [LocalListEntry]? = nil) async throws -> Outcome {
        guard let station = try await stations.station(stationID) else { throw LocalListError.stationNotFound(stationID) }
        let state = try await repository.state(stationID)
        let desired = if let known { known } else { try await repository.desiredEntries() }
        let differential = type == .differential && state?.confirmedVersion != nil && state?.needsFull == false
        let changes =
            differential
            ? LocalListDiff.changes(from: try await repository.confirmedEntries(stationID), to: desired)
            : desired.map { LocalListChange(idTag: $0.idTag, entry: $0) }
        if differential && changes.isEmpty {
            if state?.stale == true { try await repository.clearStale(stationID) }
            return Outcome(state: try await repository.state(stationID), sent: nil)
        }
        // Without the charger's own maximum, a bound that keeps one frame well inside what chargers read.
        let maximum = station.configuration?["SendLocalListMaxLength"].flatMap(Int.init) ?? Self.defaultMaximumEntries
        if changes.count > maximum {
            throw LocalListError.tooManyEntries(count: changes.count, maximum: maximum)
        }
        guard commands.connections.connection(stationID) != nil else { throw OutboundCallError.notConnected }
        let version = try await repository.nextVersion(stationID, at: now())
        let updateType: LocalListUpdateType = differential ? .differential : .full
        let response = try await commands.send(
            OCPP16.SendLocalList.self,
            .init(
                listVersion: version, localAuthorizationList: changes.map(Self.item),
                updateType: updateType == .full ? .full : .differential),
            to: stationID)
        return Outcome(
            state: try await repository.state(stationID),
            sent: Sent(updateType: updateType, listVersion: version, entries: changes.count, status: response.status.rawValue))
    }

    /// Sends a differential update to each connected station whose list a tag change made stale.
    /// A station that is offline keeps its mark until it is back.
    func syncStale() async throws {
        let connected = try await repository.staleStations().filter { commands.connections.connection($0) != nil }
        guard !connected.isEmpty else { return }
        // The cards are read once for the whole pass, not once per station.
        let desired = try await repository.desiredEntries()
        for stationID in connected {
            do {
                _ = try await send(stationID, type: .differential, desired: desired)
            } catch {
                logger.notice(
                    "local list update failed", metadata: ["chargePointId": .string(stationID), "error": .string("\(error)")])
            }
        }
    }

    static func item(_ change: LocalListChange) -> OCPP16.SendLocalList.Request.LocalAuthorizationList {
        .init(
            idTag: change.idTag,
            idTagInfo: change.entry.map { entry in
                .init(
                    expiryDate: entry.expiryDate.map(OCPPDateTime.init), parentIdTag: entry.parentIdTag,
                    status: .init(rawValue: entry.status) ?? .invalid)
            })
    }

    /// A SendLocalList request as the changes it makes.
    static func changes(of request: OCPP16.SendLocalList.Request) -> (LocalListUpdateType, [LocalListChange]) {
        let type: LocalListUpdateType = request.updateType == .full ? .full : .differential
        let changes = (request.localAuthorizationList ?? []).compactMap { item -> LocalListChange? in
            guard let info = item.idTagInfo else {
                // A full list holds entries only; without idTagInfo a differential item removes the tag.
                return type == .full ? nil : LocalListChange(idTag: item.idTag, entry: nil)
            }
            return LocalListChange(
                idTag: item.idTag,
                entry: LocalListEntry(
                    idTag: item.idTag, status: info.status.rawValue, expiryDate: info.expiryDate?.date, parentIdTag: info.parentIdTag))
        }
        return (type, changes)
    }
}
