import Foundation
import Storage

enum DriverStatus: String, Codable, Sendable, CaseIterable {
    case active, suspended, blocked
}

enum Membership: String, Codable, Sendable, CaseIterable {
    case basic, premium, enterprise
}

struct Vehicle: Codable, Sendable, Equatable {
    var make: String
    var model: String
    var batteryKwh: Double?
    var connectorTypes: [ConnectorType]?
}

struct Driver: TableRecord, Codable {
    var id: String
    var version: Int64 = 0
    var userId: String?
    var name: String
    var email: String
    var phone: String?
    var status: DriverStatus
    var membership: Membership
    var vehicles: [Vehicle]
    /// Who keeps charging when a site with load management runs short: higher first (default 0).
    var priority: Int = 0
    var createdAt: Date
    var updatedAt: Date

    static let tableName = "drivers"
    static let columns = [
        "user_id", "name", "email", "phone", "status", "membership", "vehicles", "created_at", "updated_at", "priority",
    ]
    static let sortableColumns = ["name", "email", "created_at"]
    static let defaultSort = SortKey("created_at")

    var columnValues: [SQLValue] {
        return [
            userId.sqlValue, .text(name), .text(email), phone.sqlValue, .text(status.rawValue),
            .text(membership.rawValue), .json(vehicles), createdAt.sqlValue, updatedAt.sqlValue,
            priority.sqlValue,
        ]
    }

    init(
        id: String, userId: String?, name: String, email: String, phone: String?, status: DriverStatus = .active,
        membership: Membership = .basic, vehicles: [Vehicle] = [], now: Date
    ) {
        self.id = id
        self.userId = userId
        self.name = name
        self.email = email
        self.phone = phone
        self.status = status
        self.membership = membership
        self.vehicles = vehicles
        self.createdAt = now
        self.updatedAt = now
    }

    init(row: Row) throws {
        id = try row.get("id")
        version = try row.get("version")
        userId = try row.get("user_id")
        name = try row.get("name")
        email = try row.get("email")
        phone = try row.get("phone")
        status = try row.decode("status")
        membership = try row.decode("membership")
        vehicles = try JSONDecoder().decode([Vehicle].self, from: Data(try row.get("vehicles", as: String.self).utf8))
        priority = try row.get("priority")
        createdAt = try row.get("created_at")
        updatedAt = try row.get("updated_at")
    }
}

enum IdTagStatus: String, Codable, Sendable, CaseIterable {
    case accepted = "Accepted"
    case blocked = "Blocked"
    case expired = "Expired"
    case invalid = "Invalid"
}

enum IdTagKind: String, Codable, Sendable {
    /// A card or key fob.
    case rfid
    /// The virtual tag the app starts charging with; one per driver.
    case app
}

/// An OCPP IdToken: 1–20 printable ASCII characters, matched case-insensitively.
struct IdTag: TableRecord, Codable {
    var id: String
    var version: Int64 = 0
    var status: IdTagStatus
    var kind: IdTagKind
    var driverId: String?
    var expiresAt: Date?
    var parentIdTag: String?
    var maxActiveTransactions: Int?
    var createdAt: Date
    var updatedAt: Date

    static let tableName = "id_tags"
    static let columns = [
        "status", "kind", "driver_id", "expires_at", "parent_id_tag", "max_active_transactions", "created_at",
        "updated_at",
    ]
    static let sortableColumns = ["created_at"]
    static let defaultSort = SortKey("id")

    var columnValues: [SQLValue] {
        [
            .text(status.rawValue), .text(kind.rawValue), driverId.sqlValue, expiresAt.sqlValue, parentIdTag.sqlValue,
            maxActiveTransactions.sqlValue, createdAt.sqlValue, updatedAt.sqlValue,
        ]
    }

    init(
        id: String, status: IdTagStatus, kind: IdTagKind, driverId: String?, expiresAt: Date? = nil,
        parentIdTag: String? = nil, maxActiveTransactions: Int? = nil, now: Date
    ) {
        self.id = id
        self.status = status
        self.kind = kind
        self.driverId = driverId
        self.expiresAt = expiresAt
        self.parentIdTag = parentIdTag
        self.maxActiveTransactions = maxActiveTransactions
        self.createdAt = now
        self.updatedAt = now
    }

    init(row: Row) throws {
        id = try row.get("id")
        version = try row.get("version")
        status = try row.decode("status")
        kind = try row.decode("kind")
        driverId = try row.get("driver_id")
        expiresAt = try row.get("expires_at")
        parentIdTag = try row.get("parent_id_tag")
        maxActiveTransactions = try row.get("max_active_transactions")
        createdAt = try row.get("created_at")
        updatedAt = try row.get("updated_at")
    }

    static func isValid(_ tag: String) -> Bool {
        (1...20).contains(tag.utf8.count) && tag.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
    }

    /// A new app token: "APP" and 17 random letters and digits, 20 characters as OCPP allows.
    static func makeAppToken() -> String {
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return "APP" + String((0..<17).map { _ in alphabet.randomElement(using: &generator)! })
    }
}
