import Foundation
import Logging
import Storage

/// What a charger told us about itself at boot, whatever the protocol version.
struct ChargerIdentity: Sendable {
    var vendor: String
    var model: String
    var serialNumber: String?
    var chargeBoxSerialNumber: String?
    var firmwareVersion: String?
    var iccid: String?
    var imsi: String?
    var meterType: String?
    var meterSerialNumber: String?
}

/// One sampled value as a charger reported it (measurand etc. spelled as OCPP spells them).
struct SampledReading: Sendable {
    var value: String
    var measurand: String?
    var phase: String?
    var unit: String?
    var context: String?
    var location: String?
    var format: String?
}

/// The readings a charger took at one moment.
struct MeterSample: Sendable {
    var timestamp: Date
    var readings: [SampledReading]
}

/// What chargers report, applied to the domain — sessions, connector statuses, station data,
/// alerts — in terms no protocol version owns, so the 1.6 and 2.0.1 handlers share it.
/// Business refusals are answers (an `IdTagInfo`), never errors.
struct ChargerActivity: Sendable {
    let stations: StationRepository
    let sessions: SessionService
    let monitoring: MonitoringService
    let authorizer: IdTagAuthorizer
    let reservations: ReservationRepository
    /// Tells load management of sessions that start, stop or change status.
    let load: LoadSignal
    /// Firmware, upload and security reports.
    let jobs: StationJobReports
    let recorder: OCPPRecorder
    let now: @Sendable () -> Date

    /// Stores what the charger says it is; returns the registration it gets and the server time.
    func booted(stationID: String, identity: ChargerIdentity) async throws -> (registration: RegistrationState, at: Date) {
        let at = now()
        let view = try await stations.update(stationID, expectedVersion: nil, now: at) { station in
            station.vendor = identity.vendor
            station.model = identity.model
            station.serialNumber = identity.serialNumber
            station.chargeBoxSerialNumber = identity.chargeBoxSerialNumber
            station.firmwareVersion = identity.firmwareVersion
            station.iccid = identity.iccid
            station.imsi = identity.imsi
            station.meterType = identity.meterType
            station.meterSerialNumber = identity.meterSerialNumber
            station.lastBootAt = at
        }
        try await monitoring.chargerBooted(stationID: stationID, at: at)
        let registration: RegistrationState =
            switch view.registration {
            case .accepted: .accepted
            case .pending: .pending
            case .rejected: .rejected
            }
        return (registration, at)
    }

    func authorize(_ idTag: String) async throws -> IdTagInfo {
        try await authorizer.authorize(idTag, forStartTransaction: false)
    }

    /// A connector's new status; `errorCode` nil when there is no error.
    func statusChanged(
        stationID: String, connectorID: Int, status: ConnectorStatus, errorCode: String?, info: String?,
        vendorErrorCode: String?, reportedAt: Date?
    ) async throws {
        // An unset or runaway clock would misplace the change in the history and the utilization
        // shares: server time stands in, and an alert says whose clock is wrong.
        let time = chargerTime(reportedAt)
        let at = time.at
        if let flag = time.flag {
            try await monitoring.implausibleChargerData(
                stationID: stationID, transactionID: nil, problem: flag,
                details: ["timestamp": Self.describe(reportedAt), "action": "StatusNotification"], at: at)
        }
        @Sendable func change(from previous: ConnectorStatus?) -> ConnectorStatusChange {
            ConnectorStatusChange(
                stationID: stationID, connectorID: connectorID, previous: previous, current: status, errorCode: errorCode,
                info: info, vendorErrorCode: vendorErrorCode, at: at, source: .ocpp)
        }
        if connectorID > 0 {
            // The connector and its history row are written in one transaction; a repeat is no change.
            let history = ConnectorStatusHistory(recorder: monitoring) { before, _ in
                before.status == status && before.errorCode == errorCode ? nil : change(from: before.status)
            }
            do {
                _ = try await stations.updateConnector(connectorID, of: stationID, now: at, history: history) { connector in
                    connector.status = status
                    connector.errorCode = errorCode
                }
                // A car that suspends or resumes charging frees or takes back its share of the site.
                load.stationChanged(stationID)
                return
            } catch StationError.connectorNotFound {
                // A connector the station record does not list: the change is still kept in the history.
            }
        }
        try await monitoring.connectorStatusChanged(change(from: nil))
    }

    /// Starts a session. Always returns a transaction id, for a refused tag too, so the charger's
    /// StopTransaction matches; a retried start is answered as the first time. An accepted start
    /// uses the reservation it names, or one held on that connector for the tag or its parent.
    func transactionStarted(
        stationID: String, connectorID: Int, idTag: String, meterStartWh: Int, reportedAt: Date, reservationID: Int? = nil
    ) async throws -> (transactionID: Int, info: IdTagInfo) {
        let time = chargerTime(reportedAt)
        let meterStart = Int64(meterStartWh)
        var flags = time.flag.map { [$0] } ?? []
        if !Plausible.meterRegisterWh.contains(meterStart) { flags.append(.implausibleMeterStart) }
        // Checked again here: the charger may have accepted the tag from its cache.
        var info = try await authorizer.authorize(idTag, forStartTransaction: true)
        let outcome = try await sessions.start(
            stationID: stationID, connectorID: connectorID, idTag: idTag, startedAt: time.at,
            reportedStartedAt: time.reported, meterStartWh: meterStart, accepted: info.status == .accepted, flags: flags)
        if !outcome.created {
            // A retried start: answer as the first time, whatever the tag's count says now.
            info.status = outcome.session.status == .rejected ? (info.status == .accepted ? .invalid : info.status) : .accepted
        }
        // Also for a retried start: a crash between the session and the reservation leaves it open.
        if outcome.session.status == .active {
            try await reservations.markUsed(
                stationID: stationID, connectorID: connectorID, idTag: idTag, parentIdTag: info.parentIdTag,
                reservationID: reservationID, sessionID: outcome.session.id, transactionID: outcome.session.transactionId,
                at: now())
            load.stationChanged(stationID)
        }
        if outcome.created {
            for flag in flags {
                try await monitoring.implausibleChargerData(
                    stationID: stationID, transactionID: outcome.session.transactionId, problem: flag,
                    details: ["meterStart": String(meterStart), "timestamp": Self.describe(reportedAt)], at: now())
            }
        }
        return (outcome.session.transactionId, info)
    }

    /// Closes a session. Never fails for implausible numbers: a charger retries a transaction
    /// message until it is answered, so they close the session flagged instead.
    func transactionStopped(
        stationID: String, transactionID: Int, meterStopWh: Int, reportedAt: Date, reason: String?, idTag: String?,
        samples: [MeterSample]
    ) async throws -> IdTagInfo? {
        let time = chargerTime(reportedAt)
        let meterStop = Int64(meterStopWh)
        if !samples.isEmpty {
            try await meterValues(stationID: stationID, connectorID: 0, transactionID: transactionID, samples: samples)
        }
        let session = try await sessions.stop(
            .transaction(transactionID), meterStopWh: meterStop, stoppedAt: time.at, reason: reason ?? "Local",
            flags: time.flag.map { [$0] } ?? [])
        if let session {
            load.stationChanged(stationID)
            for flag in session.flags where flag.blocksInvoicing {
                try await monitoring.implausibleChargerData(
                    stationID: stationID, transactionID: transactionID, problem: flag,
                    details: [
                        "meterStart": String(session.meterStartWh), "meterStop": String(meterStop),
                        "timestamp": Self.describe(reportedAt),
                    ], at: now())
            }
        } else {
            try await monitoring.unknownTransaction(stationID: stationID, transactionID: transactionID, at: time.at)
        }
        guard let idTag else { return nil }
        return try await authorizer.authorize(idTag, forStartTransaction: false)
    }

    /// Stores every sampled value; the energy register and active power also move the session.
    /// An implausible reading (or one with an implausible clock) is stored raw, without a normalized
    /// value, and does not move the session: the session is flagged and an alert raised instead.
    func meterValues(stationID: String, connectorID: Int, transactionID: Int?, samples: [MeterSample]) async throws {
        var rows: [MeterValueRow] = []
        var problems: [(flag: SessionFlag, details: [String: String])] = []
        for sample in samples {
            let clockPlausible = Plausible.chargerTime(sample.timestamp, now: now())
            let at = clockPlausible ? sample.timestamp : now()
            if !clockPlausible {
                problems.append((.implausibleTimestamp, ["timestamp": Self.describe(sample.timestamp)]))
            }
            var registerWh: Int64?
            var powerW: Int64?
            for reading in sample.readings {
                let measurand = reading.measurand ?? "Energy.Active.Import.Register"
                let value = Self.read(reading.value, measurand: measurand, unit: reading.unit, format: reading.format)
                var normalized: Int64?
                switch value {
                case .value(let number) where clockPlausible: normalized = number
                case .implausible:
                    problems.append((.implausibleMeterValue, ["measurand": measurand, "value": String(reading.value.prefix(64))]))
                default: break
                }
                rows.append(
                    MeterValueRow(
                        stationID: stationID, connectorID: connectorID, transactionID: transactionID, at: at,
                        measurand: measurand, phase: reading.phase, unit: reading.unit, context: reading.context,
                        location: reading.location, format: reading.format, value: reading.value, normalized: normalized))
                // Whole-connector values only: a per-phase reading is a part, not the total.
                guard reading.phase == nil else { continue }
                if measurand == "Energy.Active.Import.Register", let normalized { registerWh = normalized }
                if measurand == "Power.Active.Import", let normalized { powerW = normalized }
            }
            if let transactionID, registerWh != nil || powerW != nil {
                try await sessions.recordSample(transactionID: transactionID, at: at, registerWh: registerWh, powerW: powerW)
            }
        }
        recorder.record(rows)
        var reported: Set<SessionFlag> = []
        for problem in problems where reported.insert(problem.flag).inserted {
            if let transactionID {
                try await sessions.flag(transactionID: transactionID, .implausibleMeterValue)
            }
            try await monitoring.implausibleChargerData(
                stationID: stationID, transactionID: transactionID, problem: problem.flag, details: problem.details, at: now())
        }
    }

    /// The charger's time if it is plausible, else the server's, with a flag saying so: a charger
    /// whose clock is unset (1970, 0001) or far ahead must not stretch a session over years.
    private func chargerTime(_ reported: Date?) -> (at: Date, reported: Date?, flag: SessionFlag?) {
        let now = now()
        guard let reported else { return (now, nil, nil) }
        guard Plausible.chargerTime(reported, now: now) else { return (now, reported, .implausibleTimestamp) }
        return (reported, nil, nil)
    }

    private static func describe(_ date: Date?) -> String {
        date.map { WireFormat.formatDate($0) } ?? ""
    }

    /// A sampled value as the server understands it.
    enum MeterReading: Equatable {
        /// Energy in Wh or power in W, within the plausible range.
        case value(Int64)
        /// An energy or power reading that is not a finite number within the plausible range.
        case implausible
        /// Another measurand, signed data or text: stored, never computed with.
        case notNumeric
    }

    static func read(_ raw: String, measurand: String, unit: String?, format: String?) -> MeterReading {
        guard format != "SignedData", measurand.hasPrefix("Energy") || measurand.hasPrefix("Power") else {
            return .notNumeric
        }
        let factor: Double
        switch (measurand, unit) {
        case (_, "kWh"), (_, "kW"): factor = 1000
        case ("Energy.Active.Import.Register", nil), ("Energy.Active.Export.Register", nil), (_, "Wh"): factor = 1
        case ("Power.Active.Import", nil), ("Power.Active.Export", nil), (_, "W"): factor = 1
        default: return .notNumeric
        }
        guard let number = Double(raw) else { return .notNumeric }
        let range = measurand.hasPrefix("Energy") ? Plausible.meterRegisterWh : Plausible.powerW
        return Plausible.integer(number, times: factor, within: range).map(MeterReading.value) ?? .implausible
    }

    /// Energy in Wh and power in W; nil for other measurands, signed data and implausible readings.
    static func normalize(_ raw: String, measurand: String, unit: String?, format: String?) -> Int64? {
        if case .value(let number) = read(raw, measurand: measurand, unit: unit, format: format) { return number }
        return nil
    }
}
