import Foundation
import Storage

/// Reservations in the database, and the `reservation.*` events that tell of their changes. Every
/// change is a conditional write on the one writer, so a charger's answer, a start that uses the
/// reservation, a cancel and the expiry sweep never undo one another: only an open reservation
/// moves on.
struct ReservationRepository: Sendable {
    let database: Database
    let events: EventBus

    /// Reservation ids are 32-bit in OCPP; each station counts its own from 1.
    static let maximumReservationID = Int(Int32.max)

    func reservation(_ id: String) async throws -> Reservation {
        guard let found = try await database.read({ try TableStore<Reservation>.fetch(id, from: $0) }) else {
            throw ReservationError.notFound(id)
        }
        return found
    }

    func list(_ query: ReservationQuery, page: PageRequest) async throws -> Page<Reservation> {
        let filter = query.filter
        return try await database.read { try TableStore<Reservation>.list(where: filter, sort: nil, page: page, in: $0) }
    }

    /// The open reservations of a station, soonest to expire first.
    func open(stationID: String) async throws -> [Reservation] {
        try await database.read { connection in
            try connection.query(
                "SELECT * FROM reservations WHERE station_id = ? AND status IN ('pending', 'active') ORDER BY expires_at",
                stationID, map: Reservation.init(row:))
        }
    }

    /// Stores a new pending reservation under the station's next reservation id, unless its
    /// connector (or the station, for connector 0) or its tag already holds an open one.
    func insertPending(_ draft: Reservation) async throws -> Reservation {
        let stored = try await database.write { connection -> Reservation in
            let clash = try connection.queryFirst(
                """
                SELECT connector_id FROM reservations
                WHERE station_id = ? AND connector_id = ? AND status IN ('pending', 'active') LIMIT 1
                """, draft.stationId, draft.connectorId
            ) { try $0.get(0, as: Int.self) }
            if clash != nil { throw ReservationError.connectorReserved(stationID: draft.stationId, connectorID: draft.connectorId) }
            let held = try connection.queryFirst(
                "SELECT id FROM reservations WHERE id_tag = ? COLLATE NOCASE AND status IN ('pending', 'active') LIMIT 1",
                draft.idTag
            ) { try $0.get(0, as: String.self) }
            if held != nil { throw ReservationError.tagHoldsReservation(draft.idTag) }
            let next = try connection.queryFirst(
                "SELECT coalesce(max(reservation_id), 0) + 1 FROM reservations WHERE station_id = ?", draft.stationId
            ) { try $0.get(0, as: Int.self) } ?? 1
            guard next <= Self.maximumReservationID else { throw ReservationError.idsExhausted(draft.stationId) }
            var reservation = draft
            reservation.reservationId = next
            reservation.status = .pending
            return try TableStore<Reservation>.insert(reservation, into: connection)
        }
        events.publish("reservation.created", stationID: stored.stationId, payload: stored)
        return stored
    }

    /// The charger's answer to a ReserveNow — whoever sent it. An open reservation with that id is
    /// updated (a repeated ReserveNow replaces a reservation, as OCPP says); one sent through the
    /// passthrough, which we have not stored yet, is stored from the request.
    func recordAnswer(
        stationID: String, reservationID: Int, connectorID: Int, idTag: String, parentIdTag: String?, expiresAt: Date,
        answer: String, at: Date
    ) async throws {
        let status: ReservationStatus = answer == "Accepted" ? .active : .refused
        let stored = try await database.write { connection -> Reservation in
            if var open = try connection.queryFirst(
                "SELECT * FROM reservations WHERE station_id = ? AND reservation_id = ? AND status IN ('pending', 'active')",
                stationID, reservationID, map: Reservation.init(row:))
            {
                open.connectorId = connectorID
                open.idTag = idTag
                open.parentIdTag = parentIdTag
                open.expiresAt = expiresAt
                open.status = status
                open.chargerAnswer = answer
                open.updatedAt = at
                if status == .refused { open.endedAt = at }
                return try TableStore<Reservation>.update(open, expectedVersion: open.version, in: connection)
            }
            // Ended while it waited for this answer (expired, cancelled, failed first): it stays
            // ended, with the answer.
            if var ended = try connection.queryFirst(
                """
                SELECT * FROM reservations
                WHERE station_id = ? AND reservation_id = ? AND charger_answer IS NULL
                    AND status IN ('expired', 'cancelled', 'failed')
                ORDER BY created_at DESC LIMIT 1
                """, stationID, reservationID, map: Reservation.init(row:))
            {
                ended.chargerAnswer = answer
                ended.updatedAt = at
                return try TableStore<Reservation>.update(ended, expectedVersion: ended.version, in: connection)
            }
            let driverID = try connection.queryFirst("SELECT driver_id FROM id_tags WHERE id = ? COLLATE NOCASE", idTag) {
                try $0.get(0, as: String?.self)
            } ?? nil
            var reservation = Reservation(
                id: Identifiers.make(), stationId: stationID, connectorId: connectorID, reservationId: reservationID,
                idTag: idTag, parentIdTag: parentIdTag, driverId: driverID, expiresAt: expiresAt, createdBy: nil, now: at)
            reservation.status = status
            reservation.chargerAnswer = answer
            if status == .refused { reservation.endedAt = at }
            return try TableStore<Reservation>.insert(reservation, into: connection)
        }
        events.publish("reservation.updated", stationID: stationID, payload: stored)
    }

    /// The charger's answer to a CancelReservation. Accepted cancels it; Rejected means the charger
    /// holds no such reservation — then it holds nothing for the tag either, so ours ends as well.
    func recordCancel(stationID: String, reservationID: Int, answer: String, at: Date) async throws {
        try await finish(
            "station_id = ? AND reservation_id = ?", [.text(stationID), .integer(Int64(reservationID))], as: .cancelled, at: at
        ) { $0.cancelAnswer = answer }
    }

    /// A call that never reached the charger, or got no answer: the pending reservation failed.
    func recordFailure(_ id: String, reason: String, at: Date) async throws {
        try await finish("id = ? AND status = 'pending'", [.text(id)], as: .failed, at: at) { $0.failure = reason }
    }

    /// A session started on a reservation: the one it names (`reservationID`), or else an open one
    /// of the station for that connector (or any) and the starting tag or the tag's parent.
    func markUsed(
        stationID: String, connectorID: Int, idTag: String, parentIdTag: String?, reservationID: Int?, sessionID: String,
        transactionID: Int, at: Date
    ) async throws {
        // Most starts use no reservation: a read on a reader costs less than a write on the writer.
        let anyOpen = try await database.read { connection in
            try connection.queryFirst(
                "SELECT 1 FROM reservations WHERE station_id = ? AND status IN ('pending', 'active') LIMIT 1", stationID
            ) { try $0.get(0, as: Int.self) } != nil
        }
        guard anyOpen else { return }
        var clause = "station_id = ? AND "
        var bindings: [SQLValue] = [.text(stationID)]
        if let reservationID {
            clause += "reservation_id = ?"
            bindings.append(.integer(Int64(reservationID)))
        } else {
            clause += "connector_id IN (0, ?) AND (id_tag = ? COLLATE NOCASE OR (parent_id_tag IS NOT NULL AND parent_id_tag = ?))"
            bindings += [.integer(Int64(connectorID)), .text(idTag), parentIdTag.map(SQLValue.text) ?? .null]
        }
        try await finish(clause, bindings, as: .used, at: at, limit: 1) { reservation in
            reservation.sessionId = sessionID
            reservation.transactionId = transactionID
        }
    }

    /// Open reservations whose time has come end as expired.
    func expireDue(now: Date) async throws {
        try await finish("expires_at <= ?", [now.sqlValue], as: .expired, at: now)
    }

    /// Moves the open reservations matching `clause` to a final `status`, one transaction, and
    /// tells of each.
    private func finish(
        _ clause: String, _ bindings: [SQLValue], as status: ReservationStatus, at: Date, limit: Int = 1000,
        _ change: @escaping @Sendable (inout Reservation) -> Void = { _ in }
    ) async throws {
        let finished = try await database.write { connection -> [Reservation] in
            let due = try connection.query(
                """
                SELECT * FROM reservations WHERE \(clause) AND status IN ('pending', 'active')
                ORDER BY expires_at LIMIT \(limit)
                """, bindings: bindings, map: Reservation.init(row:))
            return try due.map { found in
                var reservation = found
                reservation.status = status
                reservation.updatedAt = at
                // An expired reservation ended at its time, not at the sweep that noticed.
                reservation.endedAt = status == .expired ? min(at, found.expiresAt) : at
                change(&reservation)
                return try TableStore<Reservation>.update(reservation, expectedVersion: found.version, in: connection)
            }
        }
        for reservation in finished {
            events.publish("reservation.updated", stationID: reservation.stationId, payload: reservation)
        }
    }
}
