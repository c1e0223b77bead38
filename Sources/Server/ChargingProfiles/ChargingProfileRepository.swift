import Foundation
import OCPP
import Storage

/// The charging profiles sent to chargers, moved by the chargers' answers — whoever sent them.
struct ChargingProfileRepository: Sendable {
    let database: Database

    /// Ids from here up are load management's own (one per connector); an operator's count from 1.
    static let loadManagementIDs = 900_000

    func list(stationID: String, status: ChargingProfileStatus?, limit: Int = 200) async throws -> [ChargingProfileRecord] {
        try await database.read { connection in
            if let status {
                return try connection.query(
                    "SELECT * FROM charging_profiles WHERE station_id = ? AND status = ? ORDER BY created_at DESC, id LIMIT ?",
                    stationID, status.rawValue, limit, map: ChargingProfileRecord.init(row:))
            }
            return try connection.query(
                "SELECT * FROM charging_profiles WHERE station_id = ? ORDER BY created_at DESC, id LIMIT ?", stationID, limit,
                map: ChargingProfileRecord.init(row:))
        }
    }

    func record(_ id: String) async throws -> ChargingProfileRecord? {
        try await database.read { try TableStore<ChargingProfileRecord>.fetch(id, from: $0) }
    }

    /// The stations where the profile with `profileID` is active.
    func stations(holdingActiveProfile profileID: Int) async throws -> Set<String> {
        try await database.read { connection in
            Set(
                try connection.query(
                    "SELECT DISTINCT station_id FROM charging_profiles WHERE charging_profile_id = ? AND status = 'active'", profileID
                ) { try $0.get(0, as: String.self) })
        }
    }

    /// The stations that refused, or never answered, the profile with `profileID` since `since`.
    func stations(refusedProfile profileID: Int, since: Date) async throws -> Set<String> {
        try await database.read { connection in
            Set(
                try connection.query(
                    """
                    SELECT DISTINCT station_id FROM charging_profiles
                    WHERE charging_profile_id = ? AND status IN ('rejected', 'failed') AND updated_at >= ?
                    """, profileID, since
                ) { try $0.get(0, as: String.self) })
        }
    }

    /// The station's next operator profile id.
    func nextProfileID(_ stationID: String) async throws -> Int {
        let next = try await database.read { connection in
            try connection.queryFirst(
                "SELECT coalesce(max(charging_profile_id), 0) + 1 FROM charging_profiles WHERE station_id = ? AND charging_profile_id < ?",
                stationID, Self.loadManagementIDs
            ) { try $0.get(0, as: Int.self) } ?? 1
        }
        guard next < Self.loadManagementIDs else { throw ChargingProfileError.idsExhausted(stationID) }
        return next
    }

    func insertPending(_ record: ChargingProfileRecord) async throws -> ChargingProfileRecord {
        try await database.write { try TableStore<ChargingProfileRecord>.insert(record, into: $0) }
    }

    /// The charger's answer to a SetChargingProfile. Accepted: the profile is active and replaces
    /// the charger's profile with the same id, or with the same stack level and purpose on that
    /// connector (as OCPP says the charger does). A profile we did not store first (the
    /// passthrough) is stored from the request.
    func recordSetAnswer(
        stationID: String, connectorID: Int, profile: OCPP16.SetChargingProfile.Request.CsChargingProfiles, answer: String,
        at: Date
    ) async throws {
        let status: ChargingProfileStatus = answer == "Accepted" ? .active : .rejected
        try await database.write { connection in
            let pending = try connection.queryFirst(
                """
                SELECT * FROM charging_profiles
                WHERE station_id = ? AND connector_id = ? AND charging_profile_id = ? AND status = 'pending'
                ORDER BY created_at DESC LIMIT 1
                """, stationID, connectorID, profile.chargingProfileId, map: ChargingProfileRecord.init(row:))
            if status == .active {
                try connection.run(
                    """
                    UPDATE charging_profiles SET status = 'replaced', updated_at = ?, ended_at = ?, version = version + 1
                    WHERE station_id = ? AND status = 'active' AND (charging_profile_id = ?
                        OR (connector_id = ? AND stack_level = ? AND purpose = ?))
                    """, at, at, stationID, profile.chargingProfileId, connectorID, profile.stackLevel,
                    profile.chargingProfilePurpose.rawValue)
            }
            var record =
                pending
                ?? ChargingProfileRecord(
                    stationId: stationID, connectorId: connectorID, profile: profile, status: .pending, source: .passthrough, now: at)
            record.status = status
            record.chargerAnswer = answer
            record.updatedAt = at
            if status != .active { record.endedAt = at }
            if let pending {
                _ = try TableStore<ChargingProfileRecord>.update(record, expectedVersion: pending.version, in: connection)
            } else {
                _ = try TableStore<ChargingProfileRecord>.insert(record, into: connection)
            }
        }
    }

    /// A profile we stored that never reached the charger or got no answer.
    func recordFailure(_ id: String, reason: String, at: Date) async throws {
        try await database.write { connection in
            try connection.run(
                """
                UPDATE charging_profiles SET status = 'failed', charger_answer = ?, updated_at = ?, ended_at = ?,
                    version = version + 1
                WHERE id = ? AND status = 'pending'
                """, reason, at, at, id)
        }
    }

    /// The charger cleared what ClearChargingProfile named: the profile with `id`, or else every
    /// active one matching the given connector, purpose and stack level (all of them when none is
    /// given). Returns the cleared ones.
    func recordClear(stationID: String, _ request: OCPP16.ClearChargingProfile.Request, at: Date) async throws
        -> [ChargingProfileRecord]
    {
        var clause = "station_id = ? AND status = 'active'"
        var bindings: [SQLValue] = [.text(stationID)]
        if let id = request.id {
            clause += " AND charging_profile_id = ?"
            bindings.append(.integer(Int64(id)))
        } else {
            if let connector = request.connectorId {
                clause += " AND connector_id = ?"
                bindings.append(.integer(Int64(connector)))
            }
            if let purpose = request.chargingProfilePurpose {
                clause += " AND purpose = ?"
                bindings.append(.text(purpose.rawValue))
            }
            if let stackLevel = request.stackLevel {
                clause += " AND stack_level = ?"
                bindings.append(.integer(Int64(stackLevel)))
            }
        }
        let condition = clause
        let values = bindings
        return try await database.write { connection in
            let cleared = try connection.query(
                "SELECT * FROM charging_profiles WHERE \(condition)", bindings: values, map: ChargingProfileRecord.init(row:))
            return try cleared.map { found in
                var record = found
                record.status = .cleared
                record.updatedAt = at
                record.endedAt = at
                return try TableStore<ChargingProfileRecord>.update(record, expectedVersion: found.version, in: connection)
            }
        }
    }

}
