import Foundation
import HummingbirdTesting
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOWebSocket
import OCPP
import Synchronization
import Testing

@testable import Server

/// Polls `condition` until it holds or `limit` passes; true when it held.
func eventually(within limit: Duration = .seconds(10), _ condition: @Sendable () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return try await condition()
}

/// The value of one series in the Prometheus text, or nil when the series does not exist yet.
func metricValue(_ metrics: String, _ series: String) -> Double? {
    for line in metrics.split(separator: "\n") where line.hasPrefix(series + " ") {
        return Double(line.dropFirst(series.count + 1).trimmingCharacters(in: .whitespaces))
    }
    return nil
}

extension TestClientProtocol {
    /// The value of one series on `/metrics`, or nil when the series does not exist yet.
    func metric(_ series: String) async throws -> Double? {
        try await execute(uri: "/metrics", method: .get) { metricValue(String(buffer: $0.body), series) }
    }

    /// An admin token, and station CP1 created with a charger connected as its live connection.
    func connectStationCP1(_ dependencies: AppDependencies) async throws -> (admin: String, charger: TestCharger) {
        let admin = try await adminToken()
        _ = try await call(.post, "/api/v1/stations", token: admin, json: stationBody("CP1"))
        return (admin, try await TestCharger.connect(dependencies.ocpp, register: true))
    }
}

@Suite("OCPP engine: the connection loop, outbound validation, paired log rows, command effects")
struct OCPPEngineTests {
    static let configuration = #"{"configurationKey":[{"key":"HeartbeatInterval","readonly":false,"value":"300"}]}"#
    static let callTimeout = Duration.seconds(30)

    @Test("a handler that calls its own charger during its CALL gets the answer at once, not at the call timeout")
    func callDuringCall() async throws {
        try await withApp { _, dependencies async throws in
            let handlers = OCPPService.registry16 { registry in
                registry.register(OCPP16.DataTransfer.self) { _, call in
                    let configuration = try await call.connection.call(OCPP16.GetConfiguration.self, .init(key: ["HeartbeatInterval"]))
                    return OCPP16.DataTransfer.Response(status: .accepted, data: configuration.configurationKey?.first?.value)
                }
            }
            let charger = try await TestCharger.connect(dependencies.ocpp.with(protocols: [handlers], callTimeout: Self.callTimeout))
            let started = ContinuousClock.now
            try await charger.send(#"[2,"dt1","DataTransfer",{"vendorId":"com.example"}]"#)
            let call = try await charger.answerCall("GetConfiguration", with: Self.configuration)
            #expect(call.count == 4 && call[3] == .object(JSONObject([("key", .array([.string("HeartbeatInterval")]))])))
            let reply = try await charger.next(within: .seconds(25))
            let elapsed = ContinuousClock.now - started
            #expect(reply == [.int(3), .string("dt1"), .object(JSONObject([("status", .string("Accepted")), ("data", .string("300"))]))])
            #expect(elapsed < .seconds(5), "answered after \(elapsed); the call timeout is \(Self.callTimeout)")
            await charger.close()
        }
    }

    @Test("work after the reply may call the charger; the charger's next CALLs are answered meanwhile")
    func callAfterReply() async throws {
        try await withApp { _, dependencies async throws in
            let followUp = Mutex<String?>(nil)
            let handlers = OCPPService.registry16 { registry in
                registry.register(OCPP16.DataTransfer.self) { _, call in
                    HandlerReply(OCPP16.DataTransfer.Response(status: .accepted)) {
                        let outcome: String
                        do {
                            let answer = try await call.connection.call(OCPP16.GetConfiguration.self, .init())
                            outcome = answer.configurationKey?.first?.value ?? "no value"
                        } catch {
                            outcome = "\(error)"
                        }
                        followUp.withLock { $0 = outcome }
                    }
                }
                registry.register(OCPP16.Heartbeat.self) { _, _ in OCPP16.Heartbeat.Response(currentTime: OCPPDateTime(Date())) }
            }
            let charger = try await TestCharger.connect(dependencies.ocpp.with(protocols: [handlers], callTimeout: Self.callTimeout))
            let started = ContinuousClock.now
            try await charger.send(#"[2,"dt1","DataTransfer",{"vendorId":"com.example"}]"#)
            let reply = try await charger.next()
            #expect(reply == [.int(3), .string("dt1"), .object(JSONObject([("status", .string("Accepted"))]))], "the reply goes first")
            let call = try await charger.next()
            #expect(call.count == 4 && call[2] == .string("GetConfiguration"), "\(call)")
            // The follow-up waits for its answer; the charger's next CALL does not wait for it.
            try await charger.send(#"[2,"hb1","Heartbeat",{}]"#)
            let heartbeat = try await charger.next()
            #expect(heartbeat.count == 3 && heartbeat[0] == .int(3) && heartbeat[1] == .string("hb1"), "\(heartbeat)")
            let id = try #require(call.count > 1 ? call[1].stringValue : nil)
            try await charger.send(#"[3,"\#(id)",\#(Self.configuration)]"#)
            #expect(await eventually(within: .seconds(25)) { followUp.withLock { $0 } != nil })
            let elapsed = ContinuousClock.now - started
            #expect(followUp.withLock { $0 } == "300")
            #expect(elapsed < .seconds(5), "the follow-up finished after \(elapsed); the call timeout is \(Self.callTimeout)")
            await charger.close()
        }
    }

    @Test("a handler's response that breaks its schema is never sent: InternalError, counted as a handler failure")
    func invalidResponseIsNotSent() async throws {
        try await withApp { client, dependencies async throws in
            let parent = String(repeating: "P", count: 21)
            let handlers = OCPPService.registry16 { registry in
                registry.register(OCPP16.Authorize.self) { _, _ in
                    OCPP16.Authorize.Response(idTagInfo: .init(parentIdTag: parent, status: .accepted))
                }
            }
            let series = #"ocpp_refused_frames_total{kind="handler_failure"}"#
            let before = try await client.metric(series) ?? 0
            let charger = try await TestCharger.connect(dependencies.ocpp.with(protocols: [handlers]))
            try await charger.send(#"[2,"a1","Authorize",{"idTag":"TAG-1"}]"#)
            let frame = try await charger.nextFrame()
            let text = String(buffer: frame.unmaskedData)
            #expect(!text.contains(parent), "the bad response reached the wire: \(text)")
            guard case .array(let error) = try JSONParser.parse(text) else { throw TestChargerError.notText(frame) }
            #expect(error.count == 5 && error[0] == .int(4) && error[1] == .string("a1") && error[2] == .string("InternalError"), "\(text)")
            let after = try await client.metric(series)
            #expect(after == before + 1, "\(series) went from \(before) to \(String(describing: after))")
            await charger.close()
        }
    }

    @Test("the message log holds one row per exchange, inbound and outbound, each with its message id, action and answer")
    func pairedLogRows() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let (admin, charger) = try await client.connectStationCP1(dependencies)
            // The charger's CALLs: one answered, one refused.
            try await charger.send(#"[2,"hb1","Heartbeat",{}]"#)
            #expect(try await charger.next().first == .int(3))
            try await charger.send(#"[2,"au1","Authorize",{}]"#)
            #expect(try await charger.next().first == .int(4))
            // Ours: one answered with a CALLRESULT, one with a CALLERROR.
            let get = Task { try await charger.connection.call(OCPP16.GetConfiguration.self, .init()) }
            let getCall = try await charger.answerCall("GetConfiguration", with: Self.configuration)
            _ = try await get.value
            let clear = Task { try await charger.connection.call(OCPP16.ClearCache.self, .init()) }
            let clearCall = try await charger.next()
            let clearID = try #require(clearCall.count == 4 ? clearCall[1].stringValue : nil)
            try await charger.send(#"[4,"\#(clearID)","NotSupported","no cache",{}]"#)
            await #expect(throws: OutboundCallError.callError(code: "NotSupported", description: "no cache")) { try await clear.value }
            let getID = try #require(getCall[1].stringValue)

            let rows = try await dependencies.ocpp.recorder.recent(stationID: "CP1", limit: 50)
            #expect(rows.count == 4, "one row per exchange: \(rows.map { "\($0.direction) \($0.action ?? "-") \($0.messageId ?? "-")" })")
            func row(_ id: String) -> OCPPLogEntry? { rows.first { $0.messageId == id } }
            let heartbeat = try #require(row("hb1"))
            #expect(heartbeat.direction == "in" && heartbeat.messageType == 2 && heartbeat.action == "Heartbeat")
            #expect(heartbeat.payload == #"[2,"hb1","Heartbeat",{}]"#)
            #expect(heartbeat.answer?.messageType == 3 && heartbeat.answer?.payload.hasPrefix(#"[3,"hb1",{"currentTime":"#) == true)
            let refused = try #require(row("au1"))
            #expect(refused.direction == "in" && refused.action == "Authorize")
            #expect(refused.answer?.messageType == 4 && refused.answer?.payload.contains("ProtocolError") == true)
            let outbound = try #require(row(getID))
            #expect(outbound.direction == "out" && outbound.messageType == 2 && outbound.action == "GetConfiguration")
            #expect(outbound.payload == #"[2,"\#(getID)","GetConfiguration",{}]"#)
            #expect(outbound.answer?.messageType == 3 && outbound.answer?.payload == #"[3,"\#(getID)",\#(Self.configuration)]"#)
            let refusedOutbound = try #require(row(clearID))
            #expect(refusedOutbound.direction == "out" && refusedOutbound.action == "ClearCache")
            #expect(refusedOutbound.answer?.messageType == 4 && refusedOutbound.answer?.payload.contains("no cache") == true)
            #expect(rows.allSatisfy { $0.action != nil && $0.messageId != nil }, "an answer row never lacks its action")
            #expect(rows.allSatisfy { $0.answer != nil }, "every exchange here was answered")

            // The station's ocpp-log endpoint shows the same pairs.
            let log = try await client.call(.get, "/api/v1/stations/CP1/ocpp-log", token: admin)
            #expect(log.items.count == 4)
            #expect(log.items.allSatisfy { ($0["answer"] as? [String: Any])?["messageType"] != nil && $0["action"] != nil })
            await charger.close()
        }
    }

    @Test("a passthrough ChangeConfiguration of AuthorizationKey switches the stored password exactly when the charger accepts")
    func passthroughAuthorizationKey() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let (_, charger) = try await client.connectStationCP1(dependencies)
            let commands = dependencies.ocpp.commands
            func change(to key: String) -> JSONValue {
                .object(JSONObject([("key", .string("AuthorizationKey")), ("value", .string(key))]))
            }
            func passwordHash() async throws -> String? { try await dependencies.stations.station("CP1")?.passwordHash }

            let accepted = "accepted-key-0123456789"
            let acceptedCall = Task { try await commands.passthrough("ChangeConfiguration", payload: change(to: accepted), to: "CP1") }
            let sent = try await charger.answerCall("ChangeConfiguration", with: #"{"status":"Accepted"}"#)
            #expect(sent.count == 4 && sent[3] == change(to: accepted))
            #expect(try await acceptedCall.value == .object(JSONObject([("status", .string("Accepted"))])))
            let hash = try #require(try await passwordHash(), "the accepted key is stored")
            #expect(ChargePointPassword.verify(accepted, against: hash))
            let stored = try await dependencies.stations.station("CP1")?.configuration?["AuthorizationKey"]
            #expect(stored != nil && stored != accepted, "kept as set, never as the key itself")

            let rejected = "rejected-key-0123456789"
            let rejectedCall = Task { try await commands.passthrough("ChangeConfiguration", payload: change(to: rejected), to: "CP1") }
            try await charger.answerCall("ChangeConfiguration", with: #"{"status":"Rejected"}"#)
            #expect(try await rejectedCall.value == .object(JSONObject([("status", .string("Rejected"))])))
            let unchanged = try #require(try await passwordHash())
            #expect(unchanged == hash && !ChargePointPassword.verify(rejected, against: unchanged))

            let short = String(repeating: "k", count: 15)
            do {
                _ = try await commands.passthrough("ChangeConfiguration", payload: change(to: short), to: "CP1")
                Issue.record("a 15-character AuthorizationKey was accepted")
            } catch CommandError.invalid(let fields) {
                #expect(fields.map(\.field) == ["value"])
            }
            try await Task.sleep(for: .milliseconds(100))
            #expect(try await charger.channel.readOutbound(as: WebSocketFrame.self) == nil, "nothing was sent")
            #expect(try await passwordHash() == hash)
            await charger.close()
        }
    }

    @Test("after a RebootRequired AuthorizationKey the charger may connect with the key it has until it uses the new one")
    func rebootRequiredKeepsTheOldKeyUntilTheNewOneIsUsed() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let (admin, charger) = try await client.connectStationCP1(dependencies)
            let original = "original-password-0123"
            _ = try await client.call(.put, "/api/v1/stations/CP1/credentials", token: admin, json: ["password": original])
            func admits(_ password: String) async -> Bool {
                var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/ocpp/CP1")
                head.headers.add(name: "Sec-WebSocket-Protocol", value: "ocpp1.6")
                head.headers.add(name: "Authorization", value: "Basic " + Data("CP1:\(password)".utf8).base64EncodedString())
                if case .accept = await dependencies.ocpp.decide(head) { return true }
                return false
            }
            func rotate(to key: String, answer status: String) async throws {
                let payload = JSONValue.object(JSONObject([("key", .string("AuthorizationKey")), ("value", .string(key))]))
                let call = Task { try await dependencies.ocpp.commands.passthrough("ChangeConfiguration", payload: payload, to: "CP1") }
                try await charger.answerCall("ChangeConfiguration", with: #"{"status":"\#(status)"}"#)
                _ = try await call.value
            }
            #expect(await admits(original))

            let first = "first-rotation-key-0123"
            try await rotate(to: first, answer: "RebootRequired")
            #expect(await admits(original), "not rebooted yet: the charger still presents its old key")
            #expect(await admits(first))
            #expect(!(await admits(original)), "once the new key was used, the old one is done")

            // Two rotations before one reboot: the charger still has the key from before both.
            let (second, third) = ("second-rotation-key-0123", "third-rotation-key-01234")
            try await rotate(to: second, answer: "RebootRequired")
            try await rotate(to: third, answer: "RebootRequired")
            #expect(!(await admits(second)), "never in effect on the charger")
            #expect(await admits(first))
            #expect(await admits(third))
            #expect(!(await admits(first)))

            // Accepted: in effect at once, so the old key is refused at once.
            let fourth = "fourth-rotation-key-0123"
            try await rotate(to: fourth, answer: "Accepted")
            #expect(!(await admits(third)))
            #expect(await admits(fourth))

            // An operator's new password replaces both.
            try await rotate(to: "fifth-rotation-key-01234", answer: "RebootRequired")
            let set = "operator-set-password-01"
            _ = try await client.call(.put, "/api/v1/stations/CP1/credentials", token: admin, json: ["password": set])
            #expect(!(await admits(fourth)))
            #expect(await admits(set))
            await charger.close()
        }
    }

    @Test("a charger's CALLRESULT that breaks its schema fails the call naming the field, and is a 502 problem over REST")
    func invalidChargerAnswer() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let (admin, charger) = try await client.connectStationCP1(dependencies)

            let direct = Task { try await charger.connection.call(OCPP16.Reset.self, .init(type: .soft)) }
            try await charger.answerCall("Reset", with: #"{"status":"Maybe"}"#)
            do {
                _ = try await direct.value
                Issue.record("an answer with status Maybe was taken")
            } catch OutboundCallError.invalidResponse(let action, let violation) {
                #expect(action == "Reset")
                #expect(violation.path == "status" && violation.code == .propertyConstraintViolation, "\(violation)")
            }

            let series = #"ocpp_refused_frames_total{kind="charger_response"}"#
            let before = try await client.metric(series) ?? 0
            let answering = Task { try await charger.answerCall("Reset", with: #"{"status":"Maybe"}"#, within: .seconds(20)) }
            let reply = try await client.call(.post, "/api/v1/stations/CP1/commands/reset", token: admin, json: ["type": "Soft"])
            _ = try await answering.value
            #expect(reply.status == .badGateway, "\(reply.object)")
            #expect(reply.fieldErrors == ["response.status"], "\(reply.object)")
            #expect((reply["detail"] as? String)?.contains("status") == true, "\(reply.object)")
            let after = try await client.metric(series)
            #expect(after == before + 1)
            await charger.close()
        }
    }

    @Test("a request of ours that breaks its schema is never sent: invalidRequest, counted as our_request")
    func invalidRequestIsNotSent() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let (_, charger) = try await client.connectStationCP1(dependencies)
            let series = #"ocpp_refused_frames_total{kind="our_request"}"#
            let before = try await client.metric(series) ?? 0
            let request = OCPP16.RemoteStartTransaction.Request(connectorId: 1, idTag: String(repeating: "T", count: 21))
            do {
                _ = try await dependencies.ocpp.commands.send(OCPP16.RemoteStartTransaction.self, request, to: "CP1")
                Issue.record("a 21-character idTag was sent")
            } catch OutboundCallError.invalidRequest(let action, let violation) {
                #expect(action == "RemoteStartTransaction" && violation.path == "idTag", "\(violation)")
            }
            try await Task.sleep(for: .milliseconds(100))
            #expect(try await charger.channel.readOutbound(as: WebSocketFrame.self) == nil, "nothing was sent")
            #expect(charger.connection.outbound.depth == 0)
            let after = try await client.metric(series)
            #expect(after == before + 1)
            await charger.close()
        }
    }

    @Test("the passthrough gets the typed commands' effects: availability and configuration answers are kept")
    func passthroughAvailabilityAndConfiguration() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let (_, charger) = try await client.connectStationCP1(dependencies)
            let commands = dependencies.ocpp.commands
            #expect(try await dependencies.stations.station("CP1")?.status == .active)

            let inoperative = JSONValue.object(JSONObject([("connectorId", .int(0)), ("type", .string("Inoperative"))]))
            let availability = Task { try await commands.passthrough("ChangeAvailability", payload: inoperative, to: "CP1") }
            try await charger.answerCall("ChangeAvailability", with: #"{"status":"Accepted"}"#)
            _ = try await availability.value
            #expect(try await dependencies.stations.station("CP1")?.status == .inactive, "the whole station is inoperative")

            let configuration = Task { try await commands.passthrough("GetConfiguration", payload: .object(JSONObject()), to: "CP1") }
            try await charger.answerCall("GetConfiguration", with: Self.configuration)
            _ = try await configuration.value
            #expect(try await dependencies.stations.station("CP1")?.configuration?["HeartbeatInterval"] == "300")

            // A payload that breaks the action's schema is refused before anything is sent, naming the field.
            do {
                _ = try await commands.passthrough(
                    "ChangeAvailability", payload: .object(JSONObject([("connectorId", .int(0)), ("type", .string("Sometimes"))])),
                    to: "CP1")
                Issue.record("an invalid availability type was sent")
            } catch let error as CommandError {
                #expect(error.kind == .invalid && error.fields.map(\.field) == ["type"], "\(error)")
            }
            #expect(try await charger.channel.readOutbound(as: WebSocketFrame.self) == nil, "nothing was sent")
            await charger.close()
        }
    }
}
