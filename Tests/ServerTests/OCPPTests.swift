import Foundation
import NIOCore
import NIOEmbedded
import NIOWebSocket
import OCPP
import Synchronization
import Testing

@testable import Server

@Suite("OCPP framing, validation and the outbound queue")
struct OCPPTests {
    /// Sends one text frame through the server's dispatch path (`OCPPService.process`) on a fresh
    /// connection and returns what the server wrote back, as an OCPP-J array.
    static func reply(to frame: String, dependencies: AppDependencies, id: String = "CP1") async throws -> [JSONValue] {
        let channel = NIOAsyncTestingChannel()
        let connection = dependencies.ocpp.makeConnection(
            chargePointID: id, subprotocol: "ocpp1.6", channel: channel, registration: .accepted)
        await dependencies.ocpp.process(frame, connection: connection, logger: TestCharger.logger)
        let written = try await channel.nextMessage()
        try? await channel.close()
        return written
    }

    /// The CALLERROR code the server answers `frame` with, or nil for a CALLRESULT.
    static func errorCode(_ frame: String, dependencies: AppDependencies) async throws -> String? {
        let reply = try await reply(to: frame, dependencies: dependencies)
        if reply.first == .int(3) { return nil }
        #expect(reply.count == 5 && reply.first == .int(4), "a CALLERROR is [4, id, code, description, {}]: \(reply)")
        return reply.count > 2 ? reply[2].stringValue : "no code in \(reply)"
    }

    @Test(
        "each malformed frame gets the error code OCPP-J table 7 assigns",
        arguments: [
            ("{not json", "FormationViolation"),
            ("[2, \"id\"]", "FormationViolation"),
            ("{\"type\": 2}", "FormationViolation"),
            ("[2, 17, \"Heartbeat\", {}]", "FormationViolation"),
            ("[2, \"" + String(repeating: "x", count: 37) + "\", \"Heartbeat\", {}]", "FormationViolation"),
            ("[2, \"id\", \"Heartbeat\", {\"extra\": 1}]", "FormationViolation"),
            ("[2, \"id\", \"Heartbeat\", []]", "FormationViolation"),
            ("[2, \"id\", \"Authorize\", {}]", "ProtocolError"),
            ("[2, \"id\", \"MeterValues\", {\"connectorId\": 1, \"meterValue\": []}]", "OccurenceConstraintViolation"),
            ("[2, \"id\", \"MeterValues\", {\"connectorId\": 1, \"meterValue\": [{\"timestamp\": \"2026-01-01T00:00:00Z\", \"sampledValue\": []}]}]", "OccurenceConstraintViolation"),
            ("[2, \"id\", \"Authorize\", {\"idTag\": 12}]", "TypeConstraintViolation"),
            ("[2, \"id\", \"Authorize\", {\"idTag\": \"123456789012345678901\"}]", "TypeConstraintViolation"),
            ("[2, \"id\", \"StartTransaction\", {\"connectorId\": 1.5, \"idTag\": \"A\", \"meterStart\": 0, \"timestamp\": \"2026-01-01T00:00:00Z\"}]", "TypeConstraintViolation"),
            ("[2, \"id\", \"StartTransaction\", {\"connectorId\": true, \"idTag\": \"A\", \"meterStart\": 0, \"timestamp\": \"2026-01-01T00:00:00Z\"}]", "TypeConstraintViolation"),
            ("[2, \"id\", \"StatusNotification\", {\"connectorId\": 1, \"errorCode\": \"Broken\", \"status\": \"Available\"}]", "PropertyConstraintViolation"),
            ("[2, \"id\", \"StartTransaction\", {\"connectorId\": 0, \"idTag\": \"A\", \"meterStart\": 0, \"timestamp\": \"2026-01-01T00:00:00Z\"}]", "PropertyConstraintViolation"),
            ("[2, \"id\", \"DoSomething\", {}]", "NotImplemented"),
            ("[2, \"id\", \"RemoteStartTransaction\", {\"idTag\": \"A\"}]", "NotSupported"),
        ])
    func errorCodes(frame: String, expected: String) async throws {
        try await withApp { _, dependencies async throws in
            #expect(try await Self.errorCode(frame, dependencies: dependencies) == expected, "\(frame)")
        }
    }

    @Test("a CALLERROR names the CALL's message id, or -1 when the frame has none")
    func errorNamesTheMessageID() async throws {
        try await withApp { _, dependencies async throws in
            let named = try await Self.reply(to: #"[2,"m-17","Authorize",{}]"#, dependencies: dependencies)
            #expect(named.count == 5 && named[1] == .string("m-17") && named[4] == .object(JSONObject()))
            let unnamed = try await Self.reply(to: "{not json", dependencies: dependencies)
            #expect(unnamed.count == 5 && unnamed[1] == .string("-1"))
        }
    }

    /// What the 1.6 validator makes of one frame: nil when it decodes and validates as a request.
    private static func validationError(_ text: String) -> OCPPErrorCode? {
        do {
            guard case .call(_, let action, let payload) = try OCPPFrame.decode(text) else { return nil }
            guard let type = OCPP16.allActions.first(where: { $0.name == action }) else { return .notImplemented }
            try validate(type, payload)
            return nil
        } catch let error as OCPPFrame.DecodingError {
            return error.code
        } catch let error as OCPPValidationError {
            return error.code
        } catch {
            return .genericError
        }
    }

    private static func validate<Action: OCPPAction>(_ action: Action.Type, _ payload: JSONObject) throws {
        _ = try Action.Request(json: .object(payload))
    }

    @Test("valid frames pass: both temperature spellings, optional StopTransaction reason, a null payload")
    func validFrames() throws {
        #expect(Self.validationError("[2, \"id\", \"Heartbeat\", null]") == nil)
        #expect(Self.validationError("[2, \"id\", \"StopTransaction\", {\"meterStop\": 5, \"timestamp\": \"2026-01-01T00:00:00\", \"transactionId\": 1}]") == nil)
        for unit in ["Celsius", "Celcius"] {
            let frame = "[2, \"id\", \"MeterValues\", {\"connectorId\": 1, \"meterValue\": [{\"timestamp\": \"2026-01-01T00:00:00.1Z\", \"sampledValue\": [{\"value\": \"21\", \"measurand\": \"Temperature\", \"unit\": \"\(unit)\"}]}]}]"
            #expect(Self.validationError(frame) == nil, "\(unit)")
        }
        #expect(try OCPPFrame.decode("[7, \"id\", {}]") == .unknownType(7), "an unknown MessageTypeId is recognised as such")
    }

    @Test("a valid Heartbeat with a null payload is answered through the dispatch path")
    func heartbeatAnswered() async throws {
        try await withApp { _, dependencies async throws in
            let reply = try await Self.reply(to: #"[2,"hb1","Heartbeat",null]"#, dependencies: dependencies)
            #expect(reply.count == 3 && reply[0] == .int(3) && reply[1] == .string("hb1"))
            #expect(reply.count == 3 && reply[2]["currentTime"]?.stringValue.flatMap(OCPPDateTime.init) != nil, "\(reply)")
        }
    }

    @Test("frames are written as OCPP-J arrays; a CALLERROR always has details {}")
    func encoding() throws {
        let error = OCPPFrame.callError(id: "m1", OCPPValidationError(code: .occurenceConstraintViolation, reason: "x")).text
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(error.utf8)) as? [Any])
        #expect(parsed.count == 5)
        #expect(parsed[2] as? String == "OccurenceConstraintViolation")
        #expect((parsed[4] as? [String: Any])?.isEmpty == true)
        #expect(OCPPFrame.callResult(id: "a/b", payload: JSONObject()).text == "[3,\"a/b\",{}]")
        #expect(OCPPDateTime("2026-03-01T10:15:53.123456+02:00")?.description == "2026-03-01T08:15:53.123Z")
    }

    @Test("energy and power are normalised to Wh and W from their units")
    func meterNormalisation() {
        #expect(ChargerActivity.normalize("1.5", measurand: "Energy.Active.Import.Register", unit: "kWh", format: nil) == 1500)
        #expect(ChargerActivity.normalize("1500.4", measurand: "Energy.Active.Import.Register", unit: nil, format: nil) == 1500)
        #expect(ChargerActivity.normalize("11", measurand: "Power.Active.Import", unit: "kW", format: nil) == 11_000)
        #expect(ChargerActivity.normalize("21", measurand: "Temperature", unit: "Celsius", format: nil) == nil)
        #expect(ChargerActivity.normalize("abc", measurand: "Energy.Active.Import.Register", unit: "Wh", format: nil) == nil)
        #expect(ChargerActivity.normalize("00ff", measurand: "Energy.Active.Import.Register", unit: "Wh", format: "SignedData") == nil)
    }

    /// Collects what the queue sends.
    final class SentFrames: Sendable {
        private let frames = Mutex<[String]>([])
        func append(_ frame: String) { frames.withLock { $0.append(frame) } }
        var all: [String] { frames.withLock { $0 } }
        func id(_ index: Int) -> String? {
            let frame = all.count > index ? all[index] : nil
            return frame.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [Any] }?[1] as? String
        }
    }

    private func waitFor(_ condition: @Sendable () async -> Bool) async {
        for _ in 0..<200 {
            if await condition() { return }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    static let accepted = JSONObject([("status", .string("Accepted"))])
    static let reset = JSONValue.object(JSONObject([("type", .string("Soft"))]))
    static let empty = JSONValue.object(JSONObject())

    /// Hands `queue` a CALLRESULT for `id`, as the channel handler does when one is read.
    private func answer(_ queue: OutboundCalls, _ id: String?, _ answer: CallAnswer) -> Bool {
        guard let id else { return false }
        return queue.receive(id: id, answer: answer, frame: "[3,\"\(id)\",{}]", messageType: 3)
    }

    @Test("one CALL in flight at a time, in order; the next goes when the first is answered")
    func oneInFlight() async throws {
        let sent = SentFrames()
        let queue = OutboundCalls(capacity: 4, timeout: .seconds(5), send: { sent.append($0) })
        async let first = queue.call("Reset", payload: Self.reset)
        await waitFor { sent.all.count == 1 }
        async let second = queue.call("ClearCache", payload: Self.empty)
        // The second call's task may start late on a loaded machine: wait for it to queue, then
        // give it time to (wrongly) go out.
        await waitFor { queue.depth == 2 }
        #expect(queue.depth == 2)
        try await Task.sleep(for: .milliseconds(50))
        #expect(sent.all.count == 1, "the second waits")
        #expect(sent.all.first?.contains(#""Reset",{"type":"Soft"}"#) == true, "\(sent.all)")
        #expect(answer(queue, sent.id(0), .result(Self.accepted)))
        await waitFor { sent.all.count == 2 }
        #expect(sent.all.count == 2 && sent.all[1].contains("\"ClearCache\""))
        #expect(answer(queue, sent.id(1), .error(code: "NotSupported", description: "no")))
        #expect(try await first == .result(Self.accepted))
        #expect(try await second == .error(code: "NotSupported", description: "no"))
    }

    @Test("a timed-out call fails; its late answer is dropped and never given to the next call")
    func timeoutAndLateResult() async throws {
        let sent = SentFrames()
        let queue = OutboundCalls(capacity: 4, timeout: .milliseconds(100), send: { sent.append($0) })
        await #expect(throws: OutboundCallError.timedOut) { try await queue.call("Reset", payload: Self.empty) }
        let lateID = try #require(sent.id(0))
        async let next = queue.call("ClearCache", payload: Self.empty)
        await waitFor { sent.all.count == 2 }
        #expect(answer(queue, lateID, .result(JSONObject([("status", .string("Late"))]))) == false)
        // The message log still names what the late answer was for.
        #expect(queue.lateAction(id: lateID) == "Reset")
        #expect(queue.lateAction(id: "never-sent") == nil)
        #expect(answer(queue, try #require(sent.id(1)), .result(Self.accepted)))
        #expect(try await next == .result(Self.accepted))
    }

    @Test("a full queue refuses at once; closing fails everything waiting")
    func fullQueueAndClose() async throws {
        let sent = SentFrames()
        let queue = OutboundCalls(capacity: 1, timeout: .seconds(5), send: { sent.append($0) })
        let inFlight = Task { try await queue.call("Reset", payload: Self.empty) }
        await waitFor { sent.all.count == 1 }
        let waiting = Task { try await queue.call("Reset", payload: Self.empty) }
        await waitFor { queue.depth == 2 }
        await #expect(throws: OutboundCallError.queueFull) { try await queue.call("Reset", payload: Self.empty) }
        queue.close()
        await #expect(throws: OutboundCallError.notConnected) { try await inFlight.value }
        await #expect(throws: OutboundCallError.notConnected) { try await waiting.value }
        await #expect(throws: OutboundCallError.notConnected) { try await queue.call("Reset", payload: Self.empty) }
    }

    @Test("a new connection for an identity replaces the old one; the old one's exit does not remove the new")
    func sessionReplacement() async throws {
        let registry = ChargePointRegistry()
        let channel = NIOAsyncTestingChannel()
        func connection() -> ChargePointConnection {
            ChargePointConnection(
                chargePointID: "CP1", subprotocol: "ocpp1.6", channel: channel, registration: .accepted, connectedAt: Date(),
                outboundCapacity: 1, callTimeout: .seconds(1))
        }
        let old = connection()
        let new = connection()
        #expect(registry.register(old) == nil)
        #expect(registry.register(new) === old)
        #expect(registry.connection("CP1") === new)
        #expect(registry.unregister(old) == false)
        #expect(registry.connection("CP1") === new)
        #expect(registry.unregister(new) == true)
        #expect(registry.connection("CP1") == nil)
        try? await channel.close()
    }
}

@Suite("OCPP handlers")
struct OCPPHandlerTests {
    @Test("a retried StartTransaction gets the same transactionId; a refused tag still gets one, recorded as rejected")
    func idempotentStartTransaction() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("CP1"))
            _ = try await client.call(.put, "/api/v1/id-tags/GOOD", token: admin, json: ["status": "Accepted", "maxActiveTransactions": 1])
            let channel = NIOAsyncTestingChannel()
            let connection = dependencies.ocpp.makeConnection(
                chargePointID: "CP1", subprotocol: "ocpp1.6", channel: channel, registration: .accepted)
            /// The CALLRESULT payload the server answers `frame` with.
            func result(_ frame: String) async throws -> JSONValue {
                await dependencies.ocpp.process(frame, connection: connection, logger: TestCharger.logger)
                let reply = try await channel.nextMessage()
                try #require(reply.count == 3 && reply[0] == .int(3), "not a CALLRESULT: \(reply)")
                return reply[2]
            }
            let start = #"{"connectorId":1,"idTag":"GOOD","meterStart":100,"timestamp":"2026-03-10T09:00:00Z"}"#
            let first = try await result(#"[2,"s1","StartTransaction",\#(start)]"#)
            let retry = try await result(#"[2,"s2","StartTransaction",\#(start)]"#)
            #expect(first["transactionId"] != nil && first["transactionId"] == retry["transactionId"])
            #expect(retry["idTagInfo"]?["status"] == .string("Accepted"))

            let refused = try await result(
                #"[2,"s3","StartTransaction",{"connectorId":2,"idTag":"UNKNOWN","meterStart":0,"timestamp":"2026-03-10T09:05:00Z"}]"#)
            let refusedID = try #require(refused["transactionId"]?.integerValue)
            #expect(refused["idTagInfo"]?["status"] == .string("Invalid"))
            let session = try #require(try await dependencies.sessions.session(transactionID: refusedID))
            #expect(session.status == .rejected)
            // Its StopTransaction matches and closes nothing that was charging.
            _ = try await result(
                #"[2,"s4","StopTransaction",{"meterStop":0,"timestamp":"2026-03-10T09:06:00Z","transactionId":\#(refusedID)}]"#)
            #expect(try await dependencies.sessions.session(transactionID: refusedID)?.stoppedAt != nil)
            try? await channel.close()
        }
    }

    @Test("StopTransaction's transactionData is stored like MeterValues and moves the session before it closes")
    func stopTransactionData() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("CP1"))
            _ = try await client.call(.put, "/api/v1/id-tags/GOOD", token: admin, json: ["status": "Accepted"])
            let channel = NIOAsyncTestingChannel()
            let connection = dependencies.ocpp.makeConnection(
                chargePointID: "CP1", subprotocol: "ocpp1.6", channel: channel, registration: .accepted)
            func result(_ frame: String) async throws -> JSONValue {
                await dependencies.ocpp.process(frame, connection: connection, logger: TestCharger.logger)
                let reply = try await channel.nextMessage()
                try #require(reply.count == 3 && reply[0] == .int(3), "not a CALLRESULT: \(reply)")
                return reply[2]
            }
            let started = try await result(
                #"[2,"s1","StartTransaction",{"connectorId":1,"idTag":"GOOD","meterStart":1000,"timestamp":"2026-03-10T09:00:00Z"}]"#)
            let transactionID = try #require(started["transactionId"]?.integerValue)
            let data = #"[{"timestamp":"2026-03-10T09:20:00Z","sampledValue":[{"value":"3.5","unit":"kWh"},{"value":"7","measurand":"Power.Active.Import","unit":"kW"}]}]"#
            _ = try await result(
                #"[2,"s2","StopTransaction",{"meterStop":4600,"timestamp":"2026-03-10T09:30:00Z","transactionId":\#(transactionID),"reason":"EVDisconnected","transactionData":\#(data)}]"#)
            try await dependencies.ocpp.recorder.flush()
            let stored = try await dependencies.database.read { connection in
                try connection.query(
                    "SELECT measurand, unit, value, normalized FROM meter_values WHERE transaction_id = ? ORDER BY id", transactionID
                ) { row in
                    "\(try row.get("measurand", as: String.self))|\(try row.get("unit", as: String?.self) ?? "")|\(try row.get("value", as: String.self))|\(try row.get("normalized", as: Int64?.self) ?? -1)"
                }
            }
            #expect(stored == ["Energy.Active.Import.Register|kWh|3.5|3500", "Power.Active.Import|kW|7|7000"])
            let session = try #require(try await dependencies.sessions.session(transactionID: transactionID))
            #expect(session.energyWh == 3600 && session.stopReason == "EVDisconnected")
            try? await channel.close()
        }
    }
}
