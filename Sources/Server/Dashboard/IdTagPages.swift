import Foundation
import Storage

/// Id tags: the list with block/unblock, and the form that creates or changes a tag.
enum IdTagPages {
    static func list(
        _ tags: Page<IdTag>, drivers: [Driver], status: IdTagStatus?, notice: FormOutcome?, session: WebSession, format: DisplayFormat
    ) -> HTML {
        let csrf = DashboardLayout.csrfField(session)
        let names = Dictionary(drivers.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        let rows = tags.items.map { tag -> HTML in
            let toggle: HTML = """
                <form method="post" action="/ui/id-tags/\(DashboardLayout.segment(tag.id))/status" class="inline">
                  \(csrf)
                  <input type="hidden" name="status" value="\(tag.status == .blocked ? IdTagStatus.accepted.rawValue : IdTagStatus.blocked.rawValue)">
                  <button type="submit" class="secondary">\(tag.status == .blocked ? "Unblock" : "Block")</button>
                </form>
                """
            return """
                <tr data-id-tag="\(tag.id)">
                  <td>\(tag.id)</td>
                  <td class="tag-status">\(tag.status.rawValue)</td>
                  <td>\(tag.kind.rawValue)</td>
                  <td>\(tag.driverId.map { names[$0] ?? $0 })</td>
                  <td>\(format.time(tag.expiresAt))</td>
                  <td>\(tag.parentIdTag)</td>
                  <td>\(tag.kind == .rfid ? toggle : .empty)</td>
                </tr>
                """
        }
        let statuses = [(value: "", label: "any")] + IdTagStatus.allCases.map { (value: $0.rawValue, label: $0.rawValue) }
        let driverOptions = [(value: "", label: "none")] + drivers.map { (value: $0.id, label: "\($0.name) <\($0.email)>") }
        return """
            <h1>Id tags</h1>
            \(DashboardLayout.notice(notice))
            <form class="inline" method="get" action="/ui/id-tags" role="search">
              <label for="filter-status">Status <select id="filter-status" name="status">\(DashboardLayout.options(statuses, selected: status?.rawValue ?? ""))</select></label>
              <button type="submit">Filter</button>
            </form>
            <section class="panel">
              \(DashboardLayout.table(id: "id-tags", ["Tag", "Status", "Kind", "Driver", "Expires", "Parent", ""], rows, empty: "No id tags."))
              \(DashboardLayout.nextPage("/ui/id-tags", cursor: tags.nextCursor, [("status", status?.rawValue)]))
            </section>
            <section class="panel">
              <h2>Add or change a tag</h2>
              <form class="inline" method="post" action="/ui/id-tags" id="tag-form">
                \(csrf)
                <label for="tag-id">Tag <input id="tag-id" name="idTag" required maxlength="20"></label>
                <label for="tag-status">Status <select id="tag-status" name="status">\(DashboardLayout.options(IdTagStatus.allCases.map { (value: $0.rawValue, label: $0.rawValue) }, selected: IdTagStatus.accepted.rawValue))</select></label>
                <label for="tag-driver">Driver <select id="tag-driver" name="driverId">\(DashboardLayout.options(driverOptions, selected: ""))</select></label>
                <label for="tag-expires">Expires after <input id="tag-expires" name="expiresAt" type="date"></label>
                <label for="tag-parent">Parent tag <input id="tag-parent" name="parentIdTag" maxlength="20"></label>
                <button type="submit">Save tag</button>
              </form>
            </section>
            """
    }
}
