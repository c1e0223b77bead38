import Foundation
import Logging
import OCPP
import Storage
import Synchronization

/// Site load management: when a session at a site with `maxPowerKw` starts, stops or suspends,
/// the site's power is shared again (`LoadAllocator`) and each connector whose share changed gets
/// a TxProfile with its new limit in W. Every managed charger also holds a TxDefaultProfile of
/// 0 W, so a session that starts draws nothing until it is given its share (within a second):
/// otherwise a new car would take its connector's full power on top of the site's allocation.
/// The price: while the server is unreachable, new sessions at a managed site do not charge
/// (sessions already charging keep their limits). Rebalancing a site runs one at a time; a change that
/// arrives meanwhile runs it once more after. A periodic pass also catches what no event tells
/// (a charger drawing more than it accepted, a station moved to a site).
///
/// Which stations are managed is cached here, per node, and refreshed by the periodic pass.
final class LoadManager: Sendable {
    let repository: LoadAllocationRepository
    let profiles: ChargingProfileService
    let settings: Settings
    let logger: Logger
    let now: @Sendable () -> Date

    struct Settings: Sendable {
        /// The least a car needs to keep charging: 6 A on three phases at 230 V by default.
        var minimumPowerW: Int = 4140
        /// The stack level of load management's TxProfiles.
        var stackLevel: Int = 50
        /// How long after a change the site is rebalanced, so a burst of changes costs one pass.
        var delay: Duration = .milliseconds(200)
    }

    private struct State {
        var managed: [String: String] = [:]
        var running: Set<String> = []
        var again: Set<String> = []
    }

    private let state = Mutex(State())

    init(
        repository: LoadAllocationRepository, profiles: ChargingProfileService, settings: Settings, logger: Logger,
        now: @escaping @Sendable () -> Date
    ) {
        self.repository = repository
        self.profiles = profiles
        self.settings = settings
        self.logger = logger
        self.now = now
    }

    /// A session started, stopped or changed status at `stationID`: its site, if managed, is
    /// rebalanced shortly.
    func stationChanged(_ stationID: String) {
        guard let site = state.withLock({ $0.managed[stationID] }) else { return }
        schedule(site)
    }

    /// Refreshes which stations are managed, gives each connected one the default profile (and
    /// takes it from stations no longer managed), and rebalances every managed site.
    func rebalanceAll() async throws {
        let managed = try await repository.managedStations()
        state.withLock { $0.managed = managed }
        try await placeDefaults(managed: managed)
        for site in Set(managed.values) { try await rebalance(site) }
    }

    /// The id of the 0 W TxDefaultProfile every managed charger holds on connector 0.
    static let defaultProfileID = ChargingProfileRepository.loadManagementIDs

    private func placeDefaults(managed: [String: String]) async throws {
        let holding = try await profiles.repository.stations(holdingActiveProfile: Self.defaultProfileID)
        // A charger that refused the default lately is not asked again every pass.
        let refused = try await profiles.repository.stations(
            refusedProfile: Self.defaultProfileID, since: now().addingTimeInterval(-600))
        for stationID in managed.keys.sorted()
        where !holding.contains(stationID) && !refused.contains(stationID) && profiles.isConnected(stationID) {
            do {
                _ = try await profiles.send(
                    .init(
                        chargingProfileId: Self.defaultProfileID, stackLevel: settings.stackLevel,
                        chargingProfilePurpose: .txDefaultProfile, chargingProfileKind: .relative,
                        chargingSchedule: .init(chargingRateUnit: .w, chargingSchedulePeriod: [.init(startPeriod: 0, limit: 0)])),
                    stationID: stationID, connectorID: 0, source: .loadManagement)
            } catch {
                logger.notice(
                    "a charger did not take load management's default profile",
                    metadata: ["chargePointId": .string(stationID), "error": .string("\(error)")])
            }
        }
        for stationID in holding.sorted() where managed[stationID] == nil && profiles.isConnected(stationID) {
            do {
                _ = try await profiles.clear(stationID: stationID, .init(id: Self.defaultProfileID))
            } catch {
                logger.notice(
                    "a charger kept load management's default profile",
                    metadata: ["chargePointId": .string(stationID), "error": .string("\(error)")])
            }
        }
    }

    private func schedule(_ site: String) {
        let start = state.withLock { state -> Bool in
            if state.running.contains(site) {
                state.again.insert(site)
                return false
            }
            state.running.insert(site)
            return true
        }
        guard start else { return }
        // A pass shares the site among everyone's sessions: it is the server's work, not the
        // person's whose request happened to start it, so it writes without their audit attribution.
        Task { [self] in
            await WriteAttribution.$current.withValue(nil) { await allocatePasses(site) }
        }
    }

    private func allocatePasses(_ site: String) async {
        try? await Task.sleep(for: settings.delay)
        while true {
            do {
                try await allocate(site)
            } catch {
                logger.warning("load management pass failed", metadata: ["siteId": .string(site), "error": .string("\(error)")])
            }
            let repeatPass = state.withLock { state -> Bool in
                if state.again.remove(site) != nil { return true }
                state.running.remove(site)
                return false
            }
            if !repeatPass { return }
        }
    }

    /// One pass for `site` now, waiting for it (the periodic pass and tests).
    func rebalance(_ site: String) async throws {
        let start = state.withLock { state -> Bool in
            guard !state.running.contains(site) else {
                state.again.insert(site)
                return false
            }
            state.running.insert(site)
            return true
        }
        guard start else { return }
        defer { state.withLock { _ = $0.running.remove(site) } }
        try await allocate(site)
        if state.withLock({ $0.again.remove(site) }) != nil { try await allocate(site) }
    }

    private func allocate(_ site: String) async throws {
        let (limitKw, sessions) = try await repository.charging(siteID: site)
        guard let limitKw else {
            try await repository.store(siteID: site, [])
            return
        }
        let demands = sessions.map { session in
            LoadAllocator.Demand(
                key: Self.key(session.stationID, session.connectorID), maximumW: session.connectorMaximumW,
                minimumW: settings.minimumPowerW, priority: session.priority,
                arrival: session.startedAt.timeIntervalSince1970, suspended: session.connectorStatus == "SuspendedEV",
                ignoringAtW: Self.ignoring(session))
        }
        let allocations = LoadAllocator.allocate(siteLimitW: Int((limitKw * 1000).rounded(.down)), demands)
        let at = now()
        let holdingDefault = try await profiles.repository.stations(holdingActiveProfile: Self.defaultProfileID)
        var stored: [ConnectorAllocation] = []
        var toSend: [(session: LoadAllocationRepository.Charging, limit: Int, change: Int)] = []
        for (session, allocation) in zip(sessions, allocations) {
            let previous = session.previous?.transactionId == session.transactionID ? session.previous : nil
            // A connector that ignores its limit is not sent another; the rest get theirs when it
            // changed. A limit sent and not accepted is sent again only when it changes or a minute
            // on (`updatedAt` is when it was last sent), so a charger that refuses profiles is not
            // asked every pass.
            let unanswered = previous.map { $0.acknowledgedLimitW != $0.limitW && $0.limitW == allocation.limitW } ?? false
            let retryDue = previous.map { at.timeIntervalSince($0.updatedAt) >= 60 } ?? true
            let send = allocation.state != .ignoring && previous?.acknowledgedLimitW != allocation.limitW && (!unanswered || retryDue)
            if send {
                // A session that accepted no limit yet draws nothing (the default profile) — or, on a
                // charger that does not hold the default, as much as its connector gives.
                let drawing = previous?.acknowledgedLimitW ?? (holdingDefault.contains(session.stationID) ? 0 : session.connectorMaximumW)
                toSend.append((session, allocation.limitW, allocation.limitW - drawing))
            }
            stored.append(
                ConnectorAllocation(
                    stationId: session.stationID, connectorId: session.connectorID, transactionId: session.transactionID,
                    limitW: allocation.state == .ignoring ? previous?.limitW ?? allocation.limitW : allocation.limitW,
                    acknowledgedLimitW: previous?.acknowledgedLimitW, state: allocation.state,
                    reportedPowerW: session.reportedPowerW, updatedAt: send ? at : previous?.updatedAt ?? at))
        }
        try await repository.store(siteID: site, stored)
        // Lowered limits first, so the site holds no more than its limit while they change; and no
        // raise once a lowering failed: the charger that kept its power would take the site over.
        toSend.sort { $0.change < $1.change }
        var loweringFailed = false
        for (session, limit, change) in toSend {
            if change > 0 && loweringFailed { break }
            do {
                let record = try await profiles.send(
                    profile(for: session, limitW: limit), stationID: session.stationID, connectorID: session.connectorID,
                    source: .loadManagement)
                if record.status == .active {
                    try await repository.acknowledge(
                        stationID: session.stationID, connectorID: session.connectorID, transactionID: session.transactionID,
                        limitW: limit)
                } else if change < 0 {
                    loweringFailed = true
                }
            } catch {
                if change < 0 { loweringFailed = true }
                logger.notice(
                    "a charger did not take its load limit",
                    metadata: [
                        "chargePointId": .string(session.stationID), "connectorId": .stringConvertible(session.connectorID),
                        "error": .string("\(error)"),
                    ])
            }
        }
    }

    /// A TxProfile holding the connector at `limitW` for the rest of its transaction.
    func profile(for session: LoadAllocationRepository.Charging, limitW: Int) -> ChargingProfileRules.Profile {
        .init(
            chargingProfileId: ChargingProfileRepository.loadManagementIDs + session.connectorID,
            transactionId: session.transactionID, stackLevel: settings.stackLevel, chargingProfilePurpose: .txProfile,
            chargingProfileKind: .relative,
            chargingSchedule: .init(chargingRateUnit: .w, chargingSchedulePeriod: [.init(startPeriod: 0, limit: Double(limitW))]))
    }

    /// The power a connector draws above the limit it accepted (with 10 % and 500 W of slack for
    /// meter lag), or nil when it keeps to it.
    static func ignoring(_ session: LoadAllocationRepository.Charging) -> Int? {
        guard let previous = session.previous, previous.transactionId == session.transactionID,
            let accepted = previous.acknowledgedLimitW, let reported = session.reportedPowerW,
            Double(reported) > Double(accepted) * 1.1 + 500
        else { return nil }
        return reported
    }

    static func key(_ stationID: String, _ connectorID: Int) -> String { "\(stationID)#\(connectorID)" }
}

/// Lets what a charger reports reach load management, which is built after the handlers.
final class LoadSignal: Sendable {
    private let manager = Mutex<LoadManager?>(nil)

    func connect(_ manager: LoadManager) {
        self.manager.withLock { $0 = manager }
    }

    func stationChanged(_ stationID: String) {
        manager.withLock { $0 }?.stationChanged(stationID)
    }
}
