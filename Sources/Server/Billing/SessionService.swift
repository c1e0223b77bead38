import Foundation
import Storage

/// Charging sessions: the operations both the REST routes and the OCPP handlers call.
///
/// Pricing never runs inside the writer's transaction: what it needs is read first, the cost is
/// computed outside, and the write checks that the session has not changed since (retrying if it has).
struct SessionService: Sendable {
    let database: Database
    let events: EventBus
    let invoiceDueDays: Int
    /// Sessions longer than this are flagged `implausibleDuration` and not invoiced automatically.
    let maxBillableDuration: TimeInterval
    let now: @Sendable () -> Date

    /// How often a write is retried when the session changed between the read and the write.
    private static let attempts = 8

    struct StartOutcome: Sendable {
        var session: ChargingSession
        /// False when the same start was seen before and its session is returned again.
        var created: Bool
        /// The session that was still open on the connector and was closed as abandoned.
        var abandoned: ChargingSession?
    }

    /// What pricing a session needs besides the session itself.
    struct PricingInputs: Sendable {
        var samples: [(at: Date, energyWh: Int64)]
        var membership: Membership?
    }

    /// The session changed between the read and the write: read and compute again.
    private struct StaleRead: Error {}

    /// Starts a session, or returns the one this very start (same station, connector, id tag,
    /// reported start time and meter start) already created. `accepted: false` records a session the
    /// charger was told it may not run (`rejected`), so that its later stop still matches.
    /// `reportedStartedAt` is the charger's own time when `startedAt` replaced an implausible one.
    func start(
        stationID: String, connectorID: Int, idTag: String, startedAt: Date, reportedStartedAt: Date? = nil,
        meterStartWh: Int64, accepted: Bool, flags: [SessionFlag] = [], requireKnownConnector: Bool = false
    ) async throws -> StartOutcome {
        let key = ChargingSession.startKey(
            stationID: stationID, connectorID: connectorID, idTag: idTag, startedAt: reportedStartedAt ?? startedAt,
            meterStartWh: meterStartWh)
        var flags = flags
        if !Plausible.meterRegisterWh.contains(meterStartWh), !flags.contains(.implausibleMeterStart) {
            flags.append(.implausibleMeterStart)
        }
        for attempt in 0..<Self.attempts {
            // The session still open on the connector is closed as abandoned: price it before writing.
            // Nearly every start finds the connector free, so the first attempt writes without that
            // read; a write that finds an open session goes round again with it.
            let open: (session: ChargingSession, inputs: PricingInputs)? =
                accepted && attempt > 0
                ? try await database.read { connection in
                    guard
                        let open = try connection.queryFirst(
                            "SELECT * FROM charging_sessions WHERE station_id = ? AND connector_id = ? AND status = 'active'",
                            stationID, connectorID, map: ChargingSession.init(row:))
                    else { return nil }
                    return (open, try Self.pricingInputs(for: open, in: connection))
                } : nil
            let abandoned = open.map { open in
                abandon(open.session, at: max(startedAt, open.session.startedAt), inputs: open.inputs)
            }
            let now = now()
            let newFlags = flags
            do {
                let outcome = try await database.write { connection -> StartOutcome in
                    if let existing = try connection.queryFirst(
                        "SELECT * FROM charging_sessions WHERE start_key = ?", key, map: ChargingSession.init(row:))
                    {
                        return StartOutcome(session: existing, created: false, abandoned: nil)
                    }
                    guard try connection.queryFirst("SELECT 1 FROM stations WHERE id = ?", stationID, map: { _ in true }) != nil
                    else {
                        throw SessionError.unknownStation(stationID)
                    }
                    if requireKnownConnector {
                        let known = try connection.queryFirst(
                            "SELECT 1 FROM connectors WHERE station_id = ? AND connector_id = ?", stationID, connectorID
                        ) { _ in true }
                        guard known != nil else {
                            throw SessionError.unknownConnector(stationID: stationID, connectorID: connectorID)
                        }
                    }
                    var closed: ChargingSession?
                    if accepted {
                        let current = try connection.queryFirst(
                            "SELECT * FROM charging_sessions WHERE station_id = ? AND connector_id = ? AND status = 'active'",
                            stationID, connectorID, map: ChargingSession.init(row:))
                        if let current {
                            guard let open, let abandoned, current.id == open.session.id,
                                current.version == open.session.version
                            else { throw StaleRead() }
                            closed = try Self.storeClosed(abandoned, expectedVersion: current.version, in: connection)
                        }
                    }
                    let driverID = try connection.queryFirst("SELECT driver_id FROM id_tags WHERE id = ?", idTag) {
                        try $0.get(0, as: String?.self)
                    } ?? nil
                    let transactionID = try connection.queryFirst(
                        "SELECT coalesce(max(transaction_id), 0) + 1 FROM charging_sessions"
                    ) { try $0.get(0, as: Int.self) } ?? 1
                    guard transactionID <= Int(Int32.max) else { throw SessionError.transactionIDsExhausted }
                    var session = ChargingSession(
                        transactionId: transactionID, stationId: stationID, connectorId: connectorID, idTag: idTag,
                        driverId: driverID, startedAt: startedAt, meterStartWh: meterStartWh,
                        status: accepted ? .active : .rejected,
                        tariff: accepted ? try Self.tariff(for: stationID, at: startedAt, in: connection) : nil, now: now)
                    session.startKey = key
                    session.flags = newFlags
                    return StartOutcome(
                        session: try TableStore<ChargingSession>.insert(session, into: connection), created: true,
                        abandoned: closed)
                }
                if let abandoned = outcome.abandoned {
                    events.publish("session.stopped", stationID: abandoned.stationId, payload: abandoned)
                }
                if outcome.created {
                    events.publish("session.started", stationID: stationID, payload: outcome.session)
                }
                return outcome
            } catch is StaleRead {
                continue
            }
        }
        throw SessionError.concurrentUpdate
    }

    /// Records a meter reading: `registerWh` is the meter's absolute register (as in meterStart),
    /// already checked to be plausible. Energy never goes backwards; a reading older than the newest
    /// is kept but changes nothing.
    @discardableResult
    func recordSample(
        transactionID: Int, at: Date, registerWh: Int64?, powerW: Int64?
    ) async throws -> ChargingSession? {
        let updated = try await database.write { connection -> ChargingSession? in
            guard
                var session = try connection.queryFirst(
                    "SELECT * FROM charging_sessions WHERE transaction_id = ?", transactionID,
                    map: ChargingSession.init(row:))
            else { return nil }
            // Registers relative to an implausible meterStart mean nothing.
            let energy =
                session.flags.contains(.implausibleMeterStart) || !Plausible.meterRegisterWh.contains(session.meterStartWh)
                ? nil : registerWh.map { max(0, $0 - session.meterStartWh) }
            try connection.run(
                "INSERT INTO session_samples (session_id, at, energy_wh, power_w) VALUES (?, ?, ?, ?)", session.id, at,
                energy ?? session.energyWh, powerW)
            guard session.status == .active, at >= (session.lastSampleAt ?? .distantPast) else { return nil }
            let version = session.version
            if let energy, energy > session.energyWh {
                session.energyWh = energy
                session.chargingEndedAt = nil
            } else if session.chargingEndedAt == nil, session.lastSampleAt != nil, energy != nil {
                // No energy since the last reading: charging ended at that reading.
                session.chargingEndedAt = session.lastSampleAt
            }
            if let powerW {
                session.currentPowerW = powerW
                if powerW > 0 { session.chargingEndedAt = nil }
            }
            session.lastSampleAt = at
            session.updatedAt = now()
            // Only the columns a sample moves, none of them indexed: a full-row update would rewrite
            // every index of the table on each MeterValues. No version check: the row was read in
            // this same transaction, on the one writer.
            try connection.run(
                """
                UPDATE charging_sessions
                SET energy_wh = ?, current_power_w = ?, last_sample_at = ?, charging_ended_at = ?, updated_at = ?,
                    version = version + 1
                WHERE id = ?
                """, session.energyWh, session.currentPowerW, session.lastSampleAt, session.chargingEndedAt,
                session.updatedAt, session.id)
            session.version = version + 1
            return session
        }
        if let updated { events.publish("session.updated", stationID: updated.stationId, payload: updated) }
        return updated
    }

    /// Marks the session of a transaction with `flag`; nil when there is no such session.
    @discardableResult
    func flag(transactionID: Int, _ flag: SessionFlag) async throws -> ChargingSession? {
        let now = now()
        return try await database.write { connection -> ChargingSession? in
            guard
                var session = try connection.queryFirst(
                    "SELECT * FROM charging_sessions WHERE transaction_id = ?", transactionID,
                    map: ChargingSession.init(row:))
            else { return nil }
            guard !session.flags.contains(flag) else { return session }
            let version = session.version
            session.flags.append(flag)
            session.updatedAt = now
            return try TableStore<ChargingSession>.update(session, expectedVersion: version, in: connection)
        }
    }

    enum SessionReference: Sendable {
        case id(String)
        case transaction(Int)
    }

    /// Stops the session: energy, duration and cost, and — for a completed session with a
    /// non-zero total and no flag that blocks invoicing — its one invoice, written in the same
    /// transaction as the stop. Stopping again returns it as is. Never throws for implausible
    /// numbers: the session is closed and flagged, because a charger retries its stop until answered.
    func stop(
        _ reference: SessionReference, meterStopWh: Int64, stoppedAt: Date, reason: String?, flags: [SessionFlag] = []
    ) async throws -> ChargingSession? {
        let dueDays = invoiceDueDays
        for _ in 0..<Self.attempts {
            let read = try await database.read { connection -> (ChargingSession, PricingInputs)? in
                let found: ChargingSession?
                switch reference {
                case .id(let id): found = try TableStore<ChargingSession>.fetch(id, from: connection)
                case .transaction(let transactionID):
                    found = try connection.queryFirst(
                        "SELECT * FROM charging_sessions WHERE transaction_id = ?", transactionID,
                        map: ChargingSession.init(row:))
                }
                guard let found else { return nil }
                return (found, try Self.pricingInputs(for: found, in: connection))
            }
            guard let (found, inputs) = read else { return nil }
            let now = now()
            var session = found
            switch found.status {
            case .completed, .abandoned:
                return found
            case .rejected:
                guard found.stoppedAt == nil else { return found }
                session.stoppedAt = stoppedAt
                session.meterStopWh = meterStopWh
                session.stopReason = reason
                session.updatedAt = now
            case .active:
                session = completed(found, meterStopWh: meterStopWh, stoppedAt: stoppedAt, reason: reason, flags: flags,
                    inputs: inputs, now: now)
            }
            let closed = session
            do {
                let (stored, invoice) = try await database.write { connection -> (ChargingSession, Invoice?) in
                    let currentVersion = try connection.queryFirst(
                        "SELECT version FROM charging_sessions WHERE id = ?", found.id
                    ) { try $0.get(0, as: Int64.self) }
                    guard currentVersion == found.version else { throw StaleRead() }
                    var session = closed
                    var invoice: Invoice?
                    if session.status == .completed, let cost = session.cost, cost.total.minorUnits > 0,
                        !session.flags.contains(where: \.blocksInvoicing)
                    {
                        invoice = try Self.issueInvoice(for: session, cost: cost, at: now, dueDays: dueDays, in: connection)
                        session.invoiceId = invoice?.id
                    }
                    return (try Self.storeClosed(session, expectedVersion: found.version, in: connection), invoice)
                }
                events.publish("session.stopped", stationID: stored.stationId, payload: stored)
                if let invoice { events.publish("invoice.issued", stationID: stored.stationId, payload: invoice) }
                return stored
            } catch is StaleRead {
                continue
            }
        }
        throw SessionError.concurrentUpdate
    }

    /// The cost so far of an active session, as if it stopped now.
    func estimate(_ session: ChargingSession) async throws -> CostBreakdown? {
        guard session.status == .active, session.tariff != nil else { return session.cost }
        let until = max(now(), session.startedAt)
        let inputs = try await database.read { connection in try Self.pricingInputs(for: session, in: connection) }
        return try? Self.price(session, until: until, inputs: inputs)
    }

    /// The newest `limit` meter samples of a session, oldest first: the session page's chart.
    func samples(of sessionID: String, limit: Int = 2_000) async throws -> [(at: Date, energyWh: Int64, powerW: Int64?)] {
        try await database.read { connection in
            try connection.query(
                "SELECT at, energy_wh, power_w FROM session_samples WHERE session_id = ? ORDER BY at DESC LIMIT ?", sessionID, limit
            ) { (at: try $0.get(0, as: Date.self), energyWh: try $0.get(1, as: Int64.self), powerW: try $0.get(2, as: Int64?.self)) }
                .reversed()
        }
    }

    func session(_ id: String) async throws -> ChargingSession? {
        try await database.read { try TableStore<ChargingSession>.fetch(id, from: $0) }
    }

    /// The transaction of the active session on a station's connector, if one is charging there.
    func activeTransaction(stationID: String, connectorID: Int) async throws -> Int? {
        try await database.read { connection in
            try connection.queryFirst(
                """
                SELECT transaction_id FROM charging_sessions
                WHERE station_id = ? AND connector_id = ? AND status = 'active' ORDER BY started_at DESC LIMIT 1
                """, stationID, connectorID
            ) { try $0.get(0, as: Int.self) }
        }
    }

    func session(transactionID: Int) async throws -> ChargingSession? {
        try await database.read { connection in
            try connection.queryFirst(
                "SELECT * FROM charging_sessions WHERE transaction_id = ?", transactionID, map: ChargingSession.init(row:))
        }
    }

    /// The session, or nil when there is none or `ownedByUser` is set and it is another driver's.
    func session(_ id: String, ownedByUser userID: String?) async throws -> ChargingSession? {
        try await database.read { connection in
            guard let session = try TableStore<ChargingSession>.fetch(id, from: connection) else { return nil }
            guard let userID else { return session }
            let owner = try connection.queryFirst("SELECT user_id FROM drivers WHERE id = ?", session.driverId ?? "") {
                try $0.get(0, as: String?.self)
            } ?? nil
            return owner == userID ? session : nil
        }
    }

    func list(_ query: SessionQuery, page: PageRequest) async throws -> Page<ChargingSession> {
        let filter = query.filter
        return try await database.read { try TableStore<ChargingSession>.list(where: filter, sort: nil, page: page, in: $0) }
    }

    /// Every matching session, oldest start first: the CSV export.
    /// Every session the query matches, for an export; more than `limit` is refused rather than
    /// built into one unbounded response.
    func all(_ query: SessionQuery, limit: Int) async throws -> [ChargingSession] {
        let filter = query.filter
        let rows = try await database.read { connection in
            try connection.query(
                "SELECT * FROM charging_sessions WHERE \(filter.sql) ORDER BY started_at, id LIMIT ?",
                bindings: filter.values + [.integer(Int64(limit) + 1)], map: ChargingSession.init(row:))
        }
        guard rows.count <= limit else { throw SessionError.exportTooLarge(limit: limit) }
        return rows
    }

    // MARK: Closing, computed outside the writer

    /// The active session closed at `stoppedAt` with `meterStopWh`: energy checked against the
    /// plausible ranges, priced, and flagged where its numbers cannot be trusted.
    func completed(
        _ open: ChargingSession, meterStopWh: Int64, stoppedAt: Date, reason: String?, flags: [SessionFlag],
        inputs: PricingInputs, now: Date
    ) -> ChargingSession {
        var session = open
        for flag in flags where !session.flags.contains(flag) { session.flags.append(flag) }
        session.stoppedAt = max(stoppedAt, session.startedAt)
        session.meterStopWh = meterStopWh
        let registersPlausible =
            !session.flags.contains(.implausibleMeterStart) && Plausible.meterRegisterWh.contains(session.meterStartWh)
        if registersPlausible, Plausible.meterRegisterWh.contains(meterStopWh), meterStopWh >= session.meterStartWh {
            // Both within 0…10^12, so the difference cannot overflow.
            session.energyWh = max(session.energyWh, meterStopWh - session.meterStartWh)
        } else if registersPlausible, !session.flags.contains(.implausibleMeterStop) {
            // A register outside the range or running backwards: the samples' energy stands, flagged.
            session.flags.append(.implausibleMeterStop)
        }
        session.stopReason = reason
        session.status = .completed
        session.currentPowerW = nil
        session.updatedAt = now
        finishPricing(&session, until: session.stoppedAt!, inputs: inputs)
        return session
    }

    private func abandon(_ open: ChargingSession, at: Date, inputs: PricingInputs) -> ChargingSession {
        var session = open
        session.status = .abandoned
        session.stoppedAt = at
        session.stopReason = "abandoned: a new session started on the connector"
        session.currentPowerW = nil
        session.updatedAt = now()
        finishPricing(&session, until: at, inputs: inputs)
        return session
    }

    private func finishPricing(_ session: inout ChargingSession, until stop: Date, inputs: PricingInputs) {
        if stop.timeIntervalSince(session.startedAt) > maxBillableDuration, !session.flags.contains(.implausibleDuration) {
            session.flags.append(.implausibleDuration)
        }
        do {
            session.cost = try Self.price(session, until: stop, inputs: inputs)
        } catch {
            session.cost = nil
            if !session.flags.contains(.notPriced) { session.flags.append(.notPriced) }
        }
    }

    static func price(_ session: ChargingSession, until stop: Date, inputs: PricingInputs) throws(TariffError) -> CostBreakdown? {
        guard let tariff = session.tariff else { return nil }
        let usage = ChargeUsage(
            startedAt: session.startedAt, stoppedAt: stop, energyWh: session.energyWh, samples: inputs.samples,
            chargingEndedAt: session.chargingEndedAt, membership: inputs.membership)
        return try TariffCalculator(tariff: tariff).cost(of: usage)
    }

    // MARK: Inside a transaction

    /// Stores what closing a session (stopped, abandoned, a refused one ended) changes, and only
    /// that: a whole-row update would rewrite every index of the table, including those on what a
    /// session was opened with (station, start key, driver, start time), which never change.
    static func storeClosed(_ session: ChargingSession, expectedVersion: Int64, in connection: Connection) throws -> ChargingSession {
        let changed = try connection.run(
            """
            UPDATE charging_sessions
            SET stopped_at = ?, meter_stop_wh = ?, energy_wh = ?, current_power_w = ?, last_sample_at = ?,
                charging_ended_at = ?, status = ?, stop_reason = ?, cost = ?, total_minor = ?, currency = ?, invoice_id = ?,
                flags = ?, updated_at = ?, version = version + 1
            WHERE id = ? AND version = ?
            """,
            bindings: [
                session.stoppedAt.sqlValue, session.meterStopWh.sqlValue, .integer(session.energyWh), session.currentPowerW.sqlValue,
                session.lastSampleAt.sqlValue, session.chargingEndedAt.sqlValue, .text(session.status.rawValue),
                session.stopReason.sqlValue, session.cost.map { .json($0.stored) } ?? .null,
                session.cost.map { .integer($0.total.minorUnits) } ?? .null,
                (session.cost?.currency.code ?? session.tariff?.currency.code).sqlValue, session.invoiceId.sqlValue,
                session.flags.isEmpty ? .text("[]") : .json(session.flags), session.updatedAt.sqlValue, .text(session.id),
                .integer(expectedVersion),
            ])
        guard changed == 1 else { throw StaleRead() }
        var stored = session
        stored.version = expectedVersion + 1
        return stored
    }

    static func pricingInputs(for session: ChargingSession, in connection: Connection) throws -> PricingInputs {
        guard session.tariff != nil else { return PricingInputs(samples: [], membership: nil) }
        let samples = try connection.query(
            "SELECT at, energy_wh FROM session_samples WHERE session_id = ? ORDER BY at", session.id
        ) { (at: try $0.get(0, as: Date.self), energyWh: try $0.get(1, as: Int64.self)) }
        let membership = try session.driverId.flatMap { driverID in
            try connection.queryFirst("SELECT membership FROM drivers WHERE id = ?", driverID) {
                Membership(rawValue: try $0.get(0, as: String.self))
            } ?? nil
        }
        return PricingInputs(samples: samples, membership: membership)
    }

    /// The station's tariff if it is valid at `date`, else the default tariff, else none.
    static func tariff(for stationID: String, at date: Date, in connection: Connection) throws -> Tariff? {
        func valid(_ tariff: Tariff) -> Bool {
            (tariff.validFrom.map { $0 <= date } ?? true) && (tariff.validTo.map { date < $0 } ?? true)
        }
        if let own = try connection.queryFirst(
            "SELECT t.* FROM stations s JOIN tariffs t ON t.id = s.tariff_id WHERE s.id = ?", stationID,
            map: Tariff.init(row:)), valid(own)
        {
            return own
        }
        return try connection.queryFirst("SELECT * FROM tariffs WHERE is_default = 1", map: Tariff.init(row:))
            .flatMap { valid($0) ? $0 : nil }
    }

    /// The next number of the year comes from a counter row updated in the same transaction as
    /// the invoice, so numbers have no gaps and a rolled-back stop takes its number back.
    static func issueInvoice(
        for session: ChargingSession, cost: CostBreakdown, at: Date, dueDays: Int, in connection: Connection
    ) throws -> Invoice {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let year = calendar.component(.year, from: at)
        let sequence = try connection.queryFirst(
            """
            INSERT INTO invoice_counters (year, last) VALUES (?, 1)
            ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last
            """, year
        ) { try $0.get(0, as: Int.self) } ?? 1
        let invoice = Invoice(
            number: String(format: "INV-%d-%06d", year, sequence), driverId: session.driverId, sessionId: session.id,
            cost: cost, issuedAt: at, dueAt: at.addingTimeInterval(Double(dueDays) * 86_400))
        return try TableStore<Invoice>.insert(invoice, into: connection)
    }
}
