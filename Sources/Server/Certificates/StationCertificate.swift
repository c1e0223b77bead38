import Foundation
import Storage
import X509

/// A certificate a charger holds or was given: the one our CA issued it, or a root installed on it.
struct StationCertificate: TableRecord, Codable {
    enum Status: String, Codable, Sendable, CaseIterable {
        /// Signed and sent with CertificateSigned; waiting for the charger's answer.
        case issued
        /// The charger accepted it (CertificateSigned or InstallCertificate).
        case installed
        /// The charger refused it.
        case rejected
        /// DeleteCertificate removed it.
        case deleted
    }

    var id: String
    var version: Int64 = 0
    var stationId: String
    /// ChargePointCertificate, CentralSystemRootCertificate or ManufacturerRootCertificate.
    var kind: String
    var status: Status
    /// Hexadecimal, as DeleteCertificate names it.
    var serialNumber: String
    var subject: String
    var issuer: String
    var notValidBefore: Date
    var notValidAfter: Date
    var pem: String
    var createdAt: Date
    var updatedAt: Date

    static let tableName = "station_certificates"
    static let columns = [
        "station_id", "kind", "status", "serial_number", "subject", "issuer", "not_valid_before", "not_valid_after", "pem",
        "created_at", "updated_at",
    ]
    static let sortableColumns = ["created_at"]
    static let defaultSort = SortKey("created_at", descending: true)

    var columnValues: [SQLValue] {
        [
            .text(stationId), .text(kind), .text(status.rawValue), .text(serialNumber), .text(subject), .text(issuer),
            notValidBefore.sqlValue, notValidAfter.sqlValue, .text(pem), createdAt.sqlValue, updatedAt.sqlValue,
        ]
    }

    init(stationId: String, kind: String, status: Status, certificate: Certificate, now: Date) throws {
        id = Identifiers.make()
        self.stationId = stationId
        self.kind = kind
        self.status = status
        serialNumber = Self.hex(certificate.serialNumber)
        subject = String(describing: certificate.subject)
        issuer = String(describing: certificate.issuer)
        notValidBefore = certificate.notValidBefore
        notValidAfter = certificate.notValidAfter
        pem = try certificate.serializeAsPEM().pemString
        createdAt = now
        updatedAt = now
    }

    init(row: Row) throws {
        id = try row.get("id")
        version = try row.get("version")
        stationId = try row.get("station_id")
        kind = try row.get("kind")
        status = try row.decode("status")
        serialNumber = try row.get("serial_number")
        subject = try row.get("subject")
        issuer = try row.get("issuer")
        notValidBefore = try row.get("not_valid_before")
        notValidAfter = try row.get("not_valid_after")
        pem = try row.get("pem")
        createdAt = try row.get("created_at")
        updatedAt = try row.get("updated_at")
    }

    static func hex(_ serial: Certificate.SerialNumber) -> String {
        serial.bytes.map { String(format: "%02x", $0) }.joined()
    }
}

/// The certificates a charger reported with GetInstalledCertificateIds.
struct InstalledCertificateID: Codable, Sendable, Equatable {
    var certificateType: String
    var hashAlgorithm: String
    var issuerNameHash: String
    var issuerKeyHash: String
    var serialNumber: String
    var reportedAt: Date
}
