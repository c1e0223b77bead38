import Foundation
import Storage

enum SessionStatus: String, Codable, Sendable, CaseIterable {
    case active, completed, rejected, abandoned
}

struct ChargingSession: TableRecord, Encodable {
    var id: String
    var version: Int64 = 0
    /// The positive int32 handed to the charger as OCPP `transactionId`.
    var transactionId: Int
    var startKey: String
    var stationId: String
    var connectorId: Int
    var idTag: String
    var driverId: String?
    var startedAt: Date
    var stoppedAt: Date?
    var meterStartWh: Int64
    var meterStopWh: Int64?
    var energyWh: Int64
    var currentPowerW: Int64?
    var lastSampleAt: Date?
    var chargingEndedAt: Date?
    var status: SessionStatus
    var stopReason: String?
    /// The tariff as it was when the session started; later edits of the tariff do not apply.
    var tariff: Tariff?
    var cost: CostBreakdown?
    var invoiceId: String?
    /// Why its numbers are not to be trusted; empty for a normal session.
    var flags: [SessionFlag] = []
    var createdAt: Date
    var updatedAt: Date

    private enum CodingKeys: String, CodingKey {
        case id, version, transactionId, stationId, connectorId, idTag, driverId, startedAt, stoppedAt, meterStartWh
        case meterStopWh, energyWh, currentPowerW, lastSampleAt, chargingEndedAt, status, stopReason, tariff, cost
        case invoiceId, flags, createdAt, updatedAt
    }

    static let tableName = "charging_sessions"
    static let columns = [
        "transaction_id", "start_key", "station_id", "connector_id", "id_tag", "driver_id", "started_at", "stopped_at",
        "meter_start_wh", "meter_stop_wh", "energy_wh", "current_power_w", "last_sample_at", "charging_ended_at",
        "status", "stop_reason", "tariff", "cost", "total_minor", "currency", "invoice_id", "created_at", "updated_at", "flags",
    ]
    static let sortableColumns = ["started_at", "created_at"]
    static let defaultSort = SortKey("started_at", descending: true)

    var columnValues: [SQLValue] {
        [
            .integer(Int64(transactionId)), .text(startKey), .text(stationId), .integer(Int64(connectorId)), .text(idTag),
            driverId.sqlValue, startedAt.sqlValue, stoppedAt.sqlValue, .integer(meterStartWh), meterStopWh.sqlValue,
            .integer(energyWh), currentPowerW.sqlValue, lastSampleAt.sqlValue, chargingEndedAt.sqlValue,
            .text(status.rawValue), stopReason.sqlValue, tariff.map(SQLValue.json) ?? .null, cost.map { .json($0.stored) } ?? .null,
            cost.map { .integer($0.total.minorUnits) } ?? .null, (cost?.currency.code ?? tariff?.currency.code).sqlValue,
            invoiceId.sqlValue, createdAt.sqlValue, updatedAt.sqlValue, .json(flags),
        ]
    }

    init(row: Row) throws {
        id = try row.get("id")
        version = try row.get("version")
        transactionId = try row.get("transaction_id")
        startKey = try row.get("start_key")
        stationId = try row.get("station_id")
        connectorId = try row.get("connector_id")
        idTag = try row.get("id_tag")
        driverId = try row.get("driver_id")
        startedAt = try row.get("started_at")
        stoppedAt = try row.get("stopped_at")
        meterStartWh = try row.get("meter_start_wh")
        meterStopWh = try row.get("meter_stop_wh")
        energyWh = try row.get("energy_wh")
        currentPowerW = try row.get("current_power_w")
        lastSampleAt = try row.get("last_sample_at")
        chargingEndedAt = try row.get("charging_ended_at")
        status = try row.decode("status")
        stopReason = try row.get("stop_reason")
        // Read on every MeterValues inside the writer's transaction: nothing is decoded that is absent.
        tariff = try row.get("tariff", as: String?.self).map { try Self.decodeJSON(Tariff.self, $0) }
        cost = try row.get("cost", as: String?.self).map {
            CostBreakdown(stored: try Self.decodeJSON(CostBreakdown.Stored.self, $0))
        }
        invoiceId = try row.get("invoice_id")
        let flagsJSON = try row.get("flags", as: String.self)
        flags = flagsJSON == "[]" ? [] : try Self.decodeJSON([SessionFlag].self, flagsJSON)
        createdAt = try row.get("created_at")
        updatedAt = try row.get("updated_at")
    }

    init(
        transactionId: Int, stationId: String, connectorId: Int, idTag: String, driverId: String?, startedAt: Date,
        meterStartWh: Int64, status: SessionStatus, tariff: Tariff?, now: Date
    ) {
        id = Identifiers.make()
        self.transactionId = transactionId
        startKey = Self.startKey(
            stationID: stationId, connectorID: connectorId, idTag: idTag, startedAt: startedAt, meterStartWh: meterStartWh)
        self.stationId = stationId
        self.connectorId = connectorId
        self.idTag = idTag
        self.driverId = driverId
        self.startedAt = startedAt
        self.meterStartWh = meterStartWh
        energyWh = 0
        self.status = status
        self.tariff = tariff
        createdAt = now
        updatedAt = now
    }

    private static func decodeJSON<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(json.utf8))
    }

    /// What makes a retried StartTransaction the same start: start|station|connector|idTag|meterStart.
    /// The time leads, so new keys go to the end of the unique index instead of each station's own
    /// place in it (a random page per start).
    static func startKey(stationID: String, connectorID: Int, idTag: String, startedAt: Date, meterStartWh: Int64) -> String {
        "\(startedAt.unixMilliseconds)|\(stationID)|\(connectorID)|\(idTag.uppercased())|\(meterStartWh)"
    }

    /// The key `startKey` made before schema version 9 (station|connector|idTag|start|meterStart),
    /// in today's order; nil if `key` is not one.
    static func startKey(fromVersion8 key: String) -> String? {
        let parts = key.split(separator: "|", omittingEmptySubsequences: false)
        // The id tag is the only part that may hold a "|": the rest are ids and numbers.
        guard parts.count >= 5, let start = Int64(parts[parts.count - 2]), Int64(parts[parts.count - 1]) != nil else {
            return nil
        }
        let station = parts[0]
        let connector = parts[1]
        let idTag = parts[2..<(parts.count - 2)].joined(separator: "|")
        return "\(start)|\(station)|\(connector)|\(idTag)|\(parts[parts.count - 1])"
    }
}

struct Invoice: TableRecord, Encodable {
    enum Status: String, Codable, Sendable, CaseIterable {
        case issued, paid, void
    }

    var id: String
    var version: Int64 = 0
    var number: String
    var driverId: String?
    var sessionId: String
    var lines: [CostLine]
    var subtotal: Money
    var tax: Money
    var total: Money
    var amountPaid: Money
    var currency: Currency
    var status: Status
    var issuedAt: Date
    var dueAt: Date
    var paidAt: Date?

    static let tableName = "invoices"
    static let columns = [
        "number", "driver_id", "session_id", "lines", "subtotal", "tax", "total", "amount_paid", "currency", "status",
        "issued_at", "due_at", "paid_at",
    ]
    static let sortableColumns = ["issued_at"]
    static let defaultSort = SortKey("issued_at", descending: true)

    var columnValues: [SQLValue] {
        [
            .text(number), driverId.sqlValue, .text(sessionId), .json(lines.map(\.stored)), .integer(subtotal.minorUnits),
            .integer(tax.minorUnits), .integer(total.minorUnits), .integer(amountPaid.minorUnits), .text(currency.code),
            .text(status.rawValue), issuedAt.sqlValue, dueAt.sqlValue, paidAt.sqlValue,
        ]
    }

    init(row: Row) throws {
        id = try row.get("id")
        version = try row.get("version")
        number = try row.get("number")
        driverId = try row.get("driver_id")
        sessionId = try row.get("session_id")
        guard let currency = Currency(try row.get("currency", as: String.self)) else {
            throw RowDecodingError(column: "currency", expectedType: "Currency", sql: Self.tableName)
        }
        self.currency = currency
        lines = try JSONDecoder().decode([CostLine.Stored].self, from: Data(try row.get("lines", as: String.self).utf8))
            .map { CostLine(stored: $0, currency: currency) }
        subtotal = Money(minorUnits: try row.get("subtotal"), currency: currency)
        tax = Money(minorUnits: try row.get("tax"), currency: currency)
        total = Money(minorUnits: try row.get("total"), currency: currency)
        amountPaid = Money(minorUnits: try row.get("amount_paid"), currency: currency)
        status = try row.decode("status")
        issuedAt = try row.get("issued_at")
        dueAt = try row.get("due_at")
        paidAt = try row.get("paid_at")
    }

    init(number: String, driverId: String?, sessionId: String, cost: CostBreakdown, issuedAt: Date, dueAt: Date) {
        id = Identifiers.make()
        self.number = number
        self.driverId = driverId
        self.sessionId = sessionId
        lines = cost.lines
        subtotal = cost.subtotal
        tax = cost.tax
        total = cost.total
        amountPaid = .zero(cost.currency)
        currency = cost.currency
        status = .issued
        self.issuedAt = issuedAt
        self.dueAt = dueAt
    }

    /// Payments are refused beyond the amount due, so this never goes below zero or overflows.
    var amountDue: Money { Money(minorUnits: total.minorUnits - amountPaid.minorUnits, currency: currency) }
}
