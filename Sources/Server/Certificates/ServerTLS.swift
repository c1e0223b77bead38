import NIOSSL

/// The TLS context of HTTPS and WSS: the operator's certificate and key, TLS 1.2 or newer, and
/// client certificates requested but optional — a charger of security profile 2 has none, one of
/// profile 3 must present a certificate that chains to the client CA (our own by default).
enum ServerTLS {
    static func context(_ settings: TLSSettings, authority: CertificateAuthority) throws -> NIOSSLContext? {
        guard let certificate = settings.certificate, let key = settings.key else { return nil }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
        configuration.minimumTLSVersion = .tlsv12
        configuration.certificateVerification = .optionalVerification
        let roots =
            try settings.clientCA.map { try NIOSSLCertificate.fromPEMFile($0) }
            ?? [try NIOSSLCertificate(bytes: Array(authority.certificatePEM.utf8), format: .pem)]
        configuration.trustRoots = .certificates(roots)
        return try NIOSSLContext(configuration: configuration)
    }
}
