extension OpenAPIDocument {
    /// The audit log: read and export only; no operation changes or deletes an entry.
    static var auditOperations: [Operation] {
        let filters: [DocumentValue] = [
            JSONSchema.query("actor", JSONSchema.string(1, 200), "The acting user's id."),
            JSONSchema.query("targetType", JSONSchema.string(1, 200), "station, tariff, user, id_tag, …"),
            JSONSchema.query("targetId", JSONSchema.string(1, 200)),
            JSONSchema.query("action", JSONSchema.string(1, 200), "station.update, ocpp.Reset, …"),
            JSONSchema.query("stationId", JSONSchema.string(1, 200), "Entries about this station and what belongs to it."),
            JSONSchema.query("driverId", JSONSchema.string(1, 200), "Entries about this driver and their tags, invoices, …"),
            JSONSchema.query("from", JSONSchema.dateTime), JSONSchema.query("to", JSONSchema.dateTime),
        ]
        return [
            Operation(
                method: "GET", path: "/api/v1/audit", tag: "Audit", summary: "List audit entries, newest first",
                query: filters + JSONSchema.paging, responses: [200: .json(JSONSchema.list(JSONSchema.ref("AuditEntry")))]),
            Operation(
                method: "GET", path: "/api/v1/audit/export.csv", tag: "Audit", summary: "Audit entries as CSV",
                query: filters, responses: [200: .text(contentType: "text/csv")]),
        ]
    }

    static var auditSchemas: [String: DocumentValue] {
        [
            "AuditEntry": JSONSchema.object(
                [
                    "id": JSONSchema.integer, "at": JSONSchema.dateTime, "actorUserId": JSONSchema.string,
                    "actorRole": JSONSchema.string, "address": JSONSchema.string, "userAgent": JSONSchema.string,
                    "requestId": JSONSchema.string, "traceId": JSONSchema.string, "route": JSONSchema.string,
                    "action": JSONSchema.string, "targetType": JSONSchema.string, "targetId": JSONSchema.string,
                    "stationId": JSONSchema.string, "driverId": JSONSchema.string,
                    "changes": JSONSchema.anyObject,
                ], required: ["id", "at", "action", "targetType", "targetId", "changes"])
        ]
    }
}
