import Foundation

/// One id tag as a charger's local authorization list holds it.
struct LocalListEntry: Codable, Sendable, Equatable {
    var idTag: String
    /// An OCPP AuthorizationStatus: Accepted, Blocked, Expired or Invalid.
    var status: String
    var expiryDate: Date?
    var parentIdTag: String?

    /// Tags are matched case-insensitively, as OCPP id tags are.
    var key: String { idTag.uppercased() }
}

/// One change of a differential update: the entry to add or replace, or nil to remove the tag.
struct LocalListChange: Sendable, Equatable {
    var idTag: String
    var entry: LocalListEntry?
}

enum LocalListUpdateType: String, Codable, Sendable, CaseIterable {
    case full, differential
}

/// What we know of a station's local list.
struct LocalListState: Codable, Sendable, Equatable {
    var stationId: String
    /// The last version we sent (accepted or not).
    var version: Int
    /// The last version the charger accepted; the entries we hold for it are its content.
    var confirmedVersion: Int?
    /// What the charger last answered to GetLocalListVersion.
    var chargerVersion: Int?
    /// The charger's answer to our last SendLocalList: Accepted, Failed, NotSupported, VersionMismatch.
    var lastStatus: String?
    var lastUpdateType: LocalListUpdateType?
    var lastSentAt: Date?
    /// A tag changed since the confirmed version: a differential update is due.
    var stale: Bool
    /// The charger reported a version mismatch: the next update is a full one.
    var needsFull: Bool
    /// How many entries the confirmed version holds.
    var entries: Int
    var updatedAt: Date
}

enum LocalListDiff {
    /// The changes that turn `current` (what the charger holds) into `desired`: changed and new
    /// entries, and removals (nil entries) for tags no longer desired; in tag order.
    static func changes(from current: [LocalListEntry], to desired: [LocalListEntry]) -> [LocalListChange] {
        let held = Dictionary(current.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        let wanted = Dictionary(desired.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        var changes: [LocalListChange] = []
        for entry in desired where held[entry.key] != entry {
            changes.append(LocalListChange(idTag: entry.idTag, entry: entry))
        }
        for entry in current where wanted[entry.key] == nil {
            changes.append(LocalListChange(idTag: entry.idTag, entry: nil))
        }
        return changes.sorted { $0.idTag.uppercased() < $1.idTag.uppercased() }
    }

    /// `current` with `changes` applied (a differential update the charger accepted).
    static func applying(_ changes: [LocalListChange], to current: [LocalListEntry]) -> [LocalListEntry] {
        var byKey = Dictionary(current.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        for change in changes {
            byKey[change.idTag.uppercased()] = change.entry
        }
        return byKey.values.sorted { $0.key < $1.key }
    }
}
