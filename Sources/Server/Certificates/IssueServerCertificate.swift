import ArgumentParser
import Crypto
import Foundation
import X509

/// `server issue-server-certificate --hostname csms.example.com --out ./tls`: a TLS server
/// certificate signed by our CA (the one in the data directory, made if absent), so chargers that
/// trust our CA can connect over wss.
struct IssueServerCertificate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issue-server-certificate",
        abstract: "Write a TLS server certificate signed by the server's CA (server.pem with the chain, server-key.pem).")
    @OptionGroup var options: ConfigurationOptions
    @Option(name: .customLong("hostname"), help: "A DNS name of the server; repeat for more") var hostnames: [String]
    @Option(help: "Directory for server.pem, server-key.pem and ca.pem; created if absent") var out: String
    @Option(help: "Days the certificate is valid (default 397)") var days: Int = 397

    func validate() throws {
        guard !hostnames.isEmpty else { throw ValidationError("give at least one --hostname") }
        guard (1...3650).contains(days) else { throw ValidationError("--days must be from 1 to 3650") }
    }

    func run() async throws {
        let (configuration, _) = try options.load()
        let authority: CertificateAuthority
        do {
            authority = try AppDependencies.certificateAuthority(configuration, now: Date())
        } catch {
            throw fail("\(error)")
        }
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let certificate = try authority.issueServer(hostnames: hostnames, key: key, days: days, now: Date())
        let manager = FileManager.default
        try manager.createDirectory(atPath: out, withIntermediateDirectories: true)
        func path(_ name: String) -> String { (out as NSString).appendingPathComponent(name) }
        guard
            manager.createFile(
                atPath: path("server-key.pem"), contents: Data(try key.serializeAsPEM().pemString.utf8),
                attributes: [.posixPermissions: 0o600]),
            manager.createFile(
                atPath: path("server.pem"), contents: Data((try certificate.serializeAsPEM().pemString + "\n" + authority.certificatePEM).utf8)),
            manager.createFile(atPath: path("ca.pem"), contents: Data(authority.certificatePEM.utf8))
        else { throw fail("cannot write to \(out)") }
        print(
            "wrote \(path("server.pem")) (certificate and CA chain), \(path("server-key.pem")) (owner-only) and \(path("ca.pem"));"
                + " start with --tls-cert \(path("server.pem")) --tls-key \(path("server-key.pem"))")
    }
}
