import Foundation
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Synchronization
import Testing

@testable import Server

@Suite("OCPP framing, validation and the outbound queue")
struct OCPPTests {
    /// Parses and validates one inbound frame as the server does; the OCPP error code, or nil.
    private func errorCode(_ text: String) -> String? {
        do {
            let frame = try OCPPFrame.parse(text)
            guard case .call(_, let action, let payload) = frame else { return nil }
            guard let schema = OCPPSchemas.chargePointRequests[action] else {
                return OCPPSchemas.centralSystemRequests[action] != nil ? "NotSupported" : "NotImplemented"
            }
            try schema.validate(payload)
            return nil
        } catch let error as OCPPFrame.FrameError {
            return error.error.code.rawValue
        } catch let error as OCPPError {
            return error.code.rawValue
        } catch {
            return "unexpected \(error)"
        }
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
    func errorCodes(frame: String, expected: String) {
        #expect(errorCode(frame) == expected)
    }

    @Test("valid frames pass: both temperature spellings, optional StopTransaction reason, a null payload")
    func validFrames() {
        #expect(errorCode("[2, \"id\", \"Heartbeat\", null]") == nil)
        #expect(errorCode("[2, \"id\", \"StopTransaction\", {\"meterStop\": 5, \"timestamp\": \"2026-01-01T00:00:00\", \"transactionId\": 1}]") == nil)
        for unit in ["Celsius", "Celcius"] {
            let frame = "[2, \"id\", \"MeterValues\", {\"connectorId\": 1, \"meterValue\": [{\"timestamp\": \"2026-01-01T00:00:00.1Z\", \"sampledValue\": [{\"value\": \"21\", \"measurand\": \"Temperature\", \"unit\": \"\(unit)\"}]}]}]"
            #expect(errorCode(frame) == nil)
        }
        guard case .unknownType(7) = try! OCPPFrame.parse("[7, \"id\", {}]") else {
            Issue.record("an unknown MessageTypeId is recognised as such")
            return
        }
    }

    @Test("frames are written as OCPP-J arrays; a CALLERROR always has details {}")
    func encoding() throws {
        let error = OCPPFrame.encodeError(id: "m1", OCPPError(code: .occurenceConstraintViolation, description: "x"))
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(error.utf8)) as? [Any])
        #expect(parsed.count == 5)
        #expect(parsed[2] as? String == "OccurenceConstraintViolation")
        #expect((parsed[4] as? [String: Any])?.isEmpty == true)
        #expect(OCPPFrame.encodeResult(id: "a/b", payload: [:]) == "[3,\"a/b\",{}]")
        #expect(OCPPTime.format(OCPPTime.parse("2026-03-01T10:15:53.123456+02:00")!) == "2026-03-01T08:15:53.123Z")
    }

    @Test("energy and power are normalised to Wh and W from their units")
    func meterNormalisation() {
        #expect(ChargePointHandler.normalize("1.5", measurand: "Energy.Active.Import.Register", unit: "kWh", format: nil) == 1500)
        #expect(ChargePointHandler.normalize("1500.4", measurand: "Energy.Active.Import.Register", unit: nil, format: nil) == 1500)
        #expect(ChargePointHandler.normalize("11", measurand: "Power.Active.Import", unit: "kW", format: nil) == 11_000)
        #expect(ChargePointHandler.normalize("21", measurand: "Temperature", unit: "Celsius", format: nil) == nil)
        #expect(ChargePointHandler.normalize("abc", measurand: "Energy.Active.Import.Register", unit: "Wh", format: nil) == nil)
        #expect(ChargePointHandler.normalize("00ff", measurand: "Energy.Active.Import.Register", unit: "Wh", format: "SignedData") == nil)
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

    @Test("one CALL in flight at a time, in order; the next goes when the first is answered")
    func oneInFlight() async throws {
        let sent = SentFrames()
        let queue = OutboundCalls(capacity: 4, timeout: .seconds(5), send: { sent.append($0) })
        async let first = queue.call("Reset", payload: #"{"type":"Soft"}"#)
        await waitFor { sent.all.count == 1 }
        async let second = queue.call("ClearCache", payload: "{}")
        try await Task.sleep(for: .milliseconds(50))
        #expect(sent.all.count == 1, "the second waits")
        #expect(await queue.depth == 2)
        let firstID = try #require(sent.id(0))
        #expect(await queue.receive(id: firstID, outcome: .result(#"{"status":"Accepted"}"#)))
        await waitFor { sent.all.count == 2 }
        #expect(sent.all[1].contains("\"ClearCache\""))
        #expect(await queue.receive(id: try #require(sent.id(1)), outcome: .error(code: "NotSupported", description: "no")))
        #expect(try await first == .result(#"{"status":"Accepted"}"#))
        #expect(try await second == .error(code: "NotSupported", description: "no"))
    }

    @Test("a timed-out call fails; its late answer is dropped and never given to the next call")
    func timeoutAndLateResult() async throws {
        let sent = SentFrames()
        let queue = OutboundCalls(capacity: 4, timeout: .milliseconds(100), send: { sent.append($0) })
        await #expect(throws: OutboundCallError.timedOut) { try await queue.call("Reset", payload: "{}") }
        let lateID = try #require(sent.id(0))
        async let next = queue.call("ClearCache", payload: "{}")
        await waitFor { sent.all.count == 2 }
        #expect(await queue.receive(id: lateID, outcome: .result(#"{"status":"Late"}"#)) == false)
        #expect(await queue.receive(id: try #require(sent.id(1)), outcome: .result(#"{"status":"Accepted"}"#)))
        #expect(try await next == .result(#"{"status":"Accepted"}"#))
    }

    @Test("a full queue refuses at once; closing fails everything waiting")
    func fullQueueAndClose() async throws {
        let sent = SentFrames()
        let queue = OutboundCalls(capacity: 1, timeout: .seconds(5), send: { sent.append($0) })
        let inFlight = Task { try await queue.call("Reset", payload: "{}") }
        await waitFor { sent.all.count == 1 }
        let waiting = Task { try await queue.call("Reset", payload: "{}") }
        await waitFor { await queue.depth == 2 }
        await #expect(throws: OutboundCallError.queueFull) { try await queue.call("Reset", payload: "{}") }
        await queue.close()
        await #expect(throws: OutboundCallError.notConnected) { try await inFlight.value }
        await #expect(throws: OutboundCallError.notConnected) { try await waiting.value }
        await #expect(throws: OutboundCallError.notConnected) { try await queue.call("Reset", payload: "{}") }
    }

    @Test("a new connection for an identity replaces the old one; the old one's exit does not remove the new")
    func sessionReplacement() async throws {
        let registry = ChargePointRegistry()
        let channel = NIOAsyncTestingChannel()
        let asyncChannel = try await channel.testingEventLoop.executeInContext {
            try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(wrappingChannelSynchronously: channel)
        }
        try await asyncChannel.executeThenClose { _, outbound in
            func connection() -> ChargePointConnection {
                ChargePointConnection(
                    chargePointID: "CP1", writer: outbound, registration: .accepted, connectedAt: Date(), outboundCapacity: 1,
                    callTimeout: .seconds(1), observe: { _, _, _ in })
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
        }
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
            let asyncChannel = try await channel.testingEventLoop.executeInContext {
                try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(wrappingChannelSynchronously: channel)
            }
            try await asyncChannel.executeThenClose { _, outbound in
                let connection = ChargePointConnection(
                    chargePointID: "CP1", writer: outbound, registration: .accepted, connectedAt: Date(), outboundCapacity: 1,
                    callTimeout: .seconds(1), observe: { _, _, _ in })
                let handler = dependencies.ocpp.handler
                let start: [String: Any] = ["connectorId": 1, "idTag": "GOOD", "meterStart": 100, "timestamp": "2026-03-10T09:00:00Z"]
                let first = try await handler.handle("StartTransaction", start, connection: connection)
                let retry = try await handler.handle("StartTransaction", start, connection: connection)
                #expect(first["transactionId"] as? Int == retry["transactionId"] as? Int)
                #expect((retry["idTagInfo"] as? [String: Any])?["status"] as? String == "Accepted")

                let refused = try await handler.handle(
                    "StartTransaction", ["connectorId": 2, "idTag": "UNKNOWN", "meterStart": 0, "timestamp": "2026-03-10T09:05:00Z"],
                    connection: connection)
                let refusedID = try #require(refused["transactionId"] as? Int)
                #expect((refused["idTagInfo"] as? [String: Any])?["status"] as? String == "Invalid")
                let session = try #require(try await dependencies.sessions.session(transactionID: refusedID))
                #expect(session.status == .rejected)
                // Its StopTransaction matches and closes nothing that was charging.
                _ = try await handler.handle(
                    "StopTransaction", ["meterStop": 0, "timestamp": "2026-03-10T09:06:00Z", "transactionId": refusedID],
                    connection: connection)
                #expect(try await dependencies.sessions.session(transactionID: refusedID)?.stoppedAt != nil)
            }
        }
    }
}
