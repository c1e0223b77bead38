import Foundation
import Storage

enum StationStatus: String, Codable, Sendable, CaseIterable {
    case active, inactive, maintenance, decommissioned
}

/// What BootNotification will answer.
enum RegistrationStatus: String, Codable, Sendable, CaseIterable {
    case accepted, pending, rejected
}

enum ConnectorType: String, Codable, Sendable, CaseIterable {
    case type1 = "Type1", type2 = "Type2", ccs1 = "CCS1", ccs2 = "CCS2", chademo = "CHAdeMO", tesla = "Tesla"
    case gbt = "GBT", domestic = "Domestic"
}

/// OCPP 1.6 ChargePointStatus values.
enum ConnectorStatus: String, Codable, Sendable, CaseIterable {
    case available = "Available", preparing = "Preparing", charging = "Charging"
    case suspendedEVSE = "SuspendedEVSE", suspendedEV = "SuspendedEV", finishing = "Finishing"
    case reserved = "Reserved", unavailable = "Unavailable", faulted = "Faulted"
}

/// One OCPP charge point. Its `id` is the identity it uses on the WebSocket (`/ocpp/{id}`).
struct Station: TableRecord, Encodable {
    var id: String
    var version: Int64 = 0
    var name: String
    var operatorId: String?
    var address: String?
    var latitude: Double?
    var longitude: Double?
    var status: StationStatus
    var ocppVersion: String
    var registration: RegistrationStatus
    var tariffId: String?
    var siteId: String?
    /// OCPP security profile 0–3: 1 Basic auth, 2 TLS and Basic auth, 3 TLS and a client certificate.
    var securityProfile: Int = 0
    var online: Bool
    var lastSeenAt: Date?
    var vendor: String?
    var model: String?
    var serialNumber: String?
    var firmwareVersion: String?
    /// Salted SHA-256 of the charge point's Basic-auth password (see `ChargePointPassword`).
    var passwordHash: String?
    /// The password before a rotation the charger applies only at its reboot (RebootRequired); nil
    /// once the charger has connected with the new one.
    var previousPasswordHash: String?
    var chargeBoxSerialNumber: String?
    var iccid: String?
    var imsi: String?
    var meterType: String?
    var meterSerialNumber: String?
    var lastBootAt: Date?
    var diagnosticsStatus: String?
    var firmwareStatus: String?
    /// The configuration keys the charger reported to the last GetConfiguration.
    var configuration: [String: String]?
    var createdAt: Date
    var updatedAt: Date

    /// Everything but the password hash goes on the wire.
    private enum CodingKeys: String, CodingKey {
        case id, version, name, operatorId, address, latitude, longitude, status, ocppVersion, registration, tariffId
        case siteId, securityProfile, online, lastSeenAt, vendor, model, serialNumber, firmwareVersion, chargeBoxSerialNumber, iccid, imsi
        case meterType, meterSerialNumber, lastBootAt, diagnosticsStatus, firmwareStatus, configuration, createdAt
        case updatedAt
    }

    static let tableName = "stations"
    static let columns = [
        "name", "operator_id", "address", "latitude", "longitude", "status", "ocpp_version", "registration",
        "tariff_id", "online", "last_seen_at", "vendor", "model", "serial_number", "firmware_version",
        "password_hash", "charge_box_serial_number", "iccid", "imsi", "meter_type", "meter_serial_number", "last_boot_at",
        "diagnostics_status", "firmware_status", "configuration", "created_at", "updated_at", "site_id", "security_profile",
        "previous_password_hash",
    ]
    static let sortableColumns = ["name", "created_at"]
    static let defaultSort = SortKey("id")

    var columnValues: [SQLValue] {
        [
            .text(name), operatorId.sqlValue, address.sqlValue, latitude.sqlValue, longitude.sqlValue,
            .text(status.rawValue), .text(ocppVersion), .text(registration.rawValue), tariffId.sqlValue,
            online.sqlValue, lastSeenAt.sqlValue, vendor.sqlValue, model.sqlValue, serialNumber.sqlValue,
            firmwareVersion.sqlValue, passwordHash.sqlValue, chargeBoxSerialNumber.sqlValue, iccid.sqlValue, imsi.sqlValue,
            meterType.sqlValue, meterSerialNumber.sqlValue, lastBootAt.sqlValue, diagnosticsStatus.sqlValue,
            firmwareStatus.sqlValue,
            configuration.map(SQLValue.json) ?? .null,
            createdAt.sqlValue, updatedAt.sqlValue, siteId.sqlValue, securityProfile.sqlValue, previousPasswordHash.sqlValue,
        ]
    }

    init(id: String, name: String, now: Date) {
        self.id = id
        self.name = name
        self.status = .active
        self.ocppVersion = "1.6"
        self.registration = .accepted
        self.online = false
        self.createdAt = now
        self.updatedAt = now
    }

    init(row: Row) throws {
        id = try row.get("id")
        version = try row.get("version")
        name = try row.get("name")
        operatorId = try row.get("operator_id")
        address = try row.get("address")
        latitude = try row.get("latitude")
        longitude = try row.get("longitude")
        status = try row.decode("status")
        ocppVersion = try row.get("ocpp_version")
        registration = try row.decode("registration")
        tariffId = try row.get("tariff_id")
        siteId = try row.get("site_id")
        securityProfile = try row.get("security_profile")
        online = try row.get("online")
        lastSeenAt = try row.get("last_seen_at")
        vendor = try row.get("vendor")
        model = try row.get("model")
        serialNumber = try row.get("serial_number")
        firmwareVersion = try row.get("firmware_version")
        passwordHash = try row.get("password_hash")
        previousPasswordHash = try row.get("previous_password_hash")
        chargeBoxSerialNumber = try row.get("charge_box_serial_number")
        iccid = try row.get("iccid")
        imsi = try row.get("imsi")
        meterType = try row.get("meter_type")
        meterSerialNumber = try row.get("meter_serial_number")
        lastBootAt = try row.get("last_boot_at")
        diagnosticsStatus = try row.get("diagnostics_status")
        firmwareStatus = try row.get("firmware_status")
        configuration = try row.get("configuration", as: String?.self).flatMap {
            try? JSONDecoder().decode([String: String].self, from: Data($0.utf8))
        }
        createdAt = try row.get("created_at")
        updatedAt = try row.get("updated_at")
    }

    /// 1–48 characters of A–Z a–z 0–9 . _ - : (safe in a URL path and as an OCPP identity).
    static func isValidID(_ id: String) -> Bool {
        (1...48).contains(id.utf8.count)
            && id.utf8.allSatisfy {
                ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E
                    || $0 == 0x5F || $0 == 0x2D || $0 == 0x3A
            }
    }
}

struct Connector: Codable, Sendable, Equatable {
    var connectorId: Int
    var type: ConnectorType
    var maxPowerKw: Double
    var status: ConnectorStatus
    var errorCode: String?
    var statusUpdatedAt: Date

    init(row: Row) throws {
        connectorId = try row.get("connector_id")
        type = try row.decode("type")
        maxPowerKw = try row.get("max_power_kw")
        status = try row.decode("status")
        errorCode = try row.get("error_code")
        statusUpdatedAt = try row.get("status_updated_at")
    }

    init(connectorId: Int, type: ConnectorType, maxPowerKw: Double, now: Date) {
        self.connectorId = connectorId
        self.type = type
        self.maxPowerKw = maxPowerKw
        self.status = .unavailable
        self.statusUpdatedAt = now
    }
}

/// A station as the API shows it: its fields (never the password hash), its connectors, and
/// where asked for, its distance and live OCPP connection.
struct StationView: Encodable, Sendable {
    var station: Station
    var connectors: [Connector]
    var distanceKm: Double?
    var connection: StationConnection?

    init(_ station: Station, connectors: [Connector], distanceKm: Double? = nil) {
        self.station = station
        self.connectors = connectors
        self.distanceKm = distanceKm.map { ($0 * 1000).rounded() / 1000 }
    }

    var id: String { station.id }
    var registration: RegistrationStatus { station.registration }

    func encode(to encoder: any Encoder) throws {
        try station.encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(station.passwordHash != nil, forKey: .hasPassword)
        try container.encode(connectors, forKey: .connectors)
        try container.encodeIfPresent(distanceKm, forKey: .distanceKm)
        try container.encodeIfPresent(connection, forKey: .connection)
    }

    private enum Keys: String, CodingKey { case hasPassword, connectors, distanceKm, connection }
}

/// Great-circle distance on a sphere of the Earth's mean radius.
enum GeoDistance {
    static let earthRadiusKm = 6371.0088

    static func kilometres(fromLatitude lat1: Double, longitude lon1: Double, toLatitude lat2: Double, longitude lon2: Double)
        -> Double
    {
        let toRadians = Double.pi / 180
        let dLat = (lat2 - lat1) * toRadians
        let dLon = (lon2 - lon1) * toRadians
        let a =
            sin(dLat / 2) * sin(dLat / 2) + cos(lat1 * toRadians) * cos(lat2 * toRadians) * sin(dLon / 2) * sin(dLon / 2)
        return 2 * earthRadiusKm * asin(min(1, sqrt(a)))
    }
}

/// The charge point's Basic-auth password (OCPP security profile 1). Stored as a salted SHA-256:
/// these are 16–40 character machine keys, and a charger fleet reconnecting at once must not queue
/// behind bcrypt. Comparison is constant-time.
enum ChargePointPassword {
    static let allowedLength = 16...40

    static func hash(_ password: String) -> String {
        let salt = Identifiers.randomToken(bytes: 16)
        return "sha256$\(salt)$\(digest(password, salt: salt))"
    }

    static func verify(_ password: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "sha256" else { return false }
        let expected = Array(parts[2].utf8)
        let actual = Array(digest(password, salt: String(parts[1])).utf8)
        guard expected.count == actual.count else { return false }
        return zip(expected, actual).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    private static func digest(_ password: String, salt: String) -> String {
        TokenService.hash(salt + ":" + password)
    }
}

/// A station's OCPP connection as `GET /stations/{id}` shows it.
struct StationConnection: Codable, Sendable {
    var connected: Bool
    var connectedAt: Date?
    var registration: String?
    var outboundQueueDepth: Int?
    var lastMessages: [OCPPLogEntry]
}
