import Foundation
import Logging
import Storage

/// Handlers for vendor DataTransfer messages, by vendor id and message id.
struct DataTransferRegistry: Sendable {
    typealias Handler = @Sendable (_ stationID: String, _ data: String?) async throws -> (status: String, data: String?)
    private var handlers: [String: [String: Handler]] = [:]

    mutating func register(vendorID: String, messageID: String, _ handler: @escaping Handler) {
        handlers[vendorID, default: [:]][messageID] = handler
    }

    func handle(stationID: String, vendorID: String, messageID: String?, data: String?) async throws -> [String: Any] {
        guard let vendor = handlers[vendorID] else { return ["status": "UnknownVendorId"] }
        guard let handler = vendor[messageID ?? ""] else { return ["status": "UnknownMessageId"] }
        let (status, reply) = try await handler(stationID, data)
        var payload: [String: Any] = ["status": status]
        if let reply { payload["data"] = reply }
        return payload
    }

    /// The handlers this server ships with.
    static var standard: DataTransferRegistry {
        var registry = DataTransferRegistry()
        // Lets an installer check the data path end to end from the charger's side.
        registry.register(vendorID: "csms", messageID: "Echo") { _, data in ("Accepted", data) }
        return registry
    }
}

/// What the central system does with each CALL a charge point sends. The payload has passed its
/// schema; the answer is the CALLRESULT payload. Business refusals are normal answers.
struct ChargePointHandler: Sendable {
    let stations: StationRepository
    let sessions: SessionService
    let monitoring: MonitoringService
    let authorizer: IdTagAuthorizer
    let recorder: OCPPRecorder
    let dataTransfer: DataTransferRegistry
    let heartbeatInterval: Int
    let now: @Sendable () -> Date

    func handle(_ action: String, _ payload: [String: Any], connection: ChargePointConnection) async throws -> [String: Any] {
        let stationID = connection.chargePointID
        switch action {
        case "BootNotification":
            return try await boot(payload, connection: connection)
        case "Heartbeat":
            return ["currentTime": OCPPTime.format(now())]
        case "StatusNotification":
            try await statusNotification(payload, stationID: stationID)
            return [:]
        case "Authorize":
            let info = try await authorizer.authorize(payload.string("idTag") ?? "", forStartTransaction: false)
            return ["idTagInfo": Self.encode(info)]
        case "StartTransaction":
            return try await startTransaction(payload, stationID: stationID)
        case "MeterValues":
            try await meterValues(
                payload.objects("meterValue"), stationID: stationID, connectorID: payload.int("connectorId") ?? 0,
                transactionID: payload.int("transactionId"))
            return [:]
        case "StopTransaction":
            return try await stopTransaction(payload, stationID: stationID)
        case "DataTransfer":
            return try await dataTransfer.handle(
                stationID: stationID, vendorID: payload.string("vendorId") ?? "", messageID: payload.string("messageId"),
                data: payload.string("data"))
        case "DiagnosticsStatusNotification":
            let status = payload.string("status")
            _ = try await stations.update(stationID, expectedVersion: nil, now: now()) { $0.diagnosticsStatus = status }
            return [:]
        case "FirmwareStatusNotification", "SignedFirmwareStatusNotification":
            let status = payload.string("status")
            _ = try await stations.update(stationID, expectedVersion: nil, now: now()) { $0.firmwareStatus = status }
            return [:]
        case "SecurityEventNotification", "LogStatusNotification":
            // Kept in the message log, which is where operators look for them.
            return [:]
        default:
            throw OCPPError(code: .notSupported, description: "\(action) is not supported by this central system")
        }
    }

    private func boot(_ payload: [String: Any], connection: ChargePointConnection) async throws -> [String: Any] {
        let at = now()
        let fields = [
            "chargePointVendor", "chargePointModel", "chargePointSerialNumber", "chargeBoxSerialNumber", "firmwareVersion",
            "iccid", "imsi", "meterType", "meterSerialNumber",
        ].reduce(into: [String: String]()) { fields, key in fields[key] = payload.string(key) }
        let view = try await stations.update(connection.chargePointID, expectedVersion: nil, now: at) { station in
            station.vendor = fields["chargePointVendor"]
            station.model = fields["chargePointModel"]
            station.serialNumber = fields["chargePointSerialNumber"]
            station.chargeBoxSerialNumber = fields["chargeBoxSerialNumber"]
            station.firmwareVersion = fields["firmwareVersion"]
            station.iccid = fields["iccid"]
            station.imsi = fields["imsi"]
            station.meterType = fields["meterType"]
            station.meterSerialNumber = fields["meterSerialNumber"]
            station.lastBootAt = at
        }
        let registration: RegistrationState =
            switch view.registration {
            case .accepted: .accepted
            case .pending: .pending
            case .rejected: .rejected
            }
        connection.registration = registration
        try await monitoring.chargerBooted(stationID: connection.chargePointID, at: at)
        return ["status": registration.rawValue, "currentTime": OCPPTime.format(at), "interval": heartbeatInterval]
    }

    private func statusNotification(_ payload: [String: Any], stationID: String) async throws {
        guard let status = payload.string("status").flatMap(ConnectorStatus.init(rawValue:)) else { return }
        let connectorID = payload.int("connectorId") ?? 0
        // An unset or runaway clock would misplace the change in the history and the utilization
        // shares: server time stands in, and an alert says whose clock is wrong.
        let time = chargerTime(payload)
        let at = time.at
        if let flag = time.flag {
            try await monitoring.implausibleChargerData(
                stationID: stationID, transactionID: nil, problem: flag,
                details: ["timestamp": String((payload.string("timestamp") ?? "").prefix(64)), "action": "StatusNotification"],
                at: at)
        }
        let errorCode = payload.string("errorCode").flatMap { $0 == "NoError" ? nil : $0 }
        let info = payload.string("info")
        let vendorErrorCode = payload.string("vendorErrorCode")
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
                return
            } catch StationError.connectorNotFound {
                // A connector the station record does not list: the change is still kept in the history.
            }
        }
        try await monitoring.connectorStatusChanged(change(from: nil))
    }

    /// The charger's time if it is plausible, else the server's, with a flag saying so: a charger
    /// whose clock is unset (1970, 0001) or far ahead must not stretch a session over years.
    private func chargerTime(_ payload: [String: Any]) -> (at: Date, reported: Date?, flag: SessionFlag?) {
        let now = now()
        guard let reported = payload.string("timestamp").flatMap(OCPPTime.parse) else { return (now, nil, nil) }
        guard Plausible.chargerTime(reported, now: now) else { return (now, reported, .implausibleTimestamp) }
        return (reported, nil, nil)
    }

    private func startTransaction(_ payload: [String: Any], stationID: String) async throws -> [String: Any] {
        let idTag = payload.string("idTag") ?? ""
        let time = chargerTime(payload)
        let meterStart = Int64(payload.int("meterStart") ?? 0)
        var flags = time.flag.map { [$0] } ?? []
        if !Plausible.meterRegisterWh.contains(meterStart) { flags.append(.implausibleMeterStart) }
        // Checked again here: the charger may have accepted the tag from its cache.
        var info = try await authorizer.authorize(idTag, forStartTransaction: true)
        let outcome = try await sessions.start(
            stationID: stationID, connectorID: payload.int("connectorId") ?? 1, idTag: idTag, startedAt: time.at,
            reportedStartedAt: time.reported, meterStartWh: meterStart, accepted: info.status == .accepted, flags: flags)
        if !outcome.created {
            // A retried start: answer as the first time, whatever the tag's count says now.
            info.status = outcome.session.status == .rejected ? (info.status == .accepted ? .invalid : info.status) : .accepted
        }
        if outcome.created {
            for flag in flags {
                try await monitoring.implausibleChargerData(
                    stationID: stationID, transactionID: outcome.session.transactionId, problem: flag,
                    details: [
                        "meterStart": String(meterStart), "timestamp": payload.string("timestamp") ?? "",
                    ], at: now())
            }
        }
        // Always a transaction id, for a refused tag too, so the charger's StopTransaction matches.
        return ["transactionId": outcome.session.transactionId, "idTagInfo": Self.encode(info)]
    }

    /// Always answered with a CALLRESULT when the payload is valid: a charger retries a transaction
    /// message until it gets one, so implausible numbers close the session flagged instead of failing.
    private func stopTransaction(_ payload: [String: Any], stationID: String) async throws -> [String: Any] {
        let transactionID = payload.int("transactionId") ?? 0
        let time = chargerTime(payload)
        let meterStop = Int64(payload.int("meterStop") ?? 0)
        let data = payload.objects("transactionData")
        if !data.isEmpty {
            try await meterValues(data, stationID: stationID, connectorID: 0, transactionID: transactionID)
        }
        let session = try await sessions.stop(
            .transaction(transactionID), meterStopWh: meterStop, stoppedAt: time.at,
            reason: payload.string("reason") ?? "Local", flags: time.flag.map { [$0] } ?? [])
        if let session {
            for flag in session.flags where flag.blocksInvoicing {
                try await monitoring.implausibleChargerData(
                    stationID: stationID, transactionID: transactionID, problem: flag,
                    details: [
                        "meterStart": String(session.meterStartWh), "meterStop": String(meterStop),
                        "timestamp": payload.string("timestamp") ?? "",
                    ], at: now())
            }
        } else {
            try await monitoring.unknownTransaction(stationID: stationID, transactionID: transactionID, at: time.at)
        }
        guard let idTag = payload.string("idTag") else { return [:] }
        return ["idTagInfo": Self.encode(try await authorizer.authorize(idTag, forStartTransaction: false))]
    }

    /// Stores every sampled value; the energy register and active power also move the session.
    /// An implausible reading (or one with an implausible clock) is stored raw, without a normalized
    /// value, and does not move the session: the session is flagged and an alert raised instead.
    private func meterValues(_ values: [[String: Any]], stationID: String, connectorID: Int, transactionID: Int?) async throws {
        var rows: [MeterValueRow] = []
        var problems: [(flag: SessionFlag, details: [String: String])] = []
        for value in values {
            guard let reported = value.string("timestamp").flatMap(OCPPTime.parse) else { continue }
            let clockPlausible = Plausible.chargerTime(reported, now: now())
            let at = clockPlausible ? reported : now()
            if !clockPlausible {
                problems.append((.implausibleTimestamp, ["timestamp": value.string("timestamp") ?? ""]))
            }
            var registerWh: Int64?
            var powerW: Int64?
            for sample in value.objects("sampledValue") {
                let measurand = sample.string("measurand") ?? "Energy.Active.Import.Register"
                let unit = sample.string("unit")
                let raw = sample.string("value") ?? ""
                let reading = Self.read(raw, measurand: measurand, unit: unit, format: sample.string("format"))
                var normalized: Int64?
                switch reading {
                case .value(let number) where clockPlausible: normalized = number
                case .implausible:
                    problems.append((.implausibleMeterValue, ["measurand": measurand, "value": String(raw.prefix(64))]))
                default: break
                }
                rows.append(
                    MeterValueRow(
                        stationID: stationID, connectorID: connectorID, transactionID: transactionID, at: at,
                        measurand: measurand, phase: sample.string("phase"), unit: unit, context: sample.string("context"),
                        location: sample.string("location"), format: sample.string("format"), value: raw, normalized: normalized))
                // Whole-connector values only: a per-phase reading is a part, not the total.
                guard sample.string("phase") == nil else { continue }
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

    static func encode(_ info: IdTagInfo) -> [String: Any] {
        var object: [String: Any] = ["status": info.status.rawValue]
        if let expiry = info.expiryDate { object["expiryDate"] = OCPPTime.format(expiry) }
        if let parent = info.parentIdTag { object["parentIdTag"] = parent }
        return object
    }
}

extension Dictionary where Key == String, Value == Any {
    func string(_ key: String) -> String? { self[key] as? String }

    func int(_ key: String) -> Int? {
        guard let number = self[key] as? NSNumber, !OCPPSchema.isBool(number) else { return nil }
        return OCPPSchema.integer(number)
    }

    func objects(_ key: String) -> [[String: Any]] { self[key] as? [[String: Any]] ?? [] }
}
