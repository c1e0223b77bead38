import Foundation
import Storage

/// Charging sessions: the operations both the REST routes and the OCPP handlers call.
struct SessionService: Sendable {
    let database: Database
    let events: EventBus
    let invoiceDueDays: Int
    let now: @Sendable () -> Date

    struct StartOutcome: Sendable {
        var session: ChargingSession
        /// False when the same start was seen before and its session is returned again.
        var created: Bool
        /// The session that was still open on the connector and was closed as abandoned.
        var abandoned: ChargingSession?
    }

    /// Starts a session, or returns the one this very start (same station, connector, id tag,
    /// start time and meter start) already created. `accepted: false` records a session the
    /// charger was told it may not run (`rejected`), so that its later stop still matches.
    func start(
        stationID: String, connectorID: Int, idTag: String, startedAt: Date, meterStartWh: Int64, accepted: Bool
    ) async throws -> StartOutcome {
        let now = now()
        let key = ChargingSession.startKey(
            stationID: stationID, connectorID: connectorID, idTag: idTag, startedAt: startedAt, meterStartWh: meterStartWh)
        let outcome = try await database.write { connection -> StartOutcome in
            if let existing = try connection.queryFirst(
                "SELECT * FROM charging_sessions WHERE start_key = ?", key, map: ChargingSession.init(row:))
            {
                return StartOutcome(session: existing, created: false, abandoned: nil)
            }
            guard try TableStore<Station>.fetch(stationID, from: connection) != nil else {
                throw APIError.validation(field: "stationId", "no station \(stationID)")
            }
            var abandoned: ChargingSession?
            if accepted,
                let open = try connection.queryFirst(
                    "SELECT * FROM charging_sessions WHERE station_id = ? AND connector_id = ? AND status = 'active'",
                    stationID, connectorID, map: ChargingSession.init(row:))
            {
                abandoned = try Self.abandon(open, at: max(startedAt, open.startedAt), now: now, in: connection)
            }
            let driverID = try connection.queryFirst("SELECT driver_id FROM id_tags WHERE id = ?", idTag) {
                try $0.get(0, as: String?.self)
            } ?? nil
            let transactionID = try connection.queryFirst(
                "SELECT coalesce(max(transaction_id), 0) + 1 FROM charging_sessions"
            ) { try $0.get(0, as: Int.self) } ?? 1
            guard transactionID <= Int(Int32.max) else {
                throw APIError.conflict("transaction ids are exhausted")
            }
            let session = ChargingSession(
                transactionId: transactionID, stationId: stationID, connectorId: connectorID, idTag: idTag,
                driverId: driverID, startedAt: startedAt, meterStartWh: meterStartWh,
                status: accepted ? .active : .rejected,
                tariff: accepted ? try Self.tariff(for: stationID, at: startedAt, in: connection) : nil, now: now)
            return StartOutcome(
                session: try TableStore<ChargingSession>.insert(session, into: connection), created: true,
                abandoned: abandoned)
        }
        if let abandoned = outcome.abandoned {
            events.publish("session.stopped", stationID: abandoned.stationId, payload: abandoned)
        }
        if outcome.created {
            events.publish("session.started", stationID: stationID, payload: outcome.session)
        }
        return outcome
    }

    /// Records a meter reading: `registerWh` is the meter's absolute register (as in meterStart).
    /// Energy never goes backwards; a reading older than the newest is kept but changes nothing.
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
            let energy = registerWh.map { max(0, $0 - session.meterStartWh) }
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
            return try TableStore<ChargingSession>.update(session, expectedVersion: version, in: connection)
        }
        if let updated { events.publish("session.updated", stationID: updated.stationId, payload: updated) }
        return updated
    }

    enum SessionReference: Sendable {
        case id(String)
        case transaction(Int)
    }

    /// Stops the session: energy, duration and cost, and — for a completed session with a
    /// non-zero total — its one invoice, in the same transaction. Stopping again returns it as is.
    func stop(
        _ reference: SessionReference, meterStopWh: Int64, stoppedAt: Date, reason: String?
    ) async throws -> ChargingSession? {
        let now = now()
        let dueDays = invoiceDueDays
        let (session, invoice, changed) = try await database.write { connection -> (ChargingSession?, Invoice?, Bool) in
            let found: ChargingSession?
            switch reference {
            case .id(let id): found = try TableStore<ChargingSession>.fetch(id, from: connection)
            case .transaction(let transactionID):
                found = try connection.queryFirst(
                    "SELECT * FROM charging_sessions WHERE transaction_id = ?", transactionID,
                    map: ChargingSession.init(row:))
            }
            guard var session = found else { return (nil, nil, false) }
            switch session.status {
            case .completed, .abandoned:
                return (session, nil, false)
            case .rejected:
                guard session.stoppedAt == nil else { return (session, nil, false) }
                let version = session.version
                session.stoppedAt = stoppedAt
                session.meterStopWh = meterStopWh
                session.stopReason = reason
                session.updatedAt = now
                return (try TableStore<ChargingSession>.update(session, expectedVersion: version, in: connection), nil, true)
            case .active:
                break
            }
            let version = session.version
            session.stoppedAt = max(stoppedAt, session.startedAt)
            session.meterStopWh = meterStopWh
            session.energyWh = max(session.energyWh, meterStopWh - session.meterStartWh, 0)
            session.stopReason = reason
            session.status = .completed
            session.currentPowerW = nil
            session.updatedAt = now
            session.cost = try Self.price(session, until: session.stoppedAt!, in: connection)
            var invoice: Invoice?
            if let cost = session.cost, cost.total.minorUnits > 0 {
                invoice = try Self.issueInvoice(for: session, cost: cost, at: now, dueDays: dueDays, in: connection)
                session.invoiceId = invoice?.id
            }
            return (try TableStore<ChargingSession>.update(session, expectedVersion: version, in: connection), invoice, true)
        }
        if let session, changed {
            events.publish("session.stopped", stationID: session.stationId, payload: session)
        }
        if let invoice { events.publish("invoice.issued", stationID: session?.stationId, payload: invoice) }
        return session
    }

    /// The cost so far of an active session, as if it stopped now.
    func estimate(_ session: ChargingSession) async throws -> CostBreakdown? {
        guard session.status == .active, session.tariff != nil else { return session.cost }
        let until = max(now(), session.startedAt)
        return try await database.read { connection in try Self.price(session, until: until, in: connection) }
    }

    func session(_ id: String) async throws -> ChargingSession? {
        try await database.read { try TableStore<ChargingSession>.fetch(id, from: $0) }
    }

    func session(transactionID: Int) async throws -> ChargingSession? {
        try await database.read { connection in
            try connection.queryFirst(
                "SELECT * FROM charging_sessions WHERE transaction_id = ?", transactionID, map: ChargingSession.init(row:))
        }
    }

    func list(_ filter: QueryFilter, page: PageRequest) async throws -> Page<ChargingSession> {
        try await database.read { try TableStore<ChargingSession>.list(where: filter, sort: nil, page: page, in: $0) }
    }

    // MARK: Inside a transaction

    private static func abandon(_ open: ChargingSession, at: Date, now: Date, in connection: Connection) throws
        -> ChargingSession
    {
        var session = open
        session.status = .abandoned
        session.stoppedAt = at
        session.stopReason = "abandoned: a new session started on the connector"
        session.currentPowerW = nil
        session.updatedAt = now
        session.cost = try price(session, until: at, in: connection)
        return try TableStore<ChargingSession>.update(session, expectedVersion: open.version, in: connection)
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

    static func price(_ session: ChargingSession, until stop: Date, in connection: Connection) throws -> CostBreakdown? {
        guard let tariff = session.tariff else { return nil }
        let samples = try connection.query(
            "SELECT at, energy_wh FROM session_samples WHERE session_id = ? ORDER BY at", session.id
        ) { (at: try $0.get(0, as: Date.self), energyWh: try $0.get(1, as: Int64.self)) }
        let membership = try session.driverId.flatMap { driverID in
            try connection.queryFirst("SELECT membership FROM drivers WHERE id = ?", driverID) {
                Membership(rawValue: try $0.get(0, as: String.self))
            } ?? nil
        }
        let usage = ChargeUsage(
            startedAt: session.startedAt, stoppedAt: stop, energyWh: session.energyWh, samples: samples,
            chargingEndedAt: session.chargingEndedAt, membership: membership)
        return TariffCalculator(tariff: tariff).cost(of: usage)
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
