import Foundation
import OCPP
import Storage

/// Where a charging profile is: sent and waiting, installed on the charger, or ended.
enum ChargingProfileStatus: String, Codable, Sendable, CaseIterable {
    case pending
    /// The charger accepted it.
    case active
    /// The charger answered Rejected or NotSupported (`chargerAnswer`).
    case rejected
    /// No answer, or a CALLERROR.
    case failed
    /// A later profile with the same id, or the same stack level and purpose, took its place.
    case replaced
    /// ClearChargingProfile removed it.
    case cleared
    /// A TxProfile whose transaction ended: the charger dropped it.
    case ended
}

/// Who set a profile.
enum ChargingProfileSource: String, Codable, Sendable {
    case `operator`
    case loadManagement = "load-management"
    /// The generic passthrough: we learn of it from the answer.
    case passthrough
}

/// One charging profile sent to a charger's connector (0: the whole charge point), with the
/// charger's answer. `profile` is the OCPP `csChargingProfiles` object as sent.
struct ChargingProfileRecord: TableRecord, Encodable {
    var id: String
    var version: Int64 = 0
    var stationId: String
    var connectorId: Int
    var chargingProfileId: Int
    var purpose: String
    var stackLevel: Int
    var transactionId: Int?
    var profile: OCPP16.SetChargingProfile.Request.CsChargingProfiles
    var status: ChargingProfileStatus
    var chargerAnswer: String?
    var source: ChargingProfileSource
    var createdAt: Date
    var updatedAt: Date
    var endedAt: Date?

    static let tableName = "charging_profiles"
    static let columns = [
        "station_id", "connector_id", "charging_profile_id", "purpose", "stack_level", "transaction_id", "profile", "status",
        "charger_answer", "source", "created_at", "updated_at", "ended_at",
    ]
    static let sortableColumns = ["created_at"]
    static let defaultSort = SortKey("created_at", descending: true)

    var columnValues: [SQLValue] {
        [
            .text(stationId), connectorId.sqlValue, chargingProfileId.sqlValue, .text(purpose), stackLevel.sqlValue,
            transactionId.sqlValue, .text(String(decoding: JSONWriter.bytes(profile.json), as: UTF8.self)),
            .text(status.rawValue), chargerAnswer.sqlValue, .text(source.rawValue), createdAt.sqlValue, updatedAt.sqlValue,
            endedAt.sqlValue,
        ]
    }

    init(
        stationId: String, connectorId: Int, profile: OCPP16.SetChargingProfile.Request.CsChargingProfiles,
        status: ChargingProfileStatus, source: ChargingProfileSource, now: Date
    ) {
        id = Identifiers.make()
        self.stationId = stationId
        self.connectorId = connectorId
        chargingProfileId = profile.chargingProfileId
        purpose = profile.chargingProfilePurpose.rawValue
        stackLevel = profile.stackLevel
        transactionId = profile.transactionId
        self.profile = profile
        self.status = status
        self.source = source
        createdAt = now
        updatedAt = now
    }

    init(row: Row) throws {
        id = try row.get("id")
        version = try row.get("version")
        stationId = try row.get("station_id")
        connectorId = try row.get("connector_id")
        chargingProfileId = try row.get("charging_profile_id")
        purpose = try row.get("purpose")
        stackLevel = try row.get("stack_level")
        transactionId = try row.get("transaction_id")
        let text: String = try row.get("profile")
        profile = try OCPP16.SetChargingProfile.Request.CsChargingProfiles(json: try JSONParser.parse(Array(text.utf8)))
        status = try row.decode("status")
        chargerAnswer = try row.get("charger_answer")
        source = try row.decode("source")
        createdAt = try row.get("created_at")
        updatedAt = try row.get("updated_at")
        endedAt = try row.get("ended_at")
    }

    private enum CodingKeys: String, CodingKey {
        case id, version, stationId, connectorId, chargingProfileId, purpose, stackLevel, transactionId, profile, status
        case chargerAnswer, source, createdAt, updatedAt, endedAt
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(version, forKey: .version)
        try container.encode(stationId, forKey: .stationId)
        try container.encode(connectorId, forKey: .connectorId)
        try container.encode(chargingProfileId, forKey: .chargingProfileId)
        try container.encode(purpose, forKey: .purpose)
        try container.encode(stackLevel, forKey: .stackLevel)
        try container.encodeIfPresent(transactionId, forKey: .transactionId)
        try container.encode(profile.json, forKey: .profile)
        try container.encode(status, forKey: .status)
        try container.encodeIfPresent(chargerAnswer, forKey: .chargerAnswer)
        try container.encode(source, forKey: .source)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encodeIfPresent(endedAt, forKey: .endedAt)
    }
}
