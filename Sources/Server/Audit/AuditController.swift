import Foundation
import Hummingbird
import Storage

/// `/api/v1/audit`: admins read the audit log and export it as CSV. There is deliberately no
/// route that changes or deletes an entry.
struct AuditController {
    let audit: AuditRepository
    /// Entries one CSV export may hold; a wider range is refused (422) so one request's work is bounded.
    var exportLimit = 100_000

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("/api/v1/audit") { request, _ in
            let parameters = request.uri.queryParameters
            let listed = try await audit.list(try Self.query(parameters), page: try PageRequest(from: parameters))
            return try jsonResponse(ListResponse(items: listed.items, nextCursor: listed.nextCursor))
        }
        router.get("/api/v1/audit/export.csv") { request, _ in
            try await csv(try Self.query(request.uri.queryParameters))
        }
    }

    /// The filters from a query string (the API's and the dashboard's use the same names).
    static func query(_ parameters: Parameters) throws -> AuditQuery {
        var validator = Validator()
        let fields: [(String, String?)] = [
            ("actor", parameters.text("actor")), ("targetType", parameters.text("targetType")),
            ("targetId", parameters.text("targetId")), ("action", parameters.text("action")),
            ("stationId", parameters.text("stationId")), ("driverId", parameters.text("driverId")),
        ]
        // Counted in code points, as the OpenAPI document's maxLength is (a combining mark is one).
        for (name, value) in fields {
            validator.check(value.map { (1...200).contains($0.unicodeScalars.count) } ?? true, name, "must be 1–200 characters")
        }
        let query = AuditQuery(
            actorUserID: parameters.text("actor"), targetType: parameters.text("targetType"),
            targetID: parameters.text("targetId"), action: parameters.text("action"),
            stationID: parameters.text("stationId"), driverID: parameters.text("driverId"),
            from: try parameters.date("from"), to: try parameters.date("to"))
        if let from = query.from, let to = query.to { validator.check(from <= to, "to", "must not be before from") }
        try validator.throwIfInvalid()
        return query
    }

    /// One row per entry, newest first; the changes as one JSON cell (the dashboard's export too).
    func csv(_ query: AuditQuery) async throws -> Response {
        let entries = try await audit.all(query, limit: exportLimit)
        var document = CSVDocument(columns: [
            "id", "at", "actor_user_id", "actor_role", "address", "user_agent", "request_id", "trace_id", "route", "action",
            "target_type", "target_id", "station_id", "driver_id", "changes",
        ])
        for entry in entries {
            document.append([
                String(entry.id), WireFormat.formatDate(entry.at), entry.actorUserId ?? "", entry.actorRole ?? "",
                entry.address ?? "", entry.userAgent ?? "", entry.requestId ?? "", entry.traceId ?? "", entry.route ?? "",
                entry.action, entry.targetType, entry.targetId, entry.stationId ?? "", entry.driverId ?? "",
                entry.changesText,
            ])
        }
        return document.response(filename: "audit.csv")
    }
}
