import Foundation
import Hummingbird
import HummingbirdTesting
import NIOWebSocket
import Testing

@testable import Server

@Suite("Raising a station's security profile closes a live connection that no longer meets it")
struct SecurityProfileChangeTests {
    @Test("the live connection is judged by the upgrade's rules", arguments: [
        // (profile, tls, client certificate name, password verified, refused)
        (0, false, String?.none, false, false),
        (1, false, nil, true, false),
        (1, false, nil, false, true),
        (2, false, nil, true, true),
        (2, true, nil, true, false),
        (2, true, nil, false, true),
        (3, true, nil, true, true),
        (3, true, "OTHER", true, true),
        (3, true, "CP1", false, false),
    ])
    func rules(profile: Int, tls: Bool, commonName: String?, passwordVerified: Bool, refused: Bool) {
        let admission = ChargePointConnection.Admission(
            security: ConnectionSecurity(tls: tls, clientCommonName: commonName), passwordVerified: passwordVerified)
        #expect((OCPPService.securityProfileRefusal(profile: profile, identity: "CP1", admission: admission) != nil) == refused)
    }

    @Test("a plain connection is closed with a policy violation when its station moves to profile 2; other changes leave it")
    func raiseClosesPlainConnection() async throws {
        try await withApp(withAdmin) { client, dependencies in
            let (admin, charger) = try await client.connectStationCP1(dependencies)
            let renamed = try await client.call(.patch, "/api/v1/stations/CP1", token: admin, json: ["name": "Renamed"])
            #expect(renamed.status == .ok)
            #expect(!charger.connection.isClosed)

            let raised = try await client.call(.patch, "/api/v1/stations/CP1", token: admin, json: ["securityProfile": 2])
            #expect(raised.status == .ok)
            #expect(charger.connection.isClosed)
            let frame = try await charger.nextFrame()
            #expect(frame.opcode == .connectionClose)
            var data = frame.unmaskedData
            #expect(data.readWebSocketErrorCode() == .policyViolation)
        }
    }
}
