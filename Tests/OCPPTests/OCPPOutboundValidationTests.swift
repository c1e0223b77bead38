import Foundation
import OCPP
import Testing

/// `validate()` on values we build ourselves — the check the server runs before a CALL or a
/// CALLRESULT of ours goes on the wire: what Swift's types cannot hold (lengths, ranges, item counts).
@Suite("Outbound validation of our own payloads")
struct OCPPOutboundValidationTests {
    typealias CompositeSchedule = OCPP16.GetCompositeSchedule.Response.ChargingSchedule
    typealias ProfileSchedule = OCPP16.SetChargingProfile.Request.CsChargingProfiles.ChargingSchedule

    static func profile(_ periods: [ProfileSchedule.ChargingSchedulePeriod]) -> OCPP16.SetChargingProfile.Request {
        OCPP16.SetChargingProfile.Request(
            connectorId: 1,
            csChargingProfiles: .init(
                chargingProfileId: 1, stackLevel: 0, chargingProfilePurpose: .txProfile, chargingProfileKind: .absolute,
                chargingSchedule: .init(chargingRateUnit: .a, chargingSchedulePeriod: periods)))
    }

    @Test("an Authorize response whose parentIdTag is over 20 characters fails, naming idTagInfo.parentIdTag")
    func parentIdTag() throws {
        let long = OCPP16.Authorize.Response(idTagInfo: .init(parentIdTag: String(repeating: "p", count: 21), status: .accepted))
        #expect(throws: OCPPValidationError(code: .typeConstraintViolation, path: "idTagInfo.parentIdTag", reason: "is longer than 20 characters")) {
            try long.validate()
        }
        try OCPP16.Authorize.Response(idTagInfo: .init(parentIdTag: String(repeating: "p", count: 20), status: .accepted)).validate()
    }

    @Test("an empty required array fails: a composite schedule without periods, 2.0.1 GetVariables without results")
    func emptyRequiredArray() throws {
        let empty = OCPP16.GetCompositeSchedule.Response(
            status: .accepted, connectorId: 1, chargingSchedule: CompositeSchedule(chargingRateUnit: .w, chargingSchedulePeriod: []))
        #expect(throws: OCPPValidationError(
            code: .occurenceConstraintViolation, path: "chargingSchedule.chargingSchedulePeriod", reason: "has 0 items; allowed: 1…")) {
            try empty.validate()
        }
        let results = OCPP201.GetVariables.Response(getVariableResult: [])
        #expect(throws: OCPPValidationError(code: .occurenceConstraintViolation, path: "getVariableResult", reason: "has 0 items; allowed: 1…")) {
            try results.validate()
        }
    }

    @Test("an optional array present but empty fails when the schema asks for one item (GetInstalledCertificateIds)")
    func emptyOptionalArray() throws {
        let response = OCPP16.GetInstalledCertificateIds.Response(certificateHashData: [], status: .accepted)
        #expect(throws: OCPPValidationError(code: .occurenceConstraintViolation, path: "certificateHashData", reason: "has 0 items; allowed: 1…")) {
            try response.validate()
        }
        try OCPP16.GetInstalledCertificateIds.Response(status: .notFound).validate()
    }

    @Test("a CALL of ours with a limit off its 0.1 step, a negative start or an idTag too long in a list is caught")
    func requests() throws {
        #expect(throws: OCPPValidationError(
            code: .propertyConstraintViolation, path: "csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit",
            reason: "must be a multiple of 0.1")) {
            try Self.profile([.init(startPeriod: 0, limit: 7.45)]).validate()
        }
        #expect(throws: OCPPValidationError(
            code: .propertyConstraintViolation, path: "csChargingProfiles.chargingSchedule.chargingSchedulePeriod[1].startPeriod",
            reason: "must be at least 0")) {
            try Self.profile([.init(startPeriod: 0, limit: 16), .init(startPeriod: -60, limit: 8)]).validate()
        }
        try Self.profile([.init(startPeriod: 0, limit: 16), .init(startPeriod: 600, limit: 7.4, numberPhases: 3)]).validate()
        let list = OCPP16.SendLocalList.Request(
            listVersion: 2, localAuthorizationList: [.init(idTag: "A"), .init(idTag: String(repeating: "t", count: 21))], updateType: .full)
        #expect(throws: OCPPValidationError(code: .typeConstraintViolation, path: "localAuthorizationList[1].idTag", reason: "is longer than 20 characters")) {
            try list.validate()
        }
    }
}
