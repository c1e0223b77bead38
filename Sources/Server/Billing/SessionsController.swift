import Foundation
import Hummingbird
import Storage

/// `/api/v1/sessions`. Drivers see their own sessions only; operators record and stop by hand.
struct SessionsController {
    let sessions: SessionService
    let idempotency: Idempotency
    /// Rows one CSV export may hold; a wider range is refused (422) so one request's work is bounded.
    var exportLimit = 100_000

    struct StartRequest: Decodable, Sendable {
        var stationId: String
        var connectorId: Int
        var idTag: String
        var startedAt: Date
        var meterStartWh: Int64
    }

    struct StopRequest: Decodable, Sendable {
        var meterStopWh: Int64
        var stoppedAt: Date
        var reason: String?
    }

    /// A session with, while it is active, its energy and cost so far.
    struct SessionView: Encodable, Sendable {
        var session: ChargingSession
        var durationSeconds: Int
        var estimatedCost: CostBreakdown?

        func encode(to encoder: any Encoder) throws {
            try session.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(durationSeconds, forKey: .durationSeconds)
            try container.encodeIfPresent(estimatedCost, forKey: .estimatedCost)
        }

        private enum Keys: String, CodingKey { case durationSeconds, estimatedCost }
    }

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("/api/v1/sessions") { request, context in
            let identity = try context.requireSignedIn()
            let parameters = request.uri.queryParameters
            var validator = Validator()
            let status = validator.parse(parameters.text("status"), as: SessionStatus.self, field: "status")
            try validator.throwIfInvalid()
            let query = SessionQuery(
                ownedByUser: Self.owner(identity), stationID: parameters.text("stationId"),
                driverID: parameters.text("driverId"), status: status, startedFrom: try parameters.date("from"),
                startedBefore: try parameters.date("to"))
            let page = try await sessions.list(query, page: try PageRequest(from: parameters))
            let views = page.items.map { SessionView(session: $0, durationSeconds: duration($0), estimatedCost: nil) }
            return try jsonResponse(ListResponse(items: views, nextCursor: page.nextCursor))
        }
        router.get("/api/v1/sessions/export.csv") { request, context in
            let parameters = request.uri.queryParameters
            return try await csv(
                SessionQuery(startedFrom: try parameters.date("from"), startedBefore: try parameters.date("to")))
        }
        router.get("/api/v1/sessions/{id}") { _, context in
            let session = try await visibleSession(try context.parameters.require("id"), context: context)
            return try jsonResponse(
                SessionView(
                    session: session, durationSeconds: duration(session),
                    estimatedCost: try await sessions.estimate(session)))
        }
        router.post("/api/v1/sessions") { request, context in
            let (raw, body) = try await request.bodyAndJSON(as: StartRequest.self)
            var validator = Validator()
            // An OCPP connector id is an int32; the session must name a connector the station has.
            validator.check((1...Int(Int32.max)).contains(body.connectorId), "connectorId", "must be from 1 to 2147483647")
            validator.check(IdTag.isValid(body.idTag), "idTag", "must be 1–20 printable ASCII characters")
            validator.check(
                Plausible.meterRegisterWh.contains(body.meterStartWh), "meterStartWh",
                "must be from 0 to \(Plausible.meterRegisterWh.upperBound)")
            validator.check(
                Plausible.chargerTime(body.startedAt, now: sessions.now()), "startedAt",
                "must be after 2010-01-01 and at most a day ahead of now")
            try validator.throwIfInvalid()
            return try await idempotency.run(request, context: context, body: raw) { _ in
                let outcome = try await sessions.start(
                    stationID: body.stationId, connectorID: body.connectorId, idTag: body.idTag,
                    startedAt: body.startedAt, meterStartWh: body.meterStartWh, accepted: true,
                    requireKnownConnector: true)
                return try JSONReply(
                    SessionView(session: outcome.session, durationSeconds: duration(outcome.session), estimatedCost: nil),
                    status: outcome.created ? .created : .ok,
                    headers: [.location: "/api/v1/sessions/\(outcome.session.id)"])
            }
        }
        router.post("/api/v1/sessions/{id}/stop") { request, context in
            let id = try context.parameters.require("id")
            let (raw, body) = try await request.bodyAndJSON(as: StopRequest.self)
            var validator = Validator()
            validator.check(
                Plausible.meterRegisterWh.contains(body.meterStopWh), "meterStopWh",
                "must be from 0 to \(Plausible.meterRegisterWh.upperBound)")
            validator.check(
                Plausible.chargerTime(body.stoppedAt, now: sessions.now()), "stoppedAt",
                "must be after 2010-01-01 and at most a day ahead of now")
            validator.text(body.reason, "reason", length: 0...200)
            try validator.throwIfInvalid()
            return try await idempotency.run(request, context: context, body: raw) { _ in
                guard let existing = try await sessions.session(id) else { throw SessionError.notFound(id) }
                guard body.stoppedAt >= existing.startedAt else { throw SessionError.stopBeforeStart }
                guard let session = try await sessions.stop(
                    .id(id), meterStopWh: body.meterStopWh, stoppedAt: body.stoppedAt, reason: body.reason)
                else { throw SessionError.notFound(id) }
                return try JSONReply(SessionView(session: session, durationSeconds: duration(session), estimatedCost: nil))
            }
        }
    }

    /// Staff see every session; a driver only those of their own driver profile.
    private static func owner(_ identity: Identity) -> String? {
        identity.role == .driver ? identity.userID : nil
    }

    private func visibleSession(_ id: String, context: AppRequestContext) async throws -> ChargingSession {
        let identity = try context.requireSignedIn()
        guard let session = try await sessions.session(id, ownedByUser: Self.owner(identity)) else {
            throw SessionError.notFound(id)
        }
        return session
    }

    private func duration(_ session: ChargingSession) -> Int {
        Int((session.stoppedAt ?? sessions.now()).timeIntervalSince(session.startedAt).rounded())
    }

    /// One row per session, the columns operators reconcile with (the dashboard's export button too).
    func csv(_ query: SessionQuery) async throws -> Response {
        let rows = try await sessions.all(query, limit: exportLimit)
        var document = CSVDocument(columns: [
            "session_id", "transaction_id", "station_id", "connector_id", "id_tag", "driver_id", "status", "started_at",
            "stopped_at", "duration_seconds", "meter_start_wh", "meter_stop_wh", "energy_wh", "currency", "subtotal", "tax",
            "total", "invoice_id", "stop_reason",
        ])
        for session in rows {
            document.append([
                session.id, String(session.transactionId), session.stationId, String(session.connectorId), session.idTag,
                session.driverId ?? "", session.status.rawValue, WireFormat.formatDate(session.startedAt),
                session.stoppedAt.map(WireFormat.formatDate) ?? "", String(duration(session)),
                String(session.meterStartWh), session.meterStopWh.map(String.init) ?? "", String(session.energyWh),
                session.cost?.currency.code ?? "", session.cost?.subtotal.decimalString ?? "",
                session.cost?.tax.decimalString ?? "", session.cost?.total.decimalString ?? "", session.invoiceId ?? "",
                session.stopReason ?? "",
            ])
        }
        return document.response(filename: "sessions.csv")
    }
}
