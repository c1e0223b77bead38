import Foundation
import Hummingbird
import OCPP
import Storage

/// The operator dashboard at `/ui`: server-rendered pages over the same services as the REST
/// API. Who may open each route is `RoutePolicy`'s, like every API route; the cookie, the CSRF
/// check and the error pages are `DashboardMiddleware`'s.
struct DashboardController {
    let dependencies: AppDependencies
    let ocpp: OCPPController

    var sessions: WebSessionService { dependencies.webSessions }

    var format: DisplayFormat { DisplayFormat(timeZone: dependencies.configuration.dashboard.timeZone) }

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("/") { _, _ in DashboardMiddleware.redirect(to: "/ui") }
        router.get("/ui/assets/{name}") { request, context in
            guard let asset = DashboardAsset.all[try context.parameters.require("name")] else {
                throw APIError.notFound("no such asset")
            }
            return asset.response(ifNoneMatch: request.headers[.ifNoneMatch])
        }
        router.get("/ui/login") { request, context in
            if context.webSession != nil { return DashboardMiddleware.redirect(to: "/ui") }
            return DashboardLayout.response(SignInPage.render(next: request.uri.queryParameters.text("next"), problem: nil))
        }
        router.post("/ui/login") { _, context in try await signIn(context) }
        router.post("/ui/logout") { request, context in
            if let token = WebSessionService.token(in: request) { try await sessions.end(token) }
            return signedOut()
        }
        router.post("/ui/logout-everywhere") { _, context in
            try await dependencies.auth.logoutEverywhere(try context.requireSignedIn().userID)
            return signedOut()
        }
        router.get("/ui/events") { request, _ in
            MonitoringController.eventStream(
                events: dependencies.events, heartbeat: dependencies.configuration.eventHeartbeat, stationFilter: nil,
                lastEventID: request.headers[.lastEventID].flatMap { Int64($0) })
        }
        router.get("/ui") { request, context in
            let stats = try await overviewStats()
            if request.uri.queryParameters.text("fragment") == "stats" { return DashboardLayout.response(stats) }
            return DashboardLayout.response(
                DashboardLayout.page(
                    title: "Overview", current: "/ui", session: context.webSession, OverviewPage.render(stats: stats)))
        }
        router.get("/ui/stations") { request, context in
            let filter = try StationListFilter(context.form)
            let table = try await stationTable(filter)
            if request.uri.queryParameters.text("fragment") == "table" { return DashboardLayout.response(table) }
            return DashboardLayout.response(
                DashboardLayout.page(
                    title: "Stations", current: "/ui/stations", session: context.webSession,
                    StationPages.list(
                        filter: filter, table: table,
                        sites: try await dependencies.sites.list(page: PageRequest(limit: 200)).items.map(\.site),
                        createForm: StationPages.createForm(
                            tariffs: try await dependencies.tariffs.list(page: PageRequest(limit: 200)).items,
                            session: try requireSession(context)))))
        }
        router.get("/ui/stations/{id}") { request, context in
            let id = try context.parameters.require("id")
            if request.uri.queryParameters.text("fragment") == "live" {
                let (view, active) = try await stationNow(id)
                return DashboardLayout.response(try await stationLive(view, active: active))
            }
            let outcome = try await takeNotice(request.uri.queryParameters.text("outcome"), context: context)
            return try await stationPage(id, context: context, outcome: outcome)
        }
        router.post("/ui/stations/{id}/commands/{command}") { _, context in
            let id = try context.parameters.require("id")
            let command = try context.parameters.require("command")
            let outcome: FormOutcome
            do {
                let answer = try await ocpp.typedCommand(command, station: id, input: Self.commandInput(context.form))
                outcome = .done("\(command): the charger answered " + JSONWriter.string(answer))
            } catch let error as APIError where error.status == .notFound && error.detail?.hasPrefix("no station") == true {
                throw error
            } catch {
                outcome = try Self.failure(command, error)
            }
            return try await redirect(to: DashboardLayout.stationPath(id), with: outcome, context: context)
        }
        addStationWriteRoutes(to: router)
        addBillingRoutes(to: router)
        addCatalogRoutes(to: router)
        addOperationsRoutes(to: router)
        addSiteRoutes(to: router)
        addReservationRoutes(to: router)
        addLocalListRoutes(to: router)
        addChargingProfileRoutes(to: router)
        addStationJobRoutes(to: router)
        addSecurityRoutes(to: router)
        addAuditRoutes(to: router)
    }

    // MARK: Outcomes of forms

    /// How long a form's outcome waits to be shown on the page the form redirects to.
    static let outcomeLifetime: Duration = .seconds(300)
    static let outcomePrefix = "ui-outcome:"

    private struct StoredOutcome: Codable {
        var userID: String
        var outcome: FormOutcome
    }

    /// Redirects to `path`, which shows `outcome` once loaded (post/redirect/get: reloading does
    /// not post the form again). The outcome is kept for this user only, for a few minutes.
    func redirect(to path: String, with outcome: FormOutcome, context: AppRequestContext) async throws -> Response {
        let key = Identifiers.randomToken(bytes: 16)
        let stored = StoredOutcome(userID: try context.requireSignedIn().userID, outcome: outcome)
        try await dependencies.keyValue.set(
            Self.outcomePrefix + key, String(decoding: try JSONEncoder().encode(stored), as: UTF8.self), ttl: Self.outcomeLifetime)
        return DashboardMiddleware.redirect(to: path + (path.contains("?") ? "&" : "?") + "outcome=" + key)
    }

    /// The outcome kept under `key` for this user; others' keys show nothing.
    func takeNotice(_ key: String?, context: AppRequestContext) async throws -> FormOutcome? {
        guard let key, key.utf8.count <= 64, let userID = context.identity?.userID,
            let text = try await dependencies.keyValue.getString(Self.outcomePrefix + key),
            let stored = try? JSONDecoder().decode(StoredOutcome.self, from: Data(text.utf8)), stored.userID == userID
        else { return nil }
        return stored.outcome
    }

    /// A refused form as the message shown on the page; an unexpected error stays an error (500).
    static func failure(_ action: String, _ error: any Error) throws -> FormOutcome {
        let problem = ProblemMiddleware.problem(for: error)
        guard problem.status.code < 500 || [502, 503, 504, 507].contains(problem.status.code) else { throw error }
        let fields = (problem.errors ?? []).map { "\($0.field): \($0.message)" }
        return FormOutcome(ok: false, message: "\(action) failed: " + ([problem.detail ?? problem.title] + fields).joined(separator: "; "))
    }

    func requireSession(_ context: AppRequestContext) throws -> WebSession {
        guard let session = context.webSession else { throw APIError.unauthorized(.missing) }
        return session
    }

    // MARK: Sign-in

    private func signedOut() -> Response {
        var response = DashboardMiddleware.redirect(to: "/ui/login")
        response.setCookie(WebSessionService.cookie(nil, lifetime: .zero, secure: dependencies.configuration.tls.enabled))
        return response
    }

    private func signIn(_ context: AppRequestContext) async throws -> Response {
        let email = context.form.text("email") ?? ""
        let password = context.form["password"] ?? ""
        let next = context.form.text("next")
        func refused(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) -> Response {
            DashboardLayout.response(SignInPage.render(next: next, problem: message, email: email), status: status, headers: headers)
        }
        let user: User
        do {
            user = try await dependencies.auth.checkCredentials(email: email, password: password)
        } catch AuthError.invalidCredentials {
            return refused(.unauthorized, "Wrong email or password.")
        } catch AuthError.throttled(let seconds) {
            return refused(.tooManyRequests, "Too many failed sign-ins; try again in \(seconds) seconds.", headers: [.retryAfter: String(seconds)])
        }
        guard user.role != .driver else {
            return refused(.forbidden, "The dashboard is for operators and admins. Drivers use the app.")
        }
        let token = try await sessions.start(for: user)
        let target = next.flatMap { $0.hasPrefix("/ui") && !$0.hasPrefix("/ui/login") && !$0.contains("//") ? $0 : nil } ?? "/ui"
        var response = DashboardMiddleware.redirect(to: target)
        response.setCookie(WebSessionService.cookie(token, lifetime: sessions.lifetime, secure: dependencies.configuration.tls.enabled))
        return response
    }

    // MARK: Overview

    private func overviewStats() async throws -> HTML {
        let availability = try await dependencies.stations.availability()
        let open = try await dependencies.analytics.openCounts()
        let now = dependencies.now()
        let today = format.calendar.dateInterval(of: .day, for: now)!
        let month = format.calendar.dateInterval(of: .month, for: now)!
        let totals = try await dependencies.analytics.completedByStop(
            [TimeBucket(start: today.start, end: today.end), TimeBucket(start: month.start, end: month.end)], stationID: nil)
        return OverviewPage.stats(
            availability: availability, activeSessions: open.activeSessions, openAlerts: open.unresolvedAlerts, today: totals[0],
            month: totals[1], zone: format.timeZone)
    }

    // MARK: Stations

    private func stationTable(_ filter: StationListFilter) async throws -> HTML {
        let page = try await dependencies.stations.list(filter.query, page: PageRequest(limit: 50, cursor: filter.cursor))
        return StationPages.table(page, filter: filter, format: format)
    }

    /// The station and its open sessions: what the live panel shows and the remote-stop form offers.
    private func stationNow(_ id: String) async throws -> (view: StationView, active: [ChargingSession]) {
        guard let view = try await dependencies.stations.get(id) else { throw APIError.notFound("no station \(id)") }
        let active = try await dependencies.sessions.list(SessionQuery(stationID: id, status: .active), page: PageRequest(limit: 20))
        return (view, active.items)
    }

    private func stationLive(_ view: StationView, active: [ChargingSession]) async throws -> HTML {
        var estimates: [String: CostBreakdown] = [:]
        for session in active {
            if let estimate = try await dependencies.sessions.estimate(session) { estimates[session.id] = estimate }
        }
        return StationPages.live(view, sessions: active, estimates: estimates, format: format)
    }

    private func stationPage(_ id: String, context: AppRequestContext, outcome: FormOutcome?) async throws -> Response {
        let (view, active) = try await stationNow(id)
        let session = try requireSession(context)
        let live = try await stationLive(view, active: active)
        let log = try await dependencies.ocpp.recorder.recent(stationID: id, limit: 50)
        let history = try await dependencies.monitoring.history(stationID: id, from: nil, to: nil, limit: 50)
        let tags = try await dependencies.drivers.idTags(status: .accepted, driverID: nil, kind: nil, page: PageRequest(limit: 200))
        let connected = dependencies.ocpp.registry.connection(id) != nil
        let tariffs = try await dependencies.tariffs.list(page: PageRequest(limit: 200)).items
        let sites = try await dependencies.sites.list(page: PageRequest(limit: 200)).items.map(\.site)
        let reservations = try await dependencies.reservations.reservations.open(stationID: id)
        let localList = try await dependencies.localLists.repository.state(id)
        let profiles = try await dependencies.chargingProfiles.repository.list(stationID: id, status: .active)
        let jobs = try await dependencies.jobs.repository.list(stationID: id, kind: nil, limit: 20)
        let certificates = try await dependencies.certificates.repository.list(stationID: id)
        let events = try await dependencies.jobs.repository.securityEvents(stationID: id, limit: StationPages.shownSecurityEvents)
        let now = dependencies.now()
        let path = DashboardLayout.stationPath(id)
        let html = StationPages.detail(
            view, connected: connected, live: live, log: log, history: history, tags: tags.items.map(\.id),
            activeSessions: active, tariffs: tariffs, sites: sites,
            reservations: ReservationPages.table(
                reservations, showStation: false, driverNames: try await driverNames(reservations), returnTo: "station",
                session: session, format: format),
            localList: StationPages.localList(localList, path: path, session: session, format: format),
            chargingProfiles: StationPages.chargingProfiles(profiles, path: path, session: session),
            jobs: StationPages.jobs(jobs, path: path, now: now, session: session, format: format),
            security: StationPages.security(
                view.station, certificates: certificates, events: events, path: path, now: now, session: session, format: format),
            outcome: outcome, session: session, format: format)
        let audit = try await auditPanel(AuditQuery(stationID: id), all: [("stationId", id)], session: session)
        return DashboardLayout.response(
            DashboardLayout.page(title: view.station.name, current: "/ui/stations", session: session, "\(html)\(audit)"))
    }

    static func commandInput(_ form: FormFields) -> OCPPController.CommandInput {
        OCPPController.CommandInput(
            connectorId: form.text("connectorId").flatMap { Int($0) }, idTag: form.text("idTag"),
            sessionId: form.text("sessionId"), type: form.text("type"),
            keys: form.text("keys").map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } },
            key: form.text("key"), value: form["value"], message: form.text("message"))
    }
}

/// What became of a form (a command, a payment, a change), shown once on the page it redirects
/// to: the whole sentence, as the operator reads it.
struct FormOutcome: Sendable, Codable {
    var ok: Bool
    var message: String

    static func done(_ message: String) -> FormOutcome { FormOutcome(ok: true, message: message) }
}

/// The station list's filters, from the query string.
struct StationListFilter: Sendable {
    var text: String?
    var status: StationStatus?
    var online: Bool?
    var siteID: String?
    var cursor: String?

    init(_ fields: FormFields) throws {
        var validator = Validator()
        text = fields.text("q").map { String($0.prefix(100)) }
        status = fields.text("status").flatMap { validator.parse($0, as: StationStatus.self, field: "status") }
        switch fields.text("online") {
        case nil: online = nil
        case "true": online = true
        case "false": online = false
        default: validator.fail("online", "must be true or false")
        }
        siteID = fields.text("siteId").map { String($0.prefix(100)) }
        cursor = fields.text("cursor")
        try validator.throwIfInvalid()
    }

    var query: StationQuery {
        var query = StationQuery()
        query.text = text
        query.siteID = siteID
        query.status = status
        query.online = online
        return query
    }

    /// The filters as query parameters, for links that keep them.
    var parameters: [(String, String?)] {
        [("q", text), ("status", status?.rawValue), ("online", online.map { $0 ? "true" : "false" }), ("siteId", siteID)]
    }
}
