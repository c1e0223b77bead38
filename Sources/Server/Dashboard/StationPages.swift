import Foundation
import OCPP
import Storage

/// The station list and the station page with its commands.
enum StationPages {
    static let listEvents = "connector.status station.online station.offline"
    static let liveEvents = "connector.status station.online station.offline session.started session.updated session.stopped"

    static func list(filter: StationListFilter, table: HTML, sites: [Site], createForm: HTML) -> HTML {
        let statusOptions = HTML(
            StationStatus.allCases.map { status -> HTML in
                "<option value=\"\(status.rawValue)\"\(HTML(stringLiteral: filter.status == status ? " selected" : ""))>\(status.rawValue)</option>"
            })
        func onlineOption(_ value: String, _ label: String, selected: Bool) -> HTML {
            "<option value=\"\(value)\"\(HTML(stringLiteral: selected ? " selected" : ""))>\(label)</option>"
        }
        return """
            <h1>Stations</h1>
            <form class="inline" method="get" action="/ui/stations" role="search">
              <label for="q">Search <input id="q" name="q" value="\(filter.text)" placeholder="name or address"></label>
              <label for="status">Status <select id="status" name="status"><option value="">any</option>\(statusOptions)</select></label>
              <label for="online">Connection <select id="online" name="online">
                \(onlineOption("", "any", selected: filter.online == nil))
                \(onlineOption("true", "online", selected: filter.online == true))
                \(onlineOption("false", "offline", selected: filter.online == false))
              </select></label>
              <label for="site">Site <select id="site" name="siteId">\(DashboardLayout.options([(value: "", label: "any")] + siteOptions(sites, keeping: filter.siteID), selected: filter.siteID ?? ""))</select></label>
              <button type="submit">Filter</button>
            </form>
            \(createForm)
            <section class="panel" id="station-table" data-live-fragment="/ui/stations?fragment=table&amp;\(DashboardLayout.queryString(filter.parameters))" data-live-events="\(listEvents)">\(table)</section>
            """
    }

    static func table(_ page: Page<StationView>, filter: StationListFilter, format: DisplayFormat) -> HTML {
        guard !page.items.isEmpty else { return "<p>No stations match.</p>" }
        let rows = HTML(
            page.items.map { view -> HTML in
                let connectors = HTML(
                    view.connectors.map {
                        DashboardLayout.connectorBadge(stationID: view.id, connectorID: $0.connectorId, status: $0.status.rawValue)
                    })
                return """
                    <tr>
                      <td><a href="\(DashboardLayout.stationPath(view.id))">\(view.station.name)</a><br><span class="muted">\(view.id)</span></td>
                      <td>\(DashboardLayout.onlineBadge(stationID: view.id, online: view.station.online))</td>
                      <td>\(connectors)</td>
                      <td>\(view.station.status.rawValue) · \(view.station.registration.rawValue)</td>
                      <td>\(format.time(view.station.lastSeenAt))</td>
                    </tr>
                    """
            })
        let more = DashboardLayout.nextPage("/ui/stations", cursor: page.nextCursor, filter.parameters)
        return """
            <table>
              <thead><tr><th>Station</th><th>Connection</th><th>Connectors</th><th>Status</th><th>Last seen</th></tr></thead>
              <tbody>\(rows)</tbody>
            </table>
            \(more)
            """
    }

    /// The parts of the station page that change while one watches: connectors and open sessions.
    static func live(_ view: StationView, sessions: [ChargingSession], estimates: [String: CostBreakdown], format: DisplayFormat) -> HTML {
        let connectors = HTML(
            view.connectors.map { connector -> HTML in
                """
                <tr>
                  <td>\(connector.connectorId)</td>
                  <td>\(DashboardLayout.connectorBadge(stationID: view.id, connectorID: connector.connectorId, status: connector.status.rawValue))</td>
                  <td>\(connector.type.rawValue), \(String(format: "%.1f", connector.maxPowerKw)) kW</td>
                  <td>\(connector.errorCode)</td>
                  <td>\(format.time(connector.statusUpdatedAt))</td>
                </tr>
                """
            })
        let sessionRows = HTML(
            sessions.map { session -> HTML in
                """
                <tr data-session="\(session.id)">
                  <td>\(session.connectorId)</td>
                  <td>\(session.idTag)</td>
                  <td>\(format.time(session.startedAt))</td>
                  <td class="session-energy">\(DisplayFormat.energy(session.energyWh))</td>
                  <td>\(session.currentPowerW.map { "\($0) W" } ?? "—")</td>
                  <td class="session-estimate">\(DisplayFormat.money(estimates[session.id]?.total))</td>
                  <td>\(session.transactionId)</td>
                </tr>
                """
            })
        return """
            <h2>Connectors</h2>
            <table>
              <thead><tr><th>#</th><th>Status</th><th>Type</th><th>Error</th><th>Since</th></tr></thead>
              <tbody>\(connectors)</tbody>
            </table>
            <h2>Charging now</h2>
            \(sessions.isEmpty ? "<p class=\"muted\" id=\"no-active-session\">No active session.</p>" : """
            <table id="active-sessions">
              <thead><tr><th>Connector</th><th>Id tag</th><th>Started</th><th>Energy</th><th>Power</th><th>Estimated cost</th><th>Transaction</th></tr></thead>
              <tbody>\(sessionRows)</tbody>
            </table>
            """ as HTML)
            """
    }

    static func detail(
        _ view: StationView, connected: Bool, live: HTML, log: [OCPPLogEntry], history: [MonitoringService.HistoryEntry],
        tags: [String], activeSessions: [ChargingSession], tariffs: [Tariff], sites: [Site], reservations: HTML,
        localList: HTML, chargingProfiles: HTML, jobs: HTML, security: HTML, outcome: FormOutcome?, session: WebSession, format: DisplayFormat
    ) -> HTML {
        let station = view.station
        let path = DashboardLayout.stationPath(view.id)
        let outcomeNotice = DashboardLayout.notice(outcome)
        return """
            <h1>\(station.name) <span class="muted">\(station.id)</span></h1>
            \(outcomeNotice)
            <section class="panel">
              <dl class="facts">
                <dt>Connection</dt><dd>\(DashboardLayout.onlineBadge(stationID: view.id, online: station.online))\(connected ? " (socket open)" : "")</dd>
                <dt>Registration</dt><dd>\(station.registration.rawValue)</dd>
                <dt>Status</dt><dd>\(station.status.rawValue)</dd>
                <dt>Charger</dt><dd>\(station.vendor ?? "—") \(station.model ?? "") · serial \(station.serialNumber ?? "—")</dd>
                <dt>Firmware</dt><dd>\(station.firmwareVersion ?? "—") · update: \(station.firmwareStatus ?? "—")</dd>
                <dt>Diagnostics</dt><dd>\(station.diagnosticsStatus ?? "—")</dd>
                <dt>Last boot</dt><dd>\(format.time(station.lastBootAt))</dd>
                <dt>Last seen</dt><dd>\(format.time(station.lastSeenAt))</dd>
                <dt>Address</dt><dd>\(station.address ?? "—")</dd>
              </dl>
            </section>
            <section class="panel" id="station-live" data-live-fragment="\(path)?fragment=live" data-live-events="\(liveEvents)" data-live-station="\(view.id)">\(live)</section>
            <section class="panel" id="commands">
              <h2>Commands</h2>
              \(commands(view, path: path, tags: tags, activeSessions: activeSessions, session: session))
            </section>
            <section class="panel" id="station-reservations">
              <h2>Reservations</h2>
              \(reservations)
              <p><a href="/ui/reservations?\(DashboardLayout.queryString([("stationId", view.id)]))">All reservations of this station</a></p>
            </section>
            <section class="panel" id="station-local-list">
              <h2>Local list</h2>
              \(localList)
            </section>
            <section class="panel" id="station-charging-profiles">
              <h2>Charging profiles</h2>
              \(chargingProfiles)
            </section>
            <section class="panel" id="station-jobs">
              <h2>Firmware and diagnostics</h2>
              \(jobs)
            </section>
            <section class="panel" id="station-security">
              <h2>Security</h2>
              \(security)
            </section>
            <section class="panel" id="settings">
              <h2>Settings</h2>
              \(settings(view, path: path, tariffs: tariffs, sites: sites, session: session))
            </section>
            <section class="panel">
              <h2>OCPP messages</h2>
              \(messageLog(log, format: format))
            </section>
            <section class="panel">
              <h2>Status history</h2>
              \(statusHistory(history, format: format))
            </section>
            """
    }

    private static func commands(
        _ view: StationView, path: String, tags: [String], activeSessions: [ChargingSession], session: WebSession
    ) -> HTML {
        let csrf = DashboardLayout.csrfField(session)
        let connectorOptions = HTML(view.connectors.map { "<option value=\"\($0.connectorId)\">\($0.connectorId)</option>" })
        func options(_ values: [String]) -> HTML { HTML(values.map { "<option value=\"\($0)\">\($0)</option>" }) }
        let tagOptions = HTML(tags.map { "<option value=\"\($0)\"></option>" })
        let sessionOptions = HTML(
            activeSessions.map { "<option value=\"\($0.id)\">connector \($0.connectorId) · \($0.idTag) · tx \($0.transactionId)</option>" })
        func form(_ command: String, _ title: String, confirm: String? = nil, _ fields: HTML) -> HTML {
            let confirmation: HTML = confirm.map { " data-confirm=\"\($0)\"" } ?? .empty
            return """
                <form class="inline" method="post" action="\(path)/commands/\(command)" id="command-\(command)"\(confirmation)>
                  \(csrf)\(fields)<button type="submit">\(title)</button>
                </form>
                """
        }
        return """
            <datalist id="id-tags">\(tagOptions)</datalist>
            \(form("remote-start", "Remote start", """
                <label>Connector <select name="connectorId">\(connectorOptions)</select></label>
                <label>Id tag <input name="idTag" list="id-tags" required maxlength="20"></label>
                """))
            \(activeSessions.isEmpty ? .empty : form("remote-stop", "Remote stop", confirm: "Stop this session?", """
                <label>Session <select name="sessionId">\(sessionOptions)</select></label>
                """))
            \(form("unlock", "Unlock", confirm: "Unlock this connector?", """
                <label>Connector <select name="connectorId">\(connectorOptions)</select></label>
                """))
            \(form("change-availability", "Change availability", """
                <label>Connector <select name="connectorId"><option value="0">0 (whole station)</option>\(connectorOptions)</select></label>
                <label>Availability <select name="type">\(options(OCPP16.ChangeAvailability.Request.RequestType.allCases.map(\.rawValue)))</select></label>
                """))
            \(form("reset", "Reset", confirm: "Reset the charger?", """
                <label>Type <select name="type">\(options(OCPP16.Reset.Request.RequestType.allCases.map(\.rawValue)))</select></label>
                """))
            \(form("trigger-message", "Trigger message", """
                <label>Message <select name="message">\(options(OCPP16.TriggerMessage.Request.RequestedMessage.allCases.map(\.rawValue)))</select></label>
                <label>Connector (optional) <select name="connectorId"><option value="">—</option>\(connectorOptions)</select></label>
                """))
            \(form("get-configuration", "Get configuration", """
                <label>Keys (comma-separated, empty for all) <input name="keys" maxlength="2000"></label>
                """))
            \(form("change-configuration", "Change configuration", """
                <label>Key <input name="key" required maxlength="50"></label>
                <label>Value <input name="value" maxlength="500"></label>
                """))
            """
    }

    private static func settings(_ view: StationView, path: String, tariffs: [Tariff], sites: [Site], session: WebSession) -> HTML {
        let station = view.station
        let csrf = DashboardLayout.csrfField(session)
        let tariffOptions = [(value: "", label: "default tariff")] + tariffs.map { (value: $0.id, label: $0.name) }
        return """
            <form class="inline" method="post" action="\(path)/edit" id="station-edit">
              \(csrf)
              <label for="edit-name">Name <input id="edit-name" name="name" required maxlength="200" value="\(station.name)"></label>
              <label for="edit-address">Address <input id="edit-address" name="address" maxlength="500" value="\(station.address)"></label>
              <label for="edit-operator">Operator id <input id="edit-operator" name="operatorId" maxlength="100" value="\(station.operatorId)"></label>
              <label for="edit-status">Status <select id="edit-status" name="status">\(DashboardLayout.options(StationStatus.allCases.map { (value: $0.rawValue, label: $0.rawValue) }, selected: station.status.rawValue))</select></label>
              <label for="edit-registration">Registration <select id="edit-registration" name="registration">\(DashboardLayout.options(RegistrationStatus.allCases.map { (value: $0.rawValue, label: $0.rawValue) }, selected: station.registration.rawValue))</select></label>
              <label for="edit-tariff">Tariff <select id="edit-tariff" name="tariffId">\(DashboardLayout.options(tariffOptions, selected: station.tariffId ?? ""))</select></label>
              <label for="edit-security-profile">Security profile <select id="edit-security-profile" name="securityProfile">\(DashboardLayout.options(securityProfiles, selected: String(station.securityProfile)))</select></label>
              <label for="edit-site">Site <select id="edit-site" name="siteId">\(DashboardLayout.options([(value: "", label: "none")] + siteOptions(sites, keeping: station.siteId), selected: station.siteId ?? ""))</select></label>
              <input type="hidden" name="version" value="\(station.version)">
              <button type="submit">Save</button>
            </form>
            <form class="inline" method="post" action="\(path)/password" id="station-password">
              \(csrf)
              <label for="charger-password">Charger password (16–40 characters)\(station.passwordHash == nil ? " — none set" : " — one is set") <input id="charger-password" name="password" type="password" required minlength="16" maxlength="40" autocomplete="new-password"></label>
              <button type="submit">Set password</button>
            </form>
            \(station.status == .decommissioned ? HTML.empty : """
            <form class="inline" method="post" action="\(path)/decommission" id="station-decommission" data-confirm="Decommission \(station.id)?">
              \(csrf)<button type="submit" class="secondary">Decommission</button>
            </form>
            """ as HTML)
            """
    }

    /// The sites as select options, plus `current` when it is not among them (beyond the first
    /// page), so that saving the form does not silently drop the station's site.
    private static func siteOptions(_ sites: [Site], keeping current: String?) -> [(value: String, label: String)] {
        var options = sites.map { (value: $0.id, label: $0.name) }
        if let current, !sites.contains(where: { $0.id == current }) { options.append((value: current, label: current)) }
        return options
    }

    /// The form that adds a station with up to four connectors, on the station list.
    static func createForm(tariffs: [Tariff], session: WebSession) -> HTML {
        let tariffOptions = [(value: "", label: "default tariff")] + tariffs.map { (value: $0.id, label: $0.name) }
        let types = ConnectorType.allCases.map { (value: $0.rawValue, label: $0.rawValue) }
        let connectors = HTML(
            (1...4).map { number -> HTML in
                """
                <label for="connector\(number)-type">Connector \(number) <select id="connector\(number)-type" name="connector\(number)Type">\(DashboardLayout.options([(value: "", label: "none")] + types, selected: number == 1 ? ConnectorType.ccs2.rawValue : ""))</select></label>
                <label for="connector\(number)-power">kW <input id="connector\(number)-power" name="connector\(number)PowerKw" inputmode="decimal" size="5" value="\(number == 1 ? "50" : "")"></label>
                """
            })
        return """
            <details class="panel" id="new-station">
              <summary>Add a station</summary>
              <form class="inline" method="post" action="/ui/stations">
                \(DashboardLayout.csrfField(session))
                <label for="new-id">Charge point id <input id="new-id" name="id" required maxlength="64"></label>
                <label for="new-name">Name <input id="new-name" name="name" required maxlength="200"></label>
                <label for="new-address">Address <input id="new-address" name="address" maxlength="500"></label>
                <label for="new-tariff">Tariff <select id="new-tariff" name="tariffId">\(DashboardLayout.options(tariffOptions, selected: ""))</select></label>
                \(connectors)
                <button type="submit">Add station</button>
              </form>
            </details>
            """
    }

    private static func messageLog(_ log: [OCPPLogEntry], format: DisplayFormat) -> HTML {
        guard !log.isEmpty else { return "<p class=\"muted\">No messages yet.</p>" }
        let rows = HTML(
            log.map { entry -> HTML in
                let answer: HTML =
                    entry.answer.map { answer in
                        "<details><summary>\(answer.messageType == 3 ? "result" : "error") at \(format.time(answer.at))</summary><pre>\(answer.payload)</pre></details>"
                    } ?? "<span class=\"muted\">no answer</span>"
                return """
                    <tr>
                      <td>\(format.time(entry.at))</td>
                      <td>\(entry.direction == "in" ? "charger →" : "→ charger")</td>
                      <td>\(entry.action ?? "—")</td>
                      <td><details><summary>call</summary><pre>\(entry.payload)</pre></details></td>
                      <td>\(answer)</td>
                    </tr>
                    """
            })
        return """
            <table id="ocpp-log">
              <thead><tr><th>At</th><th>Direction</th><th>Action</th><th>Call</th><th>Answer</th></tr></thead>
              <tbody>\(rows)</tbody>
            </table>
            """
    }

    private static func statusHistory(_ history: [MonitoringService.HistoryEntry], format: DisplayFormat) -> HTML {
        guard !history.isEmpty else { return "<p class=\"muted\">No status changes recorded.</p>" }
        let rows = HTML(
            history.sorted { $0.at > $1.at }.map { entry -> HTML in
                """
                <tr><td>\(format.time(entry.at))</td><td>\(entry.connectorId)</td><td>\(entry.previous ?? "—") → \(entry.status)</td><td>\(entry.errorCode)</td><td>\(entry.source)</td></tr>
                """
            })
        return """
            <table>
              <thead><tr><th>At</th><th>Connector</th><th>Change</th><th>Error</th><th>Source</th></tr></thead>
              <tbody>\(rows)</tbody>
            </table>
            """
    }
}
