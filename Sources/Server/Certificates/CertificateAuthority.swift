import Crypto
import _CryptoExtras
import Foundation
import X509

/// Our own certificate authority: it signs the chargers' certificates (SignCertificate, security
/// profile 3) and, for the operator, the server's TLS certificate. Its key and certificate are
/// created on first start in the data directory (the key owner-only), or are the operator's own.
struct CertificateAuthority: Sendable {
    let certificate: Certificate
    let privateKey: Certificate.PrivateKey

    /// What a charger's certificate may be: its key, and for how long it is signed.
    static let chargerValidity: TimeInterval = 365 * 86_400
    static let minimumRSABits = 2048

    var certificatePEM: String { (try? certificate.serializeAsPEM().pemString) ?? "" }

    /// The CA in `directory` (`ca.pem`, `ca-key.pem`), made if absent; or the configured files.
    static func load(directory: String, certificatePath: String?, keyPath: String?, now: Date) throws -> CertificateAuthority {
        let certificateFile = certificatePath ?? (directory as NSString).appendingPathComponent("ca.pem")
        let keyFile = keyPath ?? (directory as NSString).appendingPathComponent("ca-key.pem")
        let manager = FileManager.default
        if manager.fileExists(atPath: certificateFile) || manager.fileExists(atPath: keyFile) {
            let certificate = try Certificate(pemEncoded: try String(contentsOfFile: certificateFile, encoding: .utf8))
            let key = try Certificate.PrivateKey(pemEncoded: try String(contentsOfFile: keyFile, encoding: .utf8))
            guard key.publicKey == certificate.publicKey else { throw CertificateAuthorityError.keyDoesNotMatch(certificateFile) }
            return CertificateAuthority(certificate: certificate, privateKey: key)
        }
        guard certificatePath == nil && keyPath == nil else { throw CertificateAuthorityError.missingFiles(certificateFile, keyFile) }
        let authority = try make(now: now)
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // The key first, owner-only from the start: it never exists readable by others.
        guard
            manager.createFile(
                atPath: keyFile, contents: Data(try authority.privateKey.serializeAsPEM().pemString.utf8),
                attributes: [.posixPermissions: 0o600]),
            manager.createFile(
                atPath: certificateFile, contents: Data(authority.certificatePEM.utf8), attributes: [.posixPermissions: 0o644])
        else { throw CertificateAuthorityError.cannotWrite(directory) }
        return authority
    }

    /// A new CA: a P-256 key and a self-signed certificate valid for 20 years.
    static func make(now: Date) throws -> CertificateAuthority {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let name = try DistinguishedName {
            OrganizationName("CSMS")
            CommonName("CSMS charging station CA")
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: key.publicKey, notValidBefore: now.addingTimeInterval(-300),
            notValidAfter: now.addingTimeInterval(20 * 365 * 86_400), issuer: name, subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: key.publicKey)
            },
            issuerPrivateKey: key)
        return CertificateAuthority(certificate: certificate, privateKey: key)
    }

    /// Checks a charger's CSR — its signature, its common name (the charge point identity), its
    /// key (P-256, P-384, or RSA of at least 2048 bits) — and signs it for a client certificate.
    func signCharger(csrPEM: String, identity: String, now: Date) throws -> Certificate {
        let request: CertificateSigningRequest
        do {
            request = try CertificateSigningRequest(pemEncoded: csrPEM)
        } catch {
            throw CertificateAuthorityError.unreadableRequest
        }
        guard request.publicKey.isValidSignature(request.signature, for: request) else { throw CertificateAuthorityError.badSignature }
        guard Self.commonName(of: request.subject) == identity else {
            throw CertificateAuthorityError.wrongCommonName(found: Self.commonName(of: request.subject), expected: identity)
        }
        try Self.checkKey(request.publicKey)
        return try issue(
            subject: request.subject, publicKey: request.publicKey, validity: Self.chargerValidity, now: now,
            usage: [.clientAuth], names: [])
    }

    /// A TLS server certificate for `hostnames` (the operator's `issue-server-certificate`).
    func issueServer(hostnames: [String], key: Certificate.PrivateKey, days: Int, now: Date) throws -> Certificate {
        let subject = try DistinguishedName { CommonName(hostnames.first ?? "csms") }
        return try issue(
            subject: subject, publicKey: key.publicKey, validity: TimeInterval(days) * 86_400, now: now, usage: [.serverAuth],
            names: hostnames)
    }

    private func issue(
        subject: DistinguishedName, publicKey: Certificate.PublicKey, validity: TimeInterval, now: Date,
        usage: [ExtendedKeyUsage.Usage], names: [String]
    ) throws -> Certificate {
        let authorityKeyID = try certificate.extensions.subjectKeyIdentifier?.keyIdentifier
        return try Certificate(
            version: .v3, serialNumber: .init(), publicKey: publicKey, notValidBefore: now.addingTimeInterval(-300),
            notValidAfter: min(now.addingTimeInterval(validity), certificate.notValidAfter), issuer: certificate.subject,
            subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true, keyAgreement: true))
                try ExtendedKeyUsage(usage)
                SubjectKeyIdentifier(hash: publicKey)
                if let authorityKeyID { AuthorityKeyIdentifier(keyIdentifier: authorityKeyID) }
                if !names.isEmpty { SubjectAlternativeNames(names.map { GeneralName.dnsName($0) }) }
            },
            issuerPrivateKey: privateKey)
    }

    static func checkKey(_ key: Certificate.PublicKey) throws {
        if P256.Signing.PublicKey(key) != nil || P384.Signing.PublicKey(key) != nil { return }
        if let rsa = _RSA.Signing.PublicKey(key) {
            guard rsa.keySizeInBits >= minimumRSABits else { throw CertificateAuthorityError.weakKey("RSA \(rsa.keySizeInBits) bits") }
            return
        }
        throw CertificateAuthorityError.weakKey("\(key)")
    }

    static func commonName(of name: DistinguishedName) -> String? {
        for relative in name {
            for attribute in relative where attribute.type == .RDNAttributeType.commonName {
                return String(describing: attribute.value)
            }
        }
        return nil
    }
}

/// What the certificate authority refuses.
enum CertificateAuthorityError: DomainError {
    case unreadableRequest
    case badSignature
    case wrongCommonName(found: String?, expected: String)
    case weakKey(String)
    case keyDoesNotMatch(String)
    case missingFiles(String, String)
    case cannotWrite(String)

    var kind: DomainErrorKind { .invalid }

    var description: String {
        switch self {
        case .unreadableRequest: "the certificate signing request is not a PEM-encoded PKCS#10 request"
        case .badSignature: "the certificate signing request's signature does not verify"
        case .wrongCommonName(let found, let expected): "the request's common name is \(found ?? "missing"), not \(expected)"
        case .weakKey(let key): "the request's key is not acceptable (\(key)); P-256, P-384 or RSA of 2048 bits or more"
        case .keyDoesNotMatch(let path): "the CA key does not belong to the certificate \(path)"
        case .missingFiles(let certificate, let key): "the configured CA needs both \(certificate) and \(key)"
        case .cannotWrite(let directory): "cannot write the CA to \(directory)"
        }
    }
}
