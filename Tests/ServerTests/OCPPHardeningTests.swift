import Foundation
import HummingbirdTesting
import Logging
import NIOCore
import NIOEmbedded
import NIOWebSocket
import OCPP
import Synchronization
import Testing

@testable import Server

@Suite("OCPP secrets, metric labels and keep-alive")
struct OCPPHardeningTests {
    static let chargerKey = "new-charger-key-0123456789"

    @Test("the prefilter finds every word that may mark a secret, in any case and at either end, and passes ordinary frames")
    func redactionPrefilter() {
        for text in [
            "key", #"{"Key":1}"#, "AUTHORIZATIONKEY", "x PassWord", "secreT", #"["TOKEN"]"#, "ftp://host", "PRIVATE KEY",
        ] {
            #expect(OCPPSecretRedaction.mayHoldSecret(text), "\(text)")
        }
        for text in [
            "", "ke", "passwor", ":/", #"[2,"1","Heartbeat",{}]"#,
            #"[2,"7","MeterValues",{"connectorId":1,"meterValue":[{"timestamp":"2026-11-28T10:00:00Z","sampledValue":[{"value":"12"}]}]}]"#,
            "kex toke-n pass-word se cret :/ /",
        ] {
            #expect(!OCPPSecretRedaction.mayHoldSecret(text), "\(text)")
        }
    }

    @Test("secrets in OCPP frames are redacted: AuthorizationKey set or echoed, BasicAuthPassword, private keys, URL passwords")
    func redaction() throws {
        let change = OCPPSecretRedaction.redact(#"{"key":"AuthorizationKey","value":"\#(Self.chargerKey)"}"#)
        #expect(!change.contains(Self.chargerKey) && change.contains("AuthorizationKey"))
        let echoed = OCPPSecretRedaction.redact(
            #"[3,"a",{"configurationKey":[{"key":"authorizationkey","readonly":false,"value":"\#(Self.chargerKey)"},"#
                + #"{"key":"HeartbeatInterval","readonly":false,"value":"300"}]}]"#)
        #expect(!echoed.contains(Self.chargerKey) && echoed.contains("\"300\""))
        let basic = OCPPSecretRedaction.redact(#"[2,"b","SetVariables",{"setVariableData":[{"variable":{"name":"BasicAuthPassword"},"attributeValue":"pw-1234567890123456","BasicAuthPassword":"pw-1234567890123456"}]}]"#)
        #expect(!basic.contains("\"BasicAuthPassword\":\"pw-"))
        let pem = OCPPSecretRedaction.redact(#"[2,"c","DataTransfer",{"vendorId":"x","data":"-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----"}]"#)
        #expect(!pem.contains("MIIEv"))
        let url = OCPPSecretRedaction.redact(#"{"location":"ftp://diag:ftp-secret@files.example.com/upload","retries":1}"#)
        #expect(!url.contains("ftp-secret") && url.contains("ftp://diag:[redacted]@files.example.com/upload"))
        let heartbeat = #"[2,"d","Heartbeat",{}]"#
        #expect(OCPPSecretRedaction.redact(heartbeat) == heartbeat, "frames without secrets are kept byte for byte")
        #expect(OCPPSecretRedaction.redact("not json -----BEGIN RSA PRIVATE KEY----- abc") == OCPPSecretRedaction.placeholder)
    }

    @Test("the message log never stores a charger password, whichever way it passed")
    func messageLogIsRedacted() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("CP1"))
            let recorder = dependencies.ocpp.recorder
            recorder.log(
                OCPPLogEntry(
                    stationId: "CP1", direction: "out", messageType: 2, action: "ChangeConfiguration", messageId: nil,
                    payload: #"{"key":"AuthorizationKey","value":"\#(Self.chargerKey)"}"#, at: Date()))
            recorder.log(
                OCPPLogEntry(
                    stationId: "CP1", direction: "in", messageType: 3, action: nil, messageId: "g1",
                    payload: #"[3,"g1",{"configurationKey":[{"key":"AuthorizationKey","readonly":false,"value":"\#(Self.chargerKey)"}]}]"#,
                    at: Date()))
            try await recorder.flush()
            let stored = try await dependencies.database.read { connection in
                try connection.query("SELECT payload FROM ocpp_messages") { row in try row.get("payload", as: String.self) }
            }
            #expect(stored.count == 2)
            #expect(stored.allSatisfy { !$0.contains(Self.chargerKey) })
            let log = try await client.call(.get, "/api/v1/stations/CP1/ocpp-log", token: admin)
            #expect(log.items.count == 2 && !String(describing: log.items).contains(Self.chargerKey))
        }
    }

    @Test("messages stored before redaction existed are redacted by the next retention run")
    func legacyMessagesAreRedacted() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("CP1"))
            let secret = #"{"key":"AuthorizationKey","value":"\#(Self.chargerKey)"}"#
            let plain = #"[2,"h","Heartbeat",{}]"#
            _ = try await dependencies.database.write { connection in
                for payload in [secret, plain] {
                    try connection.run(
                        "INSERT INTO ocpp_messages (station_id, direction, message_type, action, message_id, payload, at) VALUES ('CP1', 'out', 2, 'ChangeConfiguration', NULL, ?, ?)",
                        payload, Date())
                }
            }
            try await dependencies.ocpp.recorder.prune(before: Date.distantPast)
            let stored = try await dependencies.database.read { connection in
                try connection.query("SELECT payload FROM ocpp_messages ORDER BY id") { row in try row.get("payload", as: String.self) }
            }
            #expect(stored.count == 2)
            #expect(stored.allSatisfy { !$0.contains(Self.chargerKey) })
            #expect(stored.last == plain)

            // The pass is recorded in the database, so a later process does not scan the log again.
            #expect(try await dependencies.keyValue.getString(OCPPRecorder.storedSecretsRedactedKey) == "done")
            _ = try await dependencies.database.write { connection in
                try connection.run(
                    "INSERT INTO ocpp_messages (station_id, direction, message_type, action, message_id, payload, at) VALUES ('CP1', 'out', 2, 'ChangeConfiguration', NULL, ?, ?)",
                    secret, Date())
            }
            try await OCPPRecorder(database: dependencies.database).prune(before: Date.distantPast)
            let rescanned = try await dependencies.database.read { connection in
                try connection.queryFirst("SELECT count(*) FROM ocpp_messages WHERE payload LIKE ?", "%\(Self.chargerKey)%") {
                    try $0.get(0, as: Int.self)
                }
            }
            #expect(rescanned == 1, "a second process start did not rescan the whole log")
        }
    }

    @Test("thousands of CALLs with unknown actions each get NotImplemented and share one metric series")
    func unknownActionsAreOneSeries() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("CP1"))
            let before = try await client.execute(uri: "/metrics", method: .get) { $0.body.readableBytes }
            let channel = NIOAsyncTestingChannel()
            let connection = dependencies.ocpp.makeConnection(
                chargePointID: "CP1", subprotocol: "ocpp1.6", channel: channel, registration: .accepted)
            for index in 0..<2_000 {
                await dependencies.ocpp.process(
                    #"[2,"m\#(index)","Invented\#(index)",{}]"#, connection: connection, logger: TestCharger.logger)
                let reply = try await channel.nextFrame()
                let text = String(buffer: reply.unmaskedData)
                #expect(text.hasPrefix(#"[4,"m\#(index)","NotImplemented""#), "\(text)")
            }
            try? await channel.close()
            let metrics = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(!metrics.contains("Invented"))
            #expect(metrics.contains(#"action="unknown""#))
            #expect(metrics.utf8.count < before + 4_000, "a bounded number of series, not one per action")
        }
    }

    @Test("metric labels are taken only from known values")
    func labels() {
        #expect(OCPPMetrics.label("Heartbeat", from: OCPPMetrics.knownActions) == "Heartbeat")
        #expect(OCPPMetrics.label("ChangeConfiguration", from: OCPPMetrics.knownActions) == "ChangeConfiguration")
        #expect(OCPPMetrics.label("heartbeat", from: OCPPMetrics.knownActions) == "unknown")
        #expect(OCPPMetrics.label(nil, from: OCPPMetrics.knownActions) == "unknown")
        #expect(OCPPMetrics.label("Bogus\"}", from: OCPPMetrics.knownErrorCodes) == "unknown")
    }

    /// What the charger saw while the keep-alive ran.
    struct KeepAliveRun {
        var answered: [String] = []
        var closed = false
    }

    /// Plays a charger for up to `limit`: moves the test loop's clock one ping interval per round
    /// (the keep-alive measures silence by the real clock, so rounds are paced in real time), answers
    /// every ping when `pong`, and collects the ids of the CALLRESULTs until `done` or a close frame.
    static func runKeepAlive(
        _ charger: TestCharger, interval: TimeAmount, pong: Bool, limit: Duration, done: (KeepAliveRun) -> Bool
    ) async throws -> KeepAliveRun {
        var run = KeepAliveRun()
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline && !run.closed && !done(run) {
            await charger.channel.testingEventLoop.advanceTime(by: interval)
            while let frame = try await charger.channel.readOutbound(as: WebSocketFrame.self) {
                switch frame.opcode {
                case .ping where pong:
                    try await charger.channel.writeInbound(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData))
                case .connectionClose:
                    run.closed = true
                case .text:
                    if case .array(let reply) = try JSONParser.parse(String(buffer: frame.unmaskedData)), reply.count > 1,
                        let id = reply[1].stringValue
                    {
                        run.answered.append(id)
                    }
                default:
                    continue
                }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return run
    }

    @Test("a handler slower than two ping intervals does not get its charger closed: pongs are read meanwhile")
    func pongsDuringASlowHandler() async throws {
        try await withApp { _, dependencies async throws in
            let handlers = OCPPService.registry16 { registry in
                registry.register(OCPP16.Heartbeat.self) { _, call in
                    // Twice what the keep-alive allows a peer to stay silent (2 × 2 s + 1 s), while the
                    // peer has five seconds to answer a ping even when the tests starve the thread pool.
                    if call.messageID == "slow" { try await Task.sleep(for: .seconds(10)) }
                    return OCPP16.Heartbeat.Response(currentTime: OCPPDateTime(Date()))
                }
            }
            let interval = Duration.seconds(2)
            let charger = try await TestCharger.connect(dependencies.ocpp.with(protocols: [handlers], pingInterval: interval))
            try await charger.send(#"[2,"slow","Heartbeat",{}]"#)
            try await charger.send(#"[2,"next","Heartbeat",{}]"#)
            let run = try await Self.runKeepAlive(charger, interval: .seconds(2), pong: true, limit: .seconds(40)) { $0.answered.count == 2 }
            #expect(run.answered == ["slow", "next"], "both handled, in order")
            #expect(run.closed == false, "the connection was not closed for missing pongs")
            await charger.close()
        }
    }

    @Test("a peer that answers no ping is still closed")
    func silentPeerIsClosed() async throws {
        try await withApp { _, dependencies async throws in
            let interval = Duration.milliseconds(100)
            let charger = try await TestCharger.connect(dependencies.ocpp.with(protocols: dependencies.ocpp.protocols, pingInterval: interval))
            let run = try await Self.runKeepAlive(charger, interval: .milliseconds(100), pong: false, limit: .seconds(20)) { _ in false }
            #expect(run.closed)
            #expect(charger.connection.isClosed)
            await charger.close()
        }
    }
}
