import Foundation
import Storage

/// The audit trail: the admin page with its filters, and the panel on a station's and a driver's page.
enum AuditPages {
    /// The filters as the page's form and links carry them: the API's names, times as the
    /// `datetime-local` inputs give them (in the display zone).
    struct Filter: Sendable {
        var actor: String?
        var targetType: String?
        var targetId: String?
        var action: String?
        var stationId: String?
        var driverId: String?
        var from: String?
        var to: String?

        init(_ form: FormFields) {
            func field(_ name: String) -> String? { form.text(name).map { String($0.prefix(200)) } }
            actor = field("actor")
            targetType = field("targetType")
            targetId = field("targetId")
            action = field("action")
            stationId = field("stationId")
            driverId = field("driverId")
            from = field("from")
            to = field("to")
        }

        var parameters: [(String, String?)] {
            [
                ("actor", actor), ("targetType", targetType), ("targetId", targetId), ("action", action),
                ("stationId", stationId), ("driverId", driverId), ("from", from), ("to", to),
            ]
        }

        func query(format: DisplayFormat) throws -> AuditQuery {
            var validator = Validator()
            func moment(_ text: String?, _ field: String) -> Date? {
                guard let text else { return nil }
                // The page's inputs give local times; an ISO 8601 time with a zone is taken as it is.
                guard let date = format.moment(text) ?? ISO8601Timestamp.parse(text) else {
                    validator.fail(field, "must be a date and time such as 2026-01-31T10:00")
                    return nil
                }
                return date
            }
            let query = AuditQuery(
                actorUserID: actor, targetType: targetType, targetID: targetId, action: action, stationID: stationId,
                driverID: driverId, from: moment(from, "from"), to: moment(to, "to"))
            try validator.throwIfInvalid()
            return query
        }
    }

    static func page(_ entries: Page<AuditEntry>, filter: Filter, format: DisplayFormat) -> HTML {
        func input(_ name: String, _ label: String, _ value: String?, type: String = "text") -> HTML {
            "<label for=\"audit-\(name)\">\(label) <input id=\"audit-\(name)\" name=\"\(name)\" type=\"\(type)\" value=\"\(value)\" maxlength=\"200\"></label>"
        }
        return """
            <h1>Audit log</h1>
            <form class="inline" method="get" action="/ui/audit" role="search" id="audit-filters">
              \(input("actor", "Actor (user id)", filter.actor))
              \(input("action", "Action", filter.action))
              \(input("targetType", "Target type", filter.targetType))
              \(input("targetId", "Target id", filter.targetId))
              \(input("stationId", "Station", filter.stationId))
              \(input("driverId", "Driver", filter.driverId))
              \(input("from", "From", filter.from, type: "datetime-local"))
              \(input("to", "To", filter.to, type: "datetime-local"))
              <button type="submit">Filter</button>
            </form>
            <section class="panel">
              \(table(entries.items, id: "audit-entries", format: format))
              \(DashboardLayout.nextPage("/ui/audit", cursor: entries.nextCursor, filter.parameters))
              <p><a href="/ui/audit/export.csv?\(DashboardLayout.queryString(filter.parameters))" download>Export CSV</a></p>
            </section>
            """
    }

    /// The latest entries about one station or driver, with a link to all of them.
    static func panel(_ entries: [AuditEntry], all: [(String, String?)], format: DisplayFormat) -> HTML {
        """
        <section class="panel" id="audit-panel">
          <h2>Audit trail</h2>
          \(table(entries, id: "audit-panel-entries", format: format))
          <p><a href="/ui/audit?\(DashboardLayout.queryString(all))">The whole audit trail</a></p>
        </section>
        """
    }

    static let shownChanges = 400

    private static func table(_ entries: [AuditEntry], id: String, format: DisplayFormat) -> HTML {
        let rows = entries.map { entry -> HTML in
            let changes = entry.changesText
            let shown = changes.count > shownChanges ? String(changes.prefix(shownChanges)) + "…" : changes
            return """
                <tr data-audit-id="\(String(entry.id))"><td>\(format.time(entry.at))</td>
                <td>\(entry.actorUserId ?? "—") <span class="muted">\(entry.actorRole)</span></td>
                <td>\(entry.action)</td><td>\(entry.targetType) \(entry.targetId)</td>
                <td><code>\(shown)</code></td>
                <td>\(entry.address ?? "—") <span class="muted">\(entry.userAgent)</span></td>
                <td><span class="muted">\(entry.route)</span><br>request \(entry.requestId ?? "—")\(entry.traceId.map { " · trace \($0)" } ?? "")</td></tr>
                """
        }
        return DashboardLayout.table(
            id: id, ["Time", "Actor", "Action", "Target", "Changes", "From", "Request"], rows, empty: "No audit entries.")
    }
}
