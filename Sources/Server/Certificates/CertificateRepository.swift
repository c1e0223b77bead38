import Foundation
import OCPP
import Storage
import X509

/// The stations' certificates and what they reported installed.
struct CertificateRepository: Sendable {
    let database: Database

    func insert(_ certificate: StationCertificate) async throws -> StationCertificate {
        try await database.write { try TableStore<StationCertificate>.insert(certificate, into: $0) }
    }

    func list(stationID: String) async throws -> [StationCertificate] {
        try await database.read { connection in
            try connection.query(
                "SELECT * FROM station_certificates WHERE station_id = ? ORDER BY created_at DESC, id LIMIT 100", stationID,
                map: StationCertificate.init(row:))
        }
    }

    /// Whether the station has a certificate issued since `since` that it has not answered yet.
    func awaitingAnswer(stationID: String, since: Date) async throws -> Bool {
        try await database.read { connection in
            try connection.queryFirst(
                "SELECT 1 FROM station_certificates WHERE station_id = ? AND status = 'issued' AND created_at >= ? LIMIT 1",
                stationID, since
            ) { try $0.get(0, as: Int.self) } != nil
        }
    }

    /// The charger's answer to a certificate we sent (CertificateSigned, InstallCertificate): the
    /// newest one of that station and PEM moves to installed or rejected.
    func recordAnswer(stationID: String, pem: String, accepted: Bool, at: Date) async throws {
        try await database.write { connection in
            try connection.run(
                """
                UPDATE station_certificates SET status = ?, updated_at = ?, version = version + 1
                WHERE id = (SELECT id FROM station_certificates WHERE station_id = ? AND pem = ? ORDER BY created_at DESC LIMIT 1)
                """, accepted ? "installed" : "rejected", at, stationID, pem)
        }
    }

    func recordDeleted(stationID: String, serialNumber: String, at: Date) async throws {
        let serial = serialNumber.lowercased().drop { $0 == "0" }
        try await database.write { connection in
            try connection.run(
                """
                UPDATE station_certificates SET status = 'deleted', updated_at = ?, version = version + 1
                WHERE station_id = ? AND ltrim(lower(serial_number), '0') = ? AND status != 'deleted'
                """, at, stationID, String(serial))
            try connection.run(
                "DELETE FROM installed_certificate_ids WHERE station_id = ? AND ltrim(lower(serial_number), '0') = ?", stationID,
                String(serial))
        }
    }

    /// Replaces what the station reported for `certificateType`.
    func recordInstalledIDs(stationID: String, certificateType: String, _ ids: [OCPP16.CertificateHashDataType], at: Date)
        async throws
    {
        try await database.write { connection in
            try connection.run(
                "DELETE FROM installed_certificate_ids WHERE station_id = ? AND certificate_type = ?", stationID, certificateType)
            for id in ids {
                try connection.run(
                    """
                    INSERT INTO installed_certificate_ids (station_id, certificate_type, hash_algorithm, issuer_name_hash,
                        issuer_key_hash, serial_number, reported_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, stationID, certificateType, id.hashAlgorithm.rawValue, id.issuerNameHash, id.issuerKeyHash, id.serialNumber, at)
            }
        }
    }

    func installedIDs(stationID: String) async throws -> [InstalledCertificateID] {
        try await database.read { connection in
            try connection.query(
                "SELECT * FROM installed_certificate_ids WHERE station_id = ? ORDER BY certificate_type, serial_number", stationID
            ) { row in
                InstalledCertificateID(
                    certificateType: try row.get("certificate_type"), hashAlgorithm: try row.get("hash_algorithm"),
                    issuerNameHash: try row.get("issuer_name_hash"), issuerKeyHash: try row.get("issuer_key_hash"),
                    serialNumber: try row.get("serial_number"), reportedAt: try row.get("reported_at"))
            }
        }
    }

    /// Installed certificates that expire before `horizon`.
    func expiring(before horizon: Date) async throws -> [StationCertificate] {
        try await database.read { connection in
            try connection.query(
                "SELECT * FROM station_certificates WHERE status = 'installed' AND not_valid_after < ? ORDER BY not_valid_after",
                horizon, map: StationCertificate.init(row:))
        }
    }
}
