import Foundation
import Storage

/// Sites: the list with the form that adds one, and a site with its stations and its settings.
enum SitePages {
    static func list(_ sites: Page<SiteView>, notice: FormOutcome?, defaultZone: String, session: WebSession) -> HTML {
        let rows = sites.items.map { view -> HTML in
            let site = view.site
            let address: HTML = site.address.map { "<br><span class=\"muted\">\($0)</span>" } ?? .empty
            return """
                <tr data-site="\(site.id)">
                  <td><a href="/ui/sites/\(DashboardLayout.segment(site.id))">\(site.name)</a>\(address)</td>
                  <td>\(site.timeZone)</td>
                  <td>\(power(site.maxPowerKw))</td>
                  <td><a href="/ui/stations?\(DashboardLayout.queryString([("siteId", site.id)]))">\(view.stationIds.count)</a></td>
                </tr>
                """
        }
        return """
            <h1>Sites</h1>
            \(DashboardLayout.notice(notice))
            <section class="panel">
              \(DashboardLayout.table(id: "sites", ["Site", "Time zone", "Grid connection", "Stations"], rows, empty: "No sites."))
              \(DashboardLayout.nextPage("/ui/sites", cursor: sites.nextCursor))
            </section>
            <details class="panel" id="new-site">
              <summary>Add a site</summary>
              \(form(action: "/ui/sites", site: nil, defaultZone: defaultZone, session: session, button: "Add site"))
            </details>
            """
    }

    /// The site form, the same for adding and changing: an empty address or power clears it.
    static func form(action: String, site: Site?, defaultZone: String, session: WebSession, button: String) -> HTML {
        """
        <form class="inline" method="post" action="\(action)" id="site-form">
          \(DashboardLayout.csrfField(session))
          \(site.map { "<input type=\"hidden\" name=\"version\" value=\"\($0.version)\">" as HTML } ?? .empty)
          <label for="site-name">Name <input id="site-name" name="name" required maxlength="200" value="\(site?.name)"></label>
          <label for="site-address">Address <input id="site-address" name="address" maxlength="500" value="\(site?.address)"></label>
          <label for="site-zone">Time zone <input id="site-zone" name="timeZone" required maxlength="100" placeholder="Europe/Berlin" value="\(site?.timeZone ?? defaultZone)"></label>
          <label for="site-power">Grid connection (kW, empty: none) <input id="site-power" name="maxPowerKw" inputmode="decimal" size="7" value="\(site?.maxPowerKw.map(DisplayFormat.number))"></label>
          <button type="submit">\(button)</button>
        </form>
        """
    }

    static func detail(
        _ view: SiteView, stations: Page<StationView>, allocation: SiteAllocation, notice: FormOutcome?, session: WebSession,
        format: DisplayFormat
    ) -> HTML {
        let site = view.site
        let rows = stations.items.map { station -> HTML in
            """
            <tr>
              <td><a href="\(DashboardLayout.stationPath(station.id))">\(station.station.name)</a><br><span class="muted">\(station.id)</span></td>
              <td>\(DashboardLayout.onlineBadge(stationID: station.id, online: station.station.online))</td>
              <td>\(station.station.status.rawValue)</td>
            </tr>
            """
        }
        let all: HTML = stations.nextCursor == nil ? .empty : """
            <p><a href="/ui/stations?\(DashboardLayout.queryString([("siteId", site.id)]))">All \(view.stationIds.count) stations</a></p>
            """
        return """
            <h1>\(site.name)</h1>
            \(DashboardLayout.notice(notice))
            <section class="panel">
              <dl class="facts">
                <dt>Address</dt><dd>\(site.address ?? "—")</dd>
                <dt>Time zone</dt><dd>\(site.timeZone)</dd>
                <dt>Grid connection</dt><dd>\(power(site.maxPowerKw))</dd>
              </dl>
            </section>
            <section class="panel" id="site-allocation">
              <h2>Charging limits</h2>
              \(self.allocation(allocation, format: format))
            </section>
            <section class="panel" id="site-stations">
              <h2>Stations</h2>
              \(DashboardLayout.table(["Station", "Connection", "Status"], rows, empty: "No stations yet: choose this site in a station's settings."))
              \(all)
            </section>
            <section class="panel">
              <h2>Change</h2>
              \(form(action: "/ui/sites/" + DashboardLayout.segment(site.id) + "/edit", site: site, defaultZone: site.timeZone, session: session, button: "Save site"))
            </section>
            """
    }

    /// What load management gave each charging connector, against the site's grid connection.
    static func allocation(_ allocation: SiteAllocation, format: DisplayFormat) -> HTML {
        guard let maximum = allocation.maxPowerKw else {
            return """
                <p class="muted" id="no-load-management">No load management: give the site a grid connection (kW) to share it among its charging connectors.</p>
                """
        }
        // The API keeps the limit to 0.1…100000 kW; guarded anyway, as Int() traps on what it cannot hold.
        let percent = Double(allocation.allocatedW) / (maximum * 1000) * 100
        let share = percent.isFinite && abs(percent) < 1e9 ? " (\(Int(percent.rounded()))% of the limit)" : ""
        let rows = allocation.connectors.map { connector -> HTML in
            let acknowledged: String
            switch connector.acknowledgedLimitW {
            case nil: acknowledged = "waiting"
            case connector.limitW: acknowledged = watts(connector.limitW)
            case let earlier?: acknowledged = watts(earlier) + ", waiting for the new limit"
            }
            return """
                <tr data-allocation="\(connector.stationId)/\(connector.connectorId)">
                  <td><a href="\(DashboardLayout.stationPath(connector.stationId))">\(connector.stationId)</a></td>
                  <td>\(connector.connectorId)</td>
                  <td>\(connector.transactionId)</td>
                  <td>\(watts(connector.limitW))</td>
                  <td>\(acknowledged)</td>
                  <td class="allocation-state">\(state(connector.state))</td>
                  <td>\(connector.reportedPowerW.map(watts) ?? "—")</td>
                  <td>\(format.time(connector.updatedAt))</td>
                </tr>
                """
        }
        return """
            <dl class="facts">
              <dt>Site limit</dt><dd>\(power(maximum))</dd>
              <dt>Allocated</dt><dd id="allocated">\(watts(allocation.allocatedW))\(share)</dd>
            </dl>
            \(DashboardLayout.table(
                id: "allocations", ["Station", "Connector", "Transaction", "Limit", "Acknowledged", "State", "Reported", "Updated"], rows,
                empty: "No connector is charging."))
            """
    }

    private static func state(_ state: LoadAllocator.State) -> String {
        switch state {
        case .charging: "charging"
        case .paused: "paused: no power left"
        case .ignoring: "ignoring its limit"
        }
    }

    static func power(_ kilowatts: Double?) -> String { kilowatts.map { DisplayFormat.number($0) + " kW" } ?? "—" }

    /// Watts as kW: 11000 as 11 kW, 7400 as 7.4 kW.
    static func watts(_ watts: Int) -> String { power(Double(watts) / 1000) }
}
