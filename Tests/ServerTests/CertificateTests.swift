import Crypto
import Foundation
import HummingbirdTesting
import NIOHTTP1
import NIOWebSocket
import OCPP
import Testing
import X509

@testable import Server

/// A charger's CSR: its own P-256 key and `commonName`.
func chargerCSR(commonName: String, key: Certificate.PrivateKey = Certificate.PrivateKey(P256.Signing.PrivateKey())) throws -> String {
    try CertificateSigningRequest(
        version: .v1, subject: try DistinguishedName { CommonName(commonName) }, privateKey: key,
        attributes: CertificateSigningRequest.Attributes(), signatureAlgorithm: .ecdsaWithSHA256
    ).serializeAsPEM().pemString
}

@Suite("Our certificate authority: chargers' CSRs checked and signed")
struct CertificateAuthorityTests {
    @Test("a CA is made once, kept owner-only in the data directory, and loaded again as it was")
    func madeAndKept() throws {
        let directory = NSTemporaryDirectory() + "csms-ca-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try CertificateAuthority.load(directory: directory, certificatePath: nil, keyPath: nil, now: Date())
        let again = try CertificateAuthority.load(directory: directory, certificatePath: nil, keyPath: nil, now: Date())
        #expect(first.certificate == again.certificate)
        let mode = try FileManager.default.attributesOfItem(atPath: directory + "/ca-key.pem")[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try first.certificate.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        #expect(first.certificate.publicKey.isValidSignature(first.certificate.signature, for: first.certificate), "self-signed")
    }

    @Test("a CSR with the charger's identity is signed for client authentication and chains to the CA")
    func signs() throws {
        let authority = try CertificateAuthority.make(now: Date())
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let leaf = try authority.signCharger(csrPEM: try chargerCSR(commonName: "CP1", key: key), identity: "CP1", now: Date())
        #expect(CertificateAuthority.commonName(of: leaf.subject) == "CP1")
        #expect(leaf.issuer == authority.certificate.subject && leaf.publicKey == key.publicKey)
        #expect(authority.certificate.publicKey.isValidSignature(leaf.signature, for: leaf))
        #expect(try leaf.extensions.extendedKeyUsage?.contains(.clientAuth) == true)
        #expect(try leaf.extensions.basicConstraints == .notCertificateAuthority)
        #expect(leaf.notValidAfter.timeIntervalSinceNow > 360 * 86_400)
    }

    @Test("refused: another identity's CSR, a CSR whose signature fails, garbage, a key we do not take")
    func refuses() throws {
        let authority = try CertificateAuthority.make(now: Date())
        #expect(throws: CertificateAuthorityError.self) { try authority.signCharger(csrPEM: try chargerCSR(commonName: "CP2"), identity: "CP1", now: Date()) }
        #expect(throws: CertificateAuthorityError.self) { try authority.signCharger(csrPEM: "not a csr", identity: "CP1", now: Date()) }
        let edwards = try CertificateSigningRequest(
            version: .v1, subject: try DistinguishedName { CommonName("CP1") },
            privateKey: Certificate.PrivateKey(Curve25519.Signing.PrivateKey()), attributes: .init(), signatureAlgorithm: .ed25519
        ).serializeAsPEM().pemString
        do {
            _ = try authority.signCharger(csrPEM: edwards, identity: "CP1", now: Date())
            Issue.record("an Ed25519 key was taken")
        } catch CertificateAuthorityError.weakKey {}
    }
}

@Suite("Security: SignCertificate, certificates kept, security profiles")
struct SecurityProfileTests {
    @Test("SignCertificate is answered Accepted, then CertificateSigned carries the chain; the accepted certificate is kept")
    func signCertificateFlow() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("CP1"))
            // A connection not proven over TLS gets no certificate.
            let untrusted = try await TestCharger.connect(dependencies.ocpp, register: true)
            try await untrusted.send(#"[2,"sc0","SignCertificate",{"csr":\#(JSONWriter.string(.string(try chargerCSR(commonName: "CP1"))))}]"#)
            #expect(try await untrusted.next() == [.int(3), .string("sc0"), .object(JSONObject([("status", .string("Rejected"))]))])
            await untrusted.close()
            #expect(await eventually { dependencies.ocpp.registry.connection("CP1") == nil })

            let charger = try await TestCharger.connect(dependencies.ocpp, register: true, authenticatedOverTLS: true)
            let csr = try chargerCSR(commonName: "CP1")
            try await charger.send(#"[2,"sc1","SignCertificate",{"csr":\#(JSONWriter.string(.string(csr)))}]"#)
            let reply = try await charger.next()
            #expect(reply == [.int(3), .string("sc1"), .object(JSONObject([("status", .string("Accepted"))]))])
            // Asking again before answering the first certificate: one at a time.
            let pending = try await charger.next()
            #expect(pending.count == 4 && pending[2] == .string("CertificateSigned"), "\(pending)")
            try await charger.send(#"[2,"sc1b","SignCertificate",{"csr":\#(JSONWriter.string(.string(try chargerCSR(commonName: "CP1"))))}]"#)
            #expect(try await charger.next() == [.int(3), .string("sc1b"), .object(JSONObject([("status", .string("Rejected"))]))])
            guard case .string(let signedID) = pending[1] else { throw TestChargerError.notACall(pending) }
            try await charger.send(#"[3,"\#(signedID)",{"status":"Accepted"}]"#)
            let call = pending
            let chain = try #require(call[3]["certificateChain"]?.stringValue)
            #expect(chain.components(separatedBy: "BEGIN CERTIFICATE").count == 3, "the certificate and our CA")
            let leaf = try Certificate(pemEncoded: String(chain[..<chain.range(of: "-----END CERTIFICATE-----")!.upperBound]))
            #expect(dependencies.certificates.authority.certificate.publicKey.isValidSignature(leaf.signature, for: leaf))
            #expect(try await eventually {
                let listed = try await client.call(.get, "/api/v1/stations/CP1/certificates", token: admin)
                return listed.items.count == 1 && listed.items.first?["status"] as? String == "installed"
                    && listed.items.first?["kind"] as? String == "ChargePointCertificate"
            }, "the charger's Accepted installs it, and the refused repeat stored nothing")

            try await charger.send(#"[2,"sc2","SignCertificate",{"csr":\#(JSONWriter.string(.string(try chargerCSR(commonName: "CP9"))))}]"#)
            let refused = try await charger.next()
            #expect(refused == [.int(3), .string("sc2"), .object(JSONObject([("status", .string("Rejected"))]))])
            try await Task.sleep(for: .milliseconds(100))
            #expect(try await charger.channel.readOutbound(as: WebSocketFrame.self) == nil, "no CertificateSigned follows a refusal")
            await charger.close()
        }
    }

    @Test("an installed certificate about to end raises an alert")
    func expiring() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("CP1"))
            let authority = try CertificateAuthority.make(now: Date())
            let soon = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: authority.privateKey.publicKey, notValidBefore: Date().addingTimeInterval(-86_400),
                notValidAfter: Date().addingTimeInterval(5 * 86_400), issuer: authority.certificate.subject,
                subject: authority.certificate.subject, signatureAlgorithm: .ecdsaWithSHA256, extensions: .init(),
                issuerPrivateKey: authority.privateKey)
            _ = try await dependencies.certificates.repository.insert(
                StationCertificate(stationId: "CP1", kind: "CentralSystemRootCertificate", status: .installed, certificate: soon, now: Date()))
            try await dependencies.certificates.checkExpiring()
            let alerts = try await client.call(.get, "/api/v1/alerts?stationId=CP1", token: admin)
            let alert = try #require(alerts.items.first { $0["kind"] as? String == "certificate_expiring" })
            #expect(alert["severity"] as? String == "critical", "under a week")
        }
    }

    @Test("a station's security profile refuses a connection below it", arguments: [
        (0, ConnectionSecurity.plain, true), (1, .plain, true), (2, .plain, false), (2, .init(tls: true, clientCommonName: nil), true),
        (3, .init(tls: true, clientCommonName: nil), false), (3, .init(tls: true, clientCommonName: "CP1"), true),
        (0, .init(tls: true, clientCommonName: "CP2"), false), (3, .init(tls: true, clientCommonName: "CP2"), false),
    ])
    func profiles(profile: Int, security: ConnectionSecurity, allowed: Bool) {
        #expect((OCPPService.securityRefusal(profile: profile, identity: "CP1", security: security) == nil) == allowed)
    }

    @Test("profile 3 lets a charger in by its certificate alone; profile 1 without a password set refuses")
    func decisions() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("CP1"))
            _ = try await client.call(.put, "/api/v1/stations/CP1/credentials", token: admin, json: ["password": "charger-password-123"])
            var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/ocpp/CP1")
            head.headers.add(name: "Sec-WebSocket-Protocol", value: "ocpp1.6")
            func decide(_ security: ConnectionSecurity) async -> Bool {
                if case .accept = await dependencies.ocpp.decide(head, security: security) { return true }
                return false
            }
            _ = try await client.call(.patch, "/api/v1/stations/CP1", token: admin, json: ["securityProfile": 3])
            #expect(await decide(.init(tls: true, clientCommonName: "CP1")), "the certificate authenticates")
            #expect(!(await decide(.init(tls: true, clientCommonName: nil))), "no certificate, no password")
            _ = try await client.call(.patch, "/api/v1/stations/CP1", token: admin, json: ["securityProfile": 2])
            #expect(!(await decide(.init(tls: true, clientCommonName: nil))), "profile 2 still needs the password")
            #expect(!(await decide(.init(tls: true, clientCommonName: "CP1"))), "below profile 3 a certificate is no password")
            head.headers.add(name: "Authorization", value: "Basic " + Data("CP1:charger-password-123".utf8).base64EncodedString())
            #expect(await decide(.init(tls: true, clientCommonName: nil)))
            #expect(!(await decide(.plain)), "not over plain HTTP")
            _ = try await client.call(.delete, "/api/v1/stations/CP1/credentials", token: admin)
            _ = try await client.call(.patch, "/api/v1/stations/CP1", token: admin, json: ["securityProfile": 1])
            #expect(!(await decide(.plain)), "profile 1 with no password set")
            #expect(try await client.call(.patch, "/api/v1/stations/CP1", token: admin, json: ["securityProfile": 4]).fieldErrors == ["securityProfile"])
        }
    }
}
