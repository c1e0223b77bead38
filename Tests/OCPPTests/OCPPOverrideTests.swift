import Foundation
import OCPP
import Testing

/// Each override in Scripts/generate_ocpp.py's OVERRIDES, applied.
@Suite("Generator overrides")
struct OCPPOverrideTests {
    typealias Unit = OCPP16.MeterValues.Request.MeterValue.SampledValue.Unit

    @Test("both temperature spellings are accepted (1.6 errata)")
    func celsius() throws {
        #expect(Unit(rawValue: "Celsius") == .celsius)
        #expect(Unit(rawValue: "Celcius") == .celcius)
        #expect(OCPP16.StopTransaction.Request.TransactionData.SampledValue.Unit(rawValue: "Celcius") != nil)
    }

    @Test("StopTransaction reason is optional (1.6 errata)")
    func stopReason() throws {
        let request = try OCPP16.StopTransaction.Request(json: JSONParser.parse(#"{"meterStop": 5, "timestamp": "2026-01-01T00:00:00Z", "transactionId": 1}"#))
        #expect(request.reason == nil)
    }

    @Test("timestamps: 0–9 fractional digits, Z, an offset or none (UTC); more digits or a bad date refused")
    func timestamps() throws {
        let utc = try #require(OCPPDateTime("2026-03-01T10:15:53Z"))
        #expect(OCPPDateTime("2026-03-01T10:15:53") == utc)
        #expect(OCPPDateTime("2026-03-01T12:15:53+02:00") == utc)
        #expect(OCPPDateTime("2026-03-01T10:15:53.123456789Z") != nil)
        #expect(OCPPDateTime("2026-03-01T10:15:53.1234567890Z") == nil)
        #expect(OCPPDateTime("2026-02-30T10:15:53Z") == nil)
        #expect(OCPPDateTime("2026-03-01T08:15:53.123456+02:00")?.description == "2026-03-01T06:15:53.123Z")
    }

    @Test("limit keeps the official multipleOf 0.1; 1.6 lower bounds from the specification text apply")
    func limitStep() throws {
        typealias Period = OCPP16.SetChargingProfile.Request.CsChargingProfiles.ChargingSchedule.ChargingSchedulePeriod
        #expect(try Period(json: JSONParser.parse(#"{"startPeriod": 0, "limit": 7.4}"#)).limit == 7.4)
        #expect(throws: OCPPValidationError(code: .propertyConstraintViolation, path: "limit", reason: "must be a multiple of 0.1")) {
            try Period(json: JSONParser.parse(#"{"startPeriod": 0, "limit": 7.45}"#))
        }
        #expect(throws: OCPPValidationError(code: .propertyConstraintViolation, path: "numberPhases", reason: "must be at least 1")) {
            try Period(json: JSONParser.parse(#"{"startPeriod": 0, "limit": 7.4, "numberPhases": 0}"#))
        }
    }

    @Test("a charging schedule needs a period and a meter value a sample, wherever they appear (1.6 specification 1..*)")
    func minItems() throws {
        typealias Schedule = OCPP16.RemoteStartTransaction.Request.ChargingProfile.ChargingSchedule
        #expect(throws: OCPPValidationError(code: .occurenceConstraintViolation, path: "chargingSchedulePeriod", reason: "has 0 items; allowed: 1…")) {
            try Schedule(json: JSONParser.parse(#"{"chargingRateUnit": "W", "chargingSchedulePeriod": []}"#))
        }
        typealias TransactionData = OCPP16.StopTransaction.Request.TransactionData
        #expect(throws: OCPPValidationError(code: .occurenceConstraintViolation, path: "sampledValue", reason: "has 0 items; allowed: 1…")) {
            try TransactionData(json: JSONParser.parse(#"{"timestamp": "2026-01-01T00:00:00Z", "sampledValue": []}"#))
        }
    }
}
