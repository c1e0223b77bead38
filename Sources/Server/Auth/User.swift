import Foundation
import Storage

enum UserStatus: String, Codable, Sendable, CaseIterable {
    case active, disabled
}

struct User: TableRecord {
    var id: String
    var version: Int64 = 0
    var email: String
    var name: String
    var role: Role
    var status: UserStatus
    var passwordHash: String
    var tokensValidAfter: Date
    var createdAt: Date
    var updatedAt: Date

    static let tableName = "users"
    static let columns = [
        "email", "name", "role", "status", "password_hash", "tokens_valid_after", "created_at", "updated_at",
    ]
    static let sortableColumns = ["email", "created_at"]
    static let defaultSort = SortKey("created_at")

    var columnValues: [SQLValue] {
        [
            .text(email), .text(name), .text(role.rawValue), .text(status.rawValue), .text(passwordHash),
            tokensValidAfter.sqlValue, createdAt.sqlValue, updatedAt.sqlValue,
        ]
    }

    init(id: String, email: String, name: String, role: Role, passwordHash: String, now: Date) {
        self.id = id
        self.email = email
        self.name = name
        self.role = role
        self.status = .active
        self.passwordHash = passwordHash
        self.tokensValidAfter = Date(timeIntervalSince1970: 0)
        self.createdAt = now
        self.updatedAt = now
    }

    init(row: Row) throws {
        id = try row.get("id")
        version = try row.get("version")
        email = try row.get("email")
        name = try row.get("name")
        role = try row.decode("role")
        status = try row.decode("status")
        passwordHash = try row.get("password_hash")
        tokensValidAfter = try row.get("tokens_valid_after")
        createdAt = try row.get("created_at")
        updatedAt = try row.get("updated_at")
    }
}

/// A user as the API shows it: never the password hash.
struct UserView: Codable, Sendable {
    var id: String
    var email: String
    var name: String
    var role: Role
    var status: UserStatus
    var version: Int64
    var createdAt: Date
    var updatedAt: Date
    var driverId: String?

    init(_ user: User, driverID: String? = nil) {
        id = user.id
        email = user.email
        name = user.name
        role = user.role
        status = user.status
        version = user.version
        createdAt = user.createdAt
        updatedAt = user.updatedAt
        driverId = driverID
    }
}

extension Row {
    /// A column holding an enum's raw value; an unknown value is a decoding error, not a crash.
    func decode<T: RawRepresentable>(_ column: String, as type: T.Type = T.self) throws -> T where T.RawValue == String {
        let raw: String = try get(column)
        guard let value = T(rawValue: raw) else {
            throw RowDecodingError(column: column, expectedType: "\(T.self)", sql: "value '\(raw)'")
        }
        return value
    }
}

enum Identifiers {
    /// A new id: a time-ordered UUID (version 7, RFC 9562), lowercased. Ids made close together
    /// sort together, so rows created together — a fleet's open sessions — share B-tree pages in
    /// every index keyed by id: each MeterValues' sample row lands next to the others instead of
    /// on a random page of its own, which would be one more page written per message.
    static func make(at date: Date = Date()) -> String {
        var generator = SystemRandomNumberGenerator()
        // 48 bits of milliseconds reach the year 10889; a clock outside them is clamped, not a trap.
        let milliseconds = UInt64(min(max(0, date.timeIntervalSince1970 * 1000), Double(0xFFFF_FFFF_FFFF)))
        let random = generator.next() as UInt64
        let more = generator.next() as UInt64
        // 48 bits of time, version 7, 12 random bits; variant 0b10, 62 random bits.
        let high = milliseconds << 16 | 0x7000 | (random & 0x0FFF)
        let low = (more & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        let bytes = (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
        return UUID(uuid: (
            bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
            bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
        )).uuidString.lowercased()
    }

    /// URL-safe random text with `bytes` of entropy.
    static func randomToken(bytes: Int = 32) -> String {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<bytes).map { _ in UInt8.random(in: 0...255, using: &generator) }).base64URLEncodedString()
    }
}
