import Foundation
import Logging
import OCPP
import X509

/// The security extension's certificate management: a charger's SignCertificate is checked and
/// signed by our CA and sent back with CertificateSigned; roots are installed, listed and deleted
/// through `ChargePointCommands`, whose effects keep the answers; certificates about to expire
/// raise an alert.
struct CertificateService: Sendable {
    let authority: CertificateAuthority
    let repository: CertificateRepository
    let commands: ChargePointCommands
    let monitoring: MonitoringService
    let logger: Logger
    let now: @Sendable () -> Date

    /// How long before its end an installed certificate raises an alert.
    static let expiryWarning: TimeInterval = 30 * 86_400

    /// A charger's CSR: the answer, and — when accepted — the CertificateSigned to send after it.
    /// Only a `trusted` connection gets one: over TLS, accepted, and proven by its password or its
    /// own certificate — else whoever connects as a charger without a password could take a
    /// certificate that outlives a later move to a stricter profile.
    func signRequest(stationID: String, csr: String, trusted: Bool) async -> (accepted: Bool, followUp: (@Sendable () async -> Void)?) {
        guard trusted else {
            logger.notice(
                "a certificate signing request over a connection not authenticated over TLS was refused",
                metadata: ["chargePointId": .string(stationID)])
            return (false, nil)
        }
        // A charger repeating SignCertificate gets one certificate at a time: each would be signed,
        // stored and sent. One still waiting for its answer refuses the next for a minute.
        if (try? await repository.awaitingAnswer(stationID: stationID, since: now().addingTimeInterval(-60))) ?? true {
            logger.notice("a certificate signing request while one is unanswered was refused", metadata: ["chargePointId": .string(stationID)])
            return (false, nil)
        }
        let certificate: Certificate
        let stored: StationCertificate
        do {
            certificate = try authority.signCharger(csrPEM: csr, identity: stationID, now: now())
            stored = try await repository.insert(
                StationCertificate(stationId: stationID, kind: "ChargePointCertificate", status: .issued, certificate: certificate, now: now()))
        } catch {
            logger.notice(
                "a charger's certificate signing request was refused",
                metadata: ["chargePointId": .string(stationID), "reason": .string("\(error)")])
            return (false, nil)
        }
        let chain = stored.pem + authority.certificatePEM
        return (
            true,
            { [commands, logger] in
                do {
                    _ = try await commands.send(OCPP16.CertificateSigned.self, .init(certificateChain: chain), to: stationID)
                } catch {
                    logger.notice(
                        "CertificateSigned did not reach the charger",
                        metadata: ["chargePointId": .string(stationID), "error": .string("\(error)")])
                }
            }
        )
    }

    /// InstallCertificate of a root (CentralSystemRootCertificate or ManufacturerRootCertificate).
    func install(stationID: String, type: OCPP16.CertificateUseEnumType, pem: String) async throws
        -> String
    {
        let certificate: Certificate
        do {
            certificate = try Certificate(pemEncoded: pem)
        } catch {
            throw InvalidInput(field: "certificate", "must be one PEM-encoded X.509 certificate")
        }
        _ = try await repository.insert(
            StationCertificate(stationId: stationID, kind: type.rawValue, status: .issued, certificate: certificate, now: now()))
        let response = try await commands.send(
            OCPP16.InstallCertificate.self, .init(certificateType: type, certificate: pem), to: stationID)
        return response.status.rawValue
    }

    func installedIDs(stationID: String, type: OCPP16.CertificateUseEnumType) async throws
        -> OCPP16.GetInstalledCertificateIds.Response
    {
        try await commands.send(OCPP16.GetInstalledCertificateIds.self, .init(certificateType: type), to: stationID)
    }

    func delete(stationID: String, _ hashData: OCPP16.CertificateHashDataType) async throws -> String {
        try await commands.send(OCPP16.DeleteCertificate.self, .init(certificateHashData: hashData), to: stationID).status.rawValue
    }

    /// An alert for each installed certificate that ends within `expiryWarning`.
    func checkExpiring() async throws {
        let at = now()
        for certificate in try await repository.expiring(before: at.addingTimeInterval(Self.expiryWarning)) {
            let days = Int(certificate.notValidAfter.timeIntervalSince(at) / 86_400)
            try await monitoring.raise(
                Alert(
                    kind: .certificateExpiring, severity: days < 7 ? .critical : .warning,
                    conditionKey: "certificate:\(certificate.stationId):\(certificate.serialNumber)", stationId: certificate.stationId,
                    connectorId: nil,
                    message: "\(certificate.stationId): its \(certificate.kind) ends \(days < 0 ? "has ended" : "in \(days) days")",
                    details: ["serialNumber": certificate.serialNumber, "notValidAfter": WireFormat.formatDate(certificate.notValidAfter)],
                    at: at))
        }
    }
}
