import Foundation
import OCPP
import Testing

@Suite("Generated OCPP types")
struct OCPPGeneratedTypesTests {
    private func object(_ text: String) throws -> JSONValue { try JSONParser.parse(text) }

    /// What validating the text as a T reports, or nil when it is valid.
    private func failure<T: OCPPJSONCodable>(_ type: T.Type, _ text: String) throws -> OCPPValidationError? {
        let json = try object(text)
        do {
            _ = try T(json: json)
            return nil
        } catch {
            return error
        }
    }

    @Test("BootNotification: required and optional fields, lengths checked, a typed response")
    func bootNotification() throws {
        let request = try OCPP16.BootNotification.Request(json: object(#"{"chargePointVendor": "V", "chargePointModel": "M", "firmwareVersion": "1.0"}"#))
        #expect(request == OCPP16.BootNotification.Request(chargePointVendor: "V", chargePointModel: "M", firmwareVersion: "1.0"))
        #expect(OCPP16.BootNotification.name == "BootNotification")
        #expect(OCPP16.BootNotification.initiator == .chargePoint)
        let response = OCPP16.BootNotification.Response(
            status: .accepted, currentTime: OCPPDateTime(Date(timeIntervalSince1970: 1_772_355_600)), interval: 300)
        #expect(JSONWriter.string(response.json) == #"{"status":"Accepted","currentTime":"2026-03-01T09:00:00.000Z","interval":300}"#)
        #expect(throws: OCPPValidationError(code: .typeConstraintViolation, path: "chargePointVendor", reason: "is longer than 20 characters")) {
            try OCPP16.BootNotification.Request(json: object(#"{"chargePointVendor": "\#(String(repeating: "v", count: 21))", "chargePointModel": "M"}"#))
        }
    }

    @Test("MeterValues: nested meterValue and sampledValue types, enums with the exact raw values, paths into arrays")
    func meterValues() throws {
        let text = #"{"connectorId": 1, "meterValue": [{"timestamp": "2026-03-01T10:00:00Z", "sampledValue": [{"value": "12.5", "measurand": "Energy.Active.Import.Register", "unit": "kWh", "phase": "L1-N"}]}]}"#
        let request = try OCPP16.MeterValues.Request(json: object(text))
        let sample = try #require(request.meterValue.first?.sampledValue.first)
        #expect(sample.measurand == .energyActiveImportRegister)
        #expect(sample.unit == .kWh)
        #expect(sample.phase == .l1N)
        #expect(OCPP16.MeterValues.Request.MeterValue.SampledValue.Measurand.energyActiveImportRegister.rawValue == "Energy.Active.Import.Register")
        let bad = text.replacingOccurrences(of: "\"kWh\"", with: "\"kwh\"")
        let error = try #require(try failure(OCPP16.MeterValues.Request.self, bad))
        #expect(error.code == .propertyConstraintViolation)
        #expect(error.path == "meterValue[0].sampledValue[0].unit")
    }

    @Test("an extra field anywhere is a FormationViolation naming it")
    func extraField() throws {
        let error = try #require(try failure(
            OCPP16.MeterValues.Request.self,
            #"{"connectorId": 1, "meterValue": [{"timestamp": "2026-03-01T10:00:00Z", "sampledValue": [{"value": "1", "colour": "red"}]}]}"#))
        #expect(error.code == .formationViolation)
        #expect(error.path == "meterValue[0].sampledValue[0].colour")
    }

    /// minItems/maxItems and the error paths: OCPPConstraintTests.
    @Test("one Table 7 code per constraint kind", arguments: [
        // required
        (#"{"connectorId": 1}"#, OCPPErrorCode.protocolError),
        // additionalProperties: false
        (#"{"connectorId": 1, "csChargingProfiles": {}, "x": 1}"#, .formationViolation),
        // type
        (#"{"connectorId": "1", "csChargingProfiles": {}}"#, .typeConstraintViolation),
        // minimum (specification text)
        (#"{"connectorId": -1, "csChargingProfiles": {}}"#, .propertyConstraintViolation),
        // enum
        (#"{"connectorId": 1, "csChargingProfiles": {"chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "Other", "chargingProfileKind": "Absolute", "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}]}}}"#, .propertyConstraintViolation),
        // multipleOf
        (#"{"connectorId": 1, "csChargingProfiles": {"chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Absolute", "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7.45}]}}}"#, .propertyConstraintViolation),
        // date-time
        (#"{"connectorId": 1, "csChargingProfiles": {"chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Absolute", "validFrom": "soon", "chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7.4}]}}}"#, .typeConstraintViolation),
    ])
    func constraintKinds(text: String, expected: OCPPErrorCode) throws {
        #expect(try failure(OCPP16.SetChargingProfile.Request.self, text)?.code == expected)
    }

    @Test("2.0.1: maxItems, maximum and open customData objects")
    func ocpp201() throws {
        #expect(OCPP201.subprotocol == "ocpp2.0.1")
        #expect(OCPP201.allActions.count == 64)
        let boot = try OCPP201.BootNotification.Request(
            json: object(#"{"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V", "customData": {"vendorId": "X", "anything": [1]}}}"#))
        #expect(boot.chargingStation.customData?.extra["anything"] == .array([.int(1)]))
        #expect(try OCPP201.BootNotification.Request(json: boot.json) == boot)
        let closed = #"{"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V", "x": 1}}"#
        #expect(try failure(OCPP201.BootNotification.Request.self, closed)?.code == .formationViolation)
    }

    @Test("2.0.1: a definition several schema files share is one type at version level, decoded the same everywhere")
    func sharedDefinitions() throws {
        let profileText = #"{"id": 7, "stackLevel": 0, "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Absolute", "chargingSchedule": [{"id": 1, "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}]}]}"#
        let profile = try OCPP201.ChargingProfileType(json: object(profileText))
        let set = try OCPP201.SetChargingProfile.Request(json: object(#"{"evseId": 1, "chargingProfile": \#(profileText)}"#))
        let start = try OCPP201.RequestStartTransaction.Request(
            json: object(#"{"idToken": {"idToken": "A", "type": "ISO14443"}, "remoteStartId": 3, "chargingProfile": \#(profileText)}"#))
        #expect(set.chargingProfile == profile)
        #expect(start.chargingProfile == profile)
        #expect(start.idToken == OCPP201.IdTokenType(idToken: "A", type: .iso14443))
        let missingPeriods = profileText.replacingOccurrences(of: #", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}]"#, with: "")
        let error = try #require(try failure(OCPP201.SetChargingProfile.Request.self, #"{"evseId": 1, "chargingProfile": \#(missingPeriods)}"#))
        #expect(error.code == .protocolError)
        #expect(error.path == "chargingProfile.chargingSchedule[0].chargingSchedulePeriod")
    }

    @Test("round trip: decode, encode, decode gives the same value", arguments: [
        ("Authorize", #"{"idTag": "ABC"}"#, #"{"idTagInfo": {"status": "Accepted", "expiryDate": "2026-03-01T10:00:00.123Z", "parentIdTag": "P"}}"#),
        ("BootNotification", #"{"chargePointVendor": "V", "chargePointModel": "M", "meterType": "T"}"#, #"{"status": "Pending", "currentTime": "2026-03-01T10:00:00Z", "interval": 10}"#),
        ("StartTransaction", #"{"connectorId": 1, "idTag": "A", "meterStart": 0, "timestamp": "2026-03-01T10:00:00+02:00", "reservationId": 3}"#, #"{"transactionId": 5, "idTagInfo": {"status": "Blocked"}}"#),
        ("StopTransaction", #"{"meterStop": 5, "timestamp": "2026-03-01T10:00:00", "transactionId": 1, "reason": "EVDisconnected", "transactionData": [{"timestamp": "2026-03-01T10:00:00Z", "sampledValue": [{"value": "1", "unit": "Celcius"}]}]}"#, #"{}"#),
        ("GetConfiguration", #"{"key": ["A", "B"]}"#, #"{"configurationKey": [{"key": "A", "readonly": true, "value": "1"}], "unknownKey": ["B"]}"#),
        ("SetChargingProfile", #"{"connectorId": 1, "csChargingProfiles": {"chargingProfileId": 1, "stackLevel": 0, "chargingProfilePurpose": "TxProfile", "chargingProfileKind": "Absolute", "chargingSchedule": {"chargingRateUnit": "W", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 7.4, "numberPhases": 3}]}}}"#, #"{"status": "Accepted"}"#),
        ("DataTransfer", #"{"vendorId": "V", "messageId": "M", "data": "x"}"#, #"{"status": "UnknownVendorId", "data": "y"}"#),
        ("DeleteCertificate", #"{"certificateHashData": {"hashAlgorithm": "SHA256", "issuerNameHash": "a", "issuerKeyHash": "b", "serialNumber": "c"}}"#, #"{"status": "Accepted"}"#),
    ])
    func roundTrip(action: String, request: String, response: String) throws {
        let type = try #require(OCPPFrameTests.actions[action])
        try Self.roundTrip(type, request: object(request), response: object(response))
    }

    static func roundTrip<A: OCPPAction>(_ action: A.Type, request: JSONValue, response: JSONValue) throws {
        let decodedRequest = try A.Request(json: request)
        #expect(try A.Request(json: decodedRequest.json) == decodedRequest)
        let decodedResponse = try A.Response(json: response)
        #expect(try A.Response(json: decodedResponse.json) == decodedResponse)
        // Codable too, for callers that want it.
        let data = try JSONEncoder().encode(decodedRequest)
        #expect(try JSONDecoder().decode(A.Request.self, from: data) == decodedRequest)
        try decodedRequest.validate()
    }

    @Test("every 1.6 action is listed once, with its request and response")
    func allActions() {
        #expect(OCPP16.subprotocol == "ocpp1.6")
        let names = OCPP16.allActions.map { $0.name }
        #expect(Set(names).count == names.count)
        #expect(names.count == 39, "28 core and profile actions plus the 11 of the security whitepaper")
        #expect(names.contains("SignedUpdateFirmware") && names.contains("ExtendedTriggerMessage"))
    }

    @Test("a value of ours that breaks a constraint is caught before it is sent")
    func outboundValidation() {
        let tooLong = OCPP16.ChangeConfiguration.Request(key: String(repeating: "k", count: 51), value: "1")
        #expect(throws: OCPPValidationError(code: .typeConstraintViolation, path: "key", reason: "is longer than 50 characters")) {
            try tooLong.validate()
        }
    }
}
