import OCPP
import Testing

/// The same inputs and codes as the server's OCPPTests table, through the new codec and the
/// generated 1.6 validators.
@Suite("OCPP-J frame codec and Table 7 codes")
struct OCPPFrameTests {
    static let actions: [String: any OCPPAction.Type] = Dictionary(uniqueKeysWithValues: OCPP16.allActions.map { ($0.name, $0) })

    /// Decodes and validates one inbound CALL as a central system does; the error code, or nil.
    static func errorCode(_ text: String) -> String? {
        let frame: OCPPFrame
        do {
            frame = try OCPPFrame.decode(text)
        } catch {
            return error.code.rawValue
        }
        guard case .call(_, let name, let payload) = frame else { return nil }
        guard let action = actions[name], action.initiator != .centralSystem else {
            return actions[name] != nil ? "NotSupported" : "NotImplemented"
        }
        do {
            try validateRequest(action, payload)
            return nil
        } catch {
            return error.code.rawValue
        }
    }

    static func validateRequest<A: OCPPAction>(_ action: A.Type, _ payload: JSONObject) throws(OCPPValidationError) {
        _ = try A.Request(json: .object(payload))
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
            ("[true, \"id\", \"Heartbeat\", {}]", "FormationViolation"),
            ("[2.5, \"id\", \"Heartbeat\", {}]", "FormationViolation"),
            ("[2, \"id\", \"Authorize\", {}]", "ProtocolError"),
            ("[2, \"id\", \"MeterValues\", {\"connectorId\": 1, \"meterValue\": []}]", "OccurenceConstraintViolation"),
            ("[2, \"id\", \"MeterValues\", {\"connectorId\": 1, \"meterValue\": [{\"timestamp\": \"2026-01-01T00:00:00Z\", \"sampledValue\": []}]}]", "OccurenceConstraintViolation"),
            ("[2, \"id\", \"Authorize\", {\"idTag\": 12}]", "TypeConstraintViolation"),
            ("[2, \"id\", \"Authorize\", {\"idTag\": \"123456789012345678901\"}]", "TypeConstraintViolation"),
            ("[2, \"id\", \"StartTransaction\", {\"connectorId\": 1.5, \"idTag\": \"A\", \"meterStart\": 0, \"timestamp\": \"2026-01-01T00:00:00Z\"}]", "TypeConstraintViolation"),
            ("[2, \"id\", \"StartTransaction\", {\"connectorId\": true, \"idTag\": \"A\", \"meterStart\": 0, \"timestamp\": \"2026-01-01T00:00:00Z\"}]", "TypeConstraintViolation"),
            ("[2, \"id\", \"StartTransaction\", {\"connectorId\": 1, \"idTag\": \"A\", \"meterStart\": 0, \"timestamp\": \"yesterday\"}]", "TypeConstraintViolation"),
            ("[2, \"id\", \"StatusNotification\", {\"connectorId\": 1, \"errorCode\": \"Broken\", \"status\": \"Available\"}]", "PropertyConstraintViolation"),
            ("[2, \"id\", \"StartTransaction\", {\"connectorId\": 0, \"idTag\": \"A\", \"meterStart\": 0, \"timestamp\": \"2026-01-01T00:00:00Z\"}]", "PropertyConstraintViolation"),
            ("[2, \"id\", \"DoSomething\", {}]", "NotImplemented"),
            ("[2, \"id\", \"RemoteStartTransaction\", {\"idTag\": \"A\"}]", "NotSupported"),
        ])
    func errorCodes(frame: String, expected: String) {
        #expect(Self.errorCode(frame) == expected)
    }

    @Test("a null payload counts as {}; an unknown MessageTypeId is recognised; CALLRESULT and CALLERROR decode")
    func frameKinds() throws {
        #expect(Self.errorCode("[2, \"id\", \"Heartbeat\", null]") == nil)
        #expect(try OCPPFrame.decode("[7, \"id\", {}]") == .unknownType(7))
        #expect(try OCPPFrame.decode("[3, \"m1\", {\"status\": \"Accepted\"}]") == .callResult(id: "m1", payload: JSONObject([("status", .string("Accepted"))])))
        #expect(try OCPPFrame.decode("[4, \"m1\", \"NotSupported\", \"no\", null]") == .callError(id: "m1", code: "NotSupported", description: "no", details: JSONObject()))
        #expect(throws: OCPPFrame.DecodingError.self) { try OCPPFrame.decode("[3, \"m1\", {}, {}]") }
        do {
            _ = try OCPPFrame.decode("[2, \"m9\", \"Heartbeat\"]")
            Issue.record("a short CALL is refused")
        } catch {
            #expect(error.messageID == "m9", "the CALLERROR can name the message")
        }
    }

    @Test("frames are written as compact OCPP-J arrays; a CALLERROR always has details {}")
    func encoding() {
        let error = OCPPValidationError(code: .occurenceConstraintViolation, path: "meterValue", reason: "has 0 items; allowed: 1…")
        #expect(OCPPFrame.callError(id: "m1", error).text == #"[4,"m1","OccurenceConstraintViolation","meterValue has 0 items; allowed: 1…",{}]"#)
        #expect(OCPPFrame.callResult(id: "a/b", payload: JSONObject()).text == "[3,\"a/b\",{}]")
        let call = OCPP16.Heartbeat.Request()
        guard case .object(let payload) = call.json else { Issue.record("a payload is an object"); return }
        #expect(OCPPFrame.call(id: "1", action: OCPP16.Heartbeat.name, payload: payload).text == #"[2,"1","Heartbeat",{}]"#)
    }
}
