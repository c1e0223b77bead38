import Foundation
import OCPP

/// OCPP 1.6's rules for a charging profile beyond its JSON schema (section 3.13 and the errata),
/// checked before anything is sent. Pure: the caller says which transaction is active.
enum ChargingProfileRules {
    typealias Profile = OCPP16.SetChargingProfile.Request.CsChargingProfiles

    /// Plausible limits: a connector draws at most 2,000 A or 10 MW.
    static let maximumAmps = 2_000.0
    static let maximumWatts = 10_000_000.0

    /// The problems of `profile` for `connectorID`, fields named as in the request body
    /// (`chargingProfile.…`). `activeTransaction` is the transaction running on the connector.
    static func problems(_ profile: Profile, connectorID: Int, activeTransaction: Int?, prefix: String = "chargingProfile.")
        -> [FieldError]
    {
        var problems: [FieldError] = []
        func fail(_ field: String, _ message: String) { problems.append(FieldError(field: prefix + field, message: message)) }
        switch profile.chargingProfilePurpose {
        case .chargePointMaxProfile:
            if connectorID != 0 { problems.append(FieldError(field: "connectorId", message: "a ChargePointMaxProfile is set on connector 0")) }
            if profile.transactionId != nil { fail("transactionId", "only a TxProfile names a transaction") }
        case .txDefaultProfile:
            if profile.transactionId != nil { fail("transactionId", "only a TxProfile names a transaction") }
        case .txProfile:
            if connectorID == 0 {
                problems.append(FieldError(field: "connectorId", message: "a TxProfile is set on the connector of its transaction"))
            } else if let activeTransaction {
                if let named = profile.transactionId, named != activeTransaction {
                    fail("transactionId", "the transaction on connector \(connectorID) is \(activeTransaction), not \(named)")
                }
            } else {
                problems.append(FieldError(field: "connectorId", message: "a TxProfile needs an active transaction on connector \(connectorID)"))
            }
        }
        problems += scheduleProblems(profile, prefix: prefix)
        return problems
    }

    /// The rules that hold whatever the connector: kind and recurrency, validity, the periods.
    static func scheduleProblems(_ profile: Profile, prefix: String = "chargingProfile.") -> [FieldError] {
        var problems: [FieldError] = []
        func fail(_ field: String, _ message: String) { problems.append(FieldError(field: prefix + field, message: message)) }
        let schedule = profile.chargingSchedule
        switch profile.chargingProfileKind {
        case .recurring:
            if profile.recurrencyKind == nil { fail("recurrencyKind", "a Recurring profile says Daily or Weekly") }
            if schedule.startSchedule == nil { fail("chargingSchedule.startSchedule", "a Recurring profile needs its start") }
        case .absolute:
            if profile.recurrencyKind != nil { fail("recurrencyKind", "only a Recurring profile recurs") }
            if schedule.startSchedule == nil { fail("chargingSchedule.startSchedule", "an Absolute profile needs its start") }
        case .relative:
            if profile.recurrencyKind != nil { fail("recurrencyKind", "only a Recurring profile recurs") }
            if schedule.startSchedule != nil { fail("chargingSchedule.startSchedule", "a Relative profile starts with the transaction") }
        }
        if let from = profile.validFrom?.date, let to = profile.validTo?.date, from >= to {
            fail("validTo", "must be after validFrom")
        }
        if let duration = schedule.duration, duration <= 0 { fail("chargingSchedule.duration", "must be above 0 seconds") }
        let periods = schedule.chargingSchedulePeriod
        if periods.first?.startPeriod != 0 {
            fail("chargingSchedule.chargingSchedulePeriod", "the first period starts at 0")
        }
        let maximum = schedule.chargingRateUnit == .a ? maximumAmps : maximumWatts
        for (index, period) in periods.enumerated() {
            let field = "chargingSchedule.chargingSchedulePeriod[\(index)]"
            if index > 0, period.startPeriod <= periods[index - 1].startPeriod {
                fail(field + ".startPeriod", "periods start in ascending order")
            }
            if let duration = schedule.duration, period.startPeriod >= duration {
                fail(field + ".startPeriod", "starts after the schedule's duration")
            }
            if !(0...maximum).contains(period.limit) {
                fail(field + ".limit", "must be from 0 to \(Int(maximum)) \(schedule.chargingRateUnit.rawValue)")
            }
            if let phases = period.numberPhases, !(1...3).contains(phases) {
                fail(field + ".numberPhases", "must be 1, 2 or 3")
            }
        }
        return problems
    }
}
