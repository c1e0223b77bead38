import Foundation
import OCPP
import Testing

/// One payload breaking one constraint, and what the generated validator must answer: the OCPP-J
/// Table 7 code the server's hand-written schema table (Sources/Server/OCPP/OCPPSchema.swift) gave,
/// and the path of the field.
struct Violation: Sendable, CustomTestStringConvertible {
    var action: String
    var response = false
    var version = "v16"
    var payload: String
    var code: OCPPErrorCode
    var path: String
    var testDescription: String { "\(code.rawValue) at \(path.isEmpty ? "payload" : path) (\(version) \(action)\(response ? " response" : ""))" }
}

@Suite("Table 7 codes from the generated validators")
struct OCPPConstraintTests {
    static let meterValue = #"{"timestamp": "2026-03-01T10:00:00Z", "sampledValue": [{"value": "1"}, SAMPLE]}"#
    static func meterValues(sample: String = #"{"value": "2", "unit": "kWh"}"#, timestamp: String = "2026-03-01T10:00:00Z") -> String {
        #"{"connectorId": 1, "meterValue": [\#(meterValue.replacingOccurrences(of: "SAMPLE", with: sample).replacingOccurrences(of: "2026-03-01T10:00:00Z", with: timestamp))]}"#
    }
    static func start(connectorId: String = "1", idTag: String = #""A""#, timestamp: String = #""2026-03-01T10:00:00Z""#) -> String {
        #"{"connectorId": \#(connectorId), "idTag": \#(idTag), "meterStart": 0, "timestamp": \#(timestamp)}"#
    }
    static func profile(periods: String = #"[{"startPeriod": 0, "limit": 7.4}]"#) -> String {
        #"{"connectorId": 1, "csChargingProfiles": {"chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Absolute", "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": \#(periods)}}}"#
    }
    static func stop(sampledValue: String = #"[{"value": "1"}]"#) -> String {
        #"{"meterStop": 5, "timestamp": "2026-03-01T10:00:00Z", "transactionId": 1, "transactionData": [{"timestamp": "2026-03-01T10:00:00Z", "sampledValue": \#(sampledValue)}]}"#
    }
    static func needs(stateOfCharge: Int = 100) -> String {
        #"{"evseId": 1, "chargingNeeds": {"requestedEnergyTransfer": "DC", "dcChargingParameters": {"evMaxCurrent": 1, "evMaxVoltage": 1, "stateOfCharge": \#(stateOfCharge)}}}"#
    }
    static func profile201(schedules: Int = 3) -> String {
        let schedule = #"{"id": 1, "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}]}"#
        let list = Array(repeating: schedule, count: schedules).joined(separator: ", ")
        return #"{"evseId": 1, "chargingProfile": {"id": 7, "stackLevel": 0, "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Absolute", "chargingSchedule": [\#(list)]}}"#
    }

    static let violations: [Violation] = [
        // additionalProperties: false — FormationViolation, the unknown member named; the first in name order.
        Violation(action: "Heartbeat", payload: #"{"extra": 1}"#, code: .formationViolation, path: "extra"),
        Violation(action: "MeterValues", payload: meterValues(sample: #"{"value": "2", "colour": "red"}"#), code: .formationViolation,
                  path: "meterValue[0].sampledValue[1].colour"),
        Violation(action: "Authorize", payload: #"{"idTag": "A", "zz": 1, "aa": 2}"#, code: .formationViolation, path: "aa"),
        // An unknown member is reported before a missing one, as the old table did.
        Violation(action: "Authorize", payload: #"{"x": 1}"#, code: .formationViolation, path: "x"),
        // required — ProtocolError ("payload incomplete"), as the server has always answered.
        Violation(action: "Authorize", payload: "{}", code: .protocolError, path: "idTag"),
        Violation(action: "MeterValues", payload: meterValues(sample: #"{"unit": "Wh"}"#), code: .protocolError,
                  path: "meterValue[0].sampledValue[1].value"),
        Violation(action: "StartTransaction", response: true, payload: #"{"transactionId": 1, "idTagInfo": {}}"#, code: .protocolError,
                  path: "idTagInfo.status"),
        // type — TypeConstraintViolation.
        Violation(action: "MeterValues", payload: meterValues(sample: #"{"value": 2}"#), code: .typeConstraintViolation,
                  path: "meterValue[0].sampledValue[1].value"),
        Violation(action: "StartTransaction", payload: start(connectorId: "1.5"), code: .typeConstraintViolation, path: "connectorId"),
        Violation(action: "StartTransaction", payload: start(connectorId: "true"), code: .typeConstraintViolation, path: "connectorId"),
        Violation(action: "StartTransaction", payload: start(idTag: "null"), code: .typeConstraintViolation, path: "idTag"),
        Violation(action: "StartTransaction", response: true, payload: #"{"transactionId": 1, "idTagInfo": "Accepted"}"#,
                  code: .typeConstraintViolation, path: "idTagInfo"),
        Violation(action: "MeterValues", payload: #"{"connectorId": 1, "meterValue": {}}"#, code: .typeConstraintViolation, path: "meterValue"),
        // maxLength — TypeConstraintViolation (Table 7: "too long a string"), also for an item of a string array.
        Violation(action: "Authorize", payload: #"{"idTag": "123456789012345678901"}"#, code: .typeConstraintViolation, path: "idTag"),
        Violation(action: "GetConfiguration", payload: #"{"key": ["A", "\#(String(repeating: "k", count: 51))"]}"#,
                  code: .typeConstraintViolation, path: "key[1]"),
        // minimum, maximum, enum, multipleOf — PropertyConstraintViolation.
        Violation(action: "StartTransaction", payload: start(connectorId: "0"), code: .propertyConstraintViolation, path: "connectorId"),
        Violation(action: "NotifyEVChargingNeeds", version: "v201", payload: needs(stateOfCharge: 101), code: .propertyConstraintViolation,
                  path: "chargingNeeds.dcChargingParameters.stateOfCharge"),
        Violation(action: "StatusNotification", payload: #"{"connectorId": 1, "errorCode": "Broken", "status": "Available"}"#,
                  code: .propertyConstraintViolation, path: "errorCode"),
        Violation(action: "MeterValues", payload: meterValues(sample: #"{"value": "2", "unit": "kwh"}"#), code: .propertyConstraintViolation,
                  path: "meterValue[0].sampledValue[1].unit"),
        Violation(action: "SetChargingProfile", payload: profile(periods: #"[{"startPeriod": 0, "limit": 7.45}]"#),
                  code: .propertyConstraintViolation, path: "csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit"),
        // minItems, maxItems — OccurenceConstraintViolation.
        Violation(action: "MeterValues", payload: #"{"connectorId": 1, "meterValue": []}"#, code: .occurenceConstraintViolation, path: "meterValue"),
        Violation(action: "MeterValues", payload: meterValues().replacingOccurrences(of: #"[{"value": "1"}, {"value": "2", "unit": "kWh"}]"#, with: "[]"),
                  code: .occurenceConstraintViolation, path: "meterValue[0].sampledValue"),
        Violation(action: "SetChargingProfile", payload: profile(periods: "[]"), code: .occurenceConstraintViolation,
                  path: "csChargingProfiles.chargingSchedule.chargingSchedulePeriod"),
        Violation(action: "StopTransaction", payload: stop(sampledValue: "[]"), code: .occurenceConstraintViolation,
                  path: "transactionData[0].sampledValue"),
        Violation(action: "SetChargingProfile", version: "v201", payload: profile201(schedules: 4), code: .occurenceConstraintViolation,
                  path: "chargingProfile.chargingSchedule"),
        // format: date-time — TypeConstraintViolation.
        Violation(action: "StartTransaction", payload: start(timestamp: #""yesterday""#), code: .typeConstraintViolation, path: "timestamp"),
        Violation(action: "StartTransaction", payload: start(timestamp: #""2026-02-30T10:00:00Z""#), code: .typeConstraintViolation, path: "timestamp"),
        Violation(action: "MeterValues", payload: meterValues(timestamp: "2026-13-01T10:00:00Z"), code: .typeConstraintViolation,
                  path: "meterValue[0].timestamp"),
    ]

    /// The payloads the violations are made from, each valid: so each violation fails for its own reason.
    static let valid: [Violation] = [
        Violation(action: "MeterValues", payload: meterValues(), code: .genericError, path: ""),
        Violation(action: "StartTransaction", payload: start(), code: .genericError, path: ""),
        Violation(action: "StartTransaction", payload: start(idTag: #""12345678901234567890""#), code: .genericError, path: ""),
        Violation(action: "SetChargingProfile", payload: profile(), code: .genericError, path: ""),
        Violation(action: "StopTransaction", payload: stop(), code: .genericError, path: ""),
        Violation(action: "NotifyEVChargingNeeds", version: "v201", payload: needs(), code: .genericError, path: ""),
        Violation(action: "SetChargingProfile", version: "v201", payload: profile201(), code: .genericError, path: ""),
        Violation(action: "GetConfiguration", payload: #"{"key": ["A", "\#(String(repeating: "k", count: 50))"]}"#, code: .genericError, path: ""),
    ]

    static let actions16: [String: any OCPPAction.Type] = Dictionary(uniqueKeysWithValues: OCPP16.allActions.map { ($0.name, $0) })
    static let actions201: [String: any OCPPAction.Type] = Dictionary(uniqueKeysWithValues: OCPP201.allActions.map { ($0.name, $0) })

    /// What validating the case's payload reports, or nil when it is valid.
    static func failure(_ violation: Violation) throws -> OCPPValidationError? {
        let action = try #require((violation.version == "v16" ? actions16 : actions201)[violation.action])
        let json = try JSONParser.parse(violation.payload)
        return failure(action, json, response: violation.response)
    }

    static func failure<A: OCPPAction>(_ action: A.Type, _ json: JSONValue, response: Bool) -> OCPPValidationError? {
        do {
            if response { _ = try A.Response(json: json) } else { _ = try A.Request(json: json) }
            return nil
        } catch {
            return error
        }
    }

    @Test("each constraint kind gives its Table 7 code and names the field", arguments: violations)
    func violation(_ violation: Violation) throws {
        let error = try #require(try Self.failure(violation), "accepted")
        #expect(error.code == violation.code)
        #expect(error.path == violation.path)
    }

    @Test("the payloads the violations are made from are valid", arguments: valid)
    func validBase(_ base: Violation) throws {
        #expect(try Self.failure(base) == nil)
    }

    @Test("a missing member is worded as the server words it (\"payload incomplete\")")
    func wording() throws {
        let error = try #require(try Self.failure(Violation(action: "Authorize", payload: "{}", code: .protocolError, path: "idTag")))
        #expect(error.description == "payload incomplete: idTag is required")
    }
}
