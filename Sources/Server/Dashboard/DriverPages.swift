import Foundation
import Storage

/// Drivers: the list and the form that adds one.
enum DriverPages {
    static func list(
        _ drivers: Page<Driver>, text: String?, notice: FormOutcome?, session: WebSession, format: DisplayFormat
    ) -> HTML {
        let rows = drivers.items.map { driver -> HTML in
            """
            <tr><td><a href="/ui/drivers/\(DashboardLayout.segment(driver.id))">\(driver.name)</a></td><td>\(driver.email)</td><td>\(driver.phone)</td><td>\(driver.membership.rawValue)</td>
            <td>\(driver.status.rawValue)</td><td><a href="/ui/sessions?driverId=\(DashboardLayout.segment(driver.id))">sessions</a></td></tr>
            """
        }
        return """
            <h1>Drivers</h1>
            \(DashboardLayout.notice(notice))
            <form class="inline" method="get" action="/ui/drivers" role="search">
              <label for="q">Search <input id="q" name="q" value="\(text)" placeholder="name or email"></label>
              <button type="submit">Search</button>
            </form>
            <section class="panel">
              \(DashboardLayout.table(id: "drivers", ["Name", "Email", "Phone", "Membership", "Status", ""], rows, empty: "No drivers."))
              \(DashboardLayout.nextPage("/ui/drivers", cursor: drivers.nextCursor, [("q", text)]))
            </section>
            <section class="panel">
              <h2>Add a driver</h2>
              <form class="inline" method="post" action="/ui/drivers" id="new-driver">
                \(DashboardLayout.csrfField(session))
                <label for="driver-name">Name <input id="driver-name" name="name" required maxlength="200"></label>
                <label for="driver-email">Email <input id="driver-email" name="email" type="email" required></label>
                <label for="driver-phone">Phone <input id="driver-phone" name="phone" maxlength="32"></label>
                <label for="driver-membership">Membership <select id="driver-membership" name="membership">\(DashboardLayout.options(Membership.allCases.map { (value: $0.rawValue, label: $0.rawValue) }, selected: Membership.basic.rawValue))</select></label>
                <button type="submit">Add driver</button>
              </form>
              <p class="muted">Give a driver a card on the <a href="/ui/id-tags">id tags</a> page.</p>
            </section>
            """
    }

    /// One driver: who they are, their cards, and (for admins) the audit trail about them.
    static func detail(_ driver: Driver, tags: [String], audit: HTML, format: DisplayFormat) -> HTML {
        """
        <h1>\(driver.name) <span class="muted">\(driver.id)</span></h1>
        <section class="panel">
          <dl class="facts">
            <dt>Email</dt><dd>\(driver.email)</dd>
            <dt>Phone</dt><dd>\(driver.phone ?? "—")</dd>
            <dt>Status</dt><dd>\(driver.status.rawValue)</dd>
            <dt>Membership</dt><dd>\(driver.membership.rawValue)</dd>
            <dt>Id tags</dt><dd>\(tags.isEmpty ? "—" : tags.joined(separator: ", "))</dd>
            <dt>Added</dt><dd>\(format.time(driver.createdAt))</dd>
          </dl>
          <p><a href="/ui/sessions?driverId=\(DashboardLayout.segment(driver.id))">Sessions</a></p>
        </section>
        \(audit)
        """
    }
}
