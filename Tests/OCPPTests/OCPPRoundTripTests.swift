import Foundation
import OCPP
import Testing

/// Every 1.6 action's request and response, and a handful of 2.0.1 ones, from the sample payloads in
/// Tests/interop/ocpp_samples (test_ocpp_samples.py checks them against the official schemas and that
/// the 1.6 ones set every property somewhere), decoded and encoded both ways.
@Suite("OCPP round trips")
struct OCPPRoundTripTests {
    static let samplesFolder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("interop/ocpp_samples")

    static func samples(_ version: String) throws -> JSONObject {
        let text = try String(contentsOf: samplesFolder.appendingPathComponent("\(version).json"), encoding: .utf8)
        return try JSONObject.payload(JSONParser.parse(text))
    }

    static let ocpp201Actions: [String: any OCPPAction.Type] = Dictionary(
        uniqueKeysWithValues: OCPP201.allActions.map { ($0.name, $0) })

    @Test("every 1.6 action has a sample and nothing else does")
    func coverage() throws {
        let names = try Self.samples("v16").members.map(\.key)
        #expect(names.sorted() == OCPP16.allActions.map { $0.name }.sorted())
    }

    @Test("1.6: request and response decode, encode and decode again to the same value", arguments: OCPP16.allActions.map { $0.name })
    func ocpp16(action: String) throws {
        let type = try #require(OCPPFrameTests.actions[action])
        let sample = try #require(try Self.samples("v16")[action], "no sample for \(action)")
        try Self.roundTrip(type, sample)
    }

    @Test(
        "2.0.1: request and response decode, encode and decode again to the same value",
        arguments: ["Authorize", "BootNotification", "DataTransfer", "GetVariables", "MeterValues", "NotifyReport", "SetChargingProfile",
                    "TransactionEvent"])
    func ocpp201(action: String) throws {
        let type = try #require(Self.ocpp201Actions[action])
        let sample = try #require(try Self.samples("v201")[action], "no sample for \(action)")
        try Self.roundTrip(type, sample)
    }

    @Test("2.0.1: customData keeps vendor members beyond its schema, through JSONWriter and through Codable")
    func openObjects() throws {
        let sample = try #require(try Self.samples("v201")["TransactionEvent"])
        let request = try OCPP201.TransactionEvent.Request(json: #require(try JSONObject.payload(sample)["request"]))
        let note = JSONValue.object(JSONObject([("kept", .array([.int(1), .string("two")]))]))
        #expect(request.customData?.extra["vendorNote"] == note)
        let decoded = try JSONDecoder().decode(OCPP201.TransactionEvent.Request.self, from: JSONEncoder().encode(request))
        #expect(decoded.customData?.extra["vendorNote"] == note)
    }

    @Test("Codable checks the schema as init(json:) does")
    func codableValidates() throws {
        let tooLong = Data(#"{"idTag": "123456789012345678901"}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(OCPP16.Authorize.Request.self, from: tooLong) }
        let extra = Data(#"{"idTag": "A", "colour": "red"}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(OCPP16.Authorize.Request.self, from: extra) }
    }

    static func roundTrip<A: OCPPAction>(_ action: A.Type, _ sample: JSONValue) throws {
        let pair = try JSONObject.payload(sample)
        try check(A.Request.self, #require(pair["request"]))
        try check(A.Response.self, #require(pair["response"]))
    }

    static func check<P: OCPPPayload>(_ type: P.Type, _ wire: JSONValue) throws {
        let value = try P(json: wire)
        #expect(canonical(value.json) == canonical(wire), "every member is kept, none is added")
        #expect(try P(json: JSONParser.parse(JSONWriter.string(value.json))) == value)
        try value.validate()

        let encoded = try JSONEncoder().encode(value)
        #expect(try JSONDecoder().decode(P.self, from: encoded) == value)
        #expect(canonical(try JSONParser.parse(String(decoding: encoded, as: UTF8.self))) == canonical(wire), "Codable writes the wire form")
        #expect(try JSONDecoder().decode(P.self, from: Data(JSONWriter.bytes(wire))) == value, "Codable reads the wire form")
    }

    /// The same JSON up to member order and to how a number is spelled (`16` and `16.0`).
    static func canonical(_ value: JSONValue) -> JSONValue {
        switch value {
        case .int(let number): .double(Double(number))
        case .array(let items): .array(items.map(canonical))
        case .object(let object):
            .object(JSONObject(object.members.sorted { $0.key < $1.key }.map { ($0.key, canonical($0.value)) }))
        default: value
        }
    }
}
