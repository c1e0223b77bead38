import Foundation
import Hummingbird
import Storage

/// The dashboard's id tags, tariffs, alerts, analytics, users and system pages.
extension DashboardController {
    func addOperationsRoutes(to router: some RouterMethods<AppRequestContext>) {
        let idTagsAPI = IdTagsController(repository: dependencies.drivers, authorizer: dependencies.authorizer, now: dependencies.now)
        let tariffsAPI = TariffsController(tariffs: dependencies.tariffs, now: dependencies.now)

        router.get("/ui/id-tags") { request, context in
            var validator = Validator()
            let status = validator.parse(
                request.uri.queryParameters.text("status").flatMap { $0.isEmpty ? nil : $0 }, as: IdTagStatus.self, field: "status")
            try validator.throwIfInvalid()
            let tags = try await dependencies.drivers.idTags(
                status: status, driverID: nil, kind: nil, page: PageRequest(limit: 100, cursor: request.uri.queryParameters.text("cursor")))
            let drivers = try await dependencies.drivers.list(DriverQuery(), page: PageRequest(limit: 200))
            let notice = try await takeNotice(request.uri.queryParameters.text("outcome"), context: context)
            return DashboardLayout.response(
                DashboardLayout.page(
                    title: "Id tags", current: "/ui/id-tags", session: context.webSession,
                    IdTagPages.list(
                        tags, drivers: drivers.items, status: status, notice: notice, session: try requireSession(context), format: format)))
        }
        router.post("/ui/id-tags") { _, context in
            let form = context.form
            let tag = form.text("idTag") ?? ""
            let outcome: FormOutcome
            do {
                guard IdTag.isValid(tag) else { throw APIError.validation(field: "idTag", "must be 1–20 printable ASCII characters") }
                var expiresAt: Date?
                if let raw = form.text("expiresAt") {
                    // A day from the form means "until the end of that day"; a full timestamp is kept as is.
                    expiresAt = WireFormat.parseDate(raw)
                        ?? format.startOfDay(raw).flatMap { format.calendar.date(byAdding: .day, value: 1, to: $0) }
                    guard expiresAt != nil else { throw APIError.validation(field: "expiresAt", "must be a day such as 2026-12-31") }
                }
                let body = IdTagsController.PutRequest(
                    status: form.text("status") ?? "", driverId: form.text("driverId"), expiresAt: expiresAt,
                    parentIdTag: form.text("parentIdTag"), maxActiveTransactions: form.text("maxActiveTransactions").flatMap { Int($0) })
                let (stored, created) = try await idTagsAPI.put(tag, body)
                outcome = .done("\(stored.id) \(created ? "created" : "saved"): \(stored.status.rawValue)")
            } catch {
                outcome = try Self.failure("id tag \(tag)", error)
            }
            return try await redirect(to: "/ui/id-tags", with: outcome, context: context)
        }

        router.post("/ui/id-tags/{idTag}/status") { _, context in
            let tag = try context.parameters.require("idTag")
            let outcome: FormOutcome
            do {
                // Only the status changes: the rest is read now, so a page loaded before a
                // colleague's change of expiry or driver does not undo it.
                guard let current = try await dependencies.drivers.idTag(tag) else { throw APIError.notFound("no id tag \(tag)") }
                let (stored, _) = try await idTagsAPI.put(
                    tag,
                    .init(
                        status: context.form.text("status") ?? "", driverId: current.driverId, expiresAt: current.expiresAt,
                        parentIdTag: current.parentIdTag, maxActiveTransactions: current.maxActiveTransactions))
                outcome = .done("\(stored.id) saved: \(stored.status.rawValue)")
            } catch {
                outcome = try Self.failure("id tag \(tag)", error)
            }
            return try await redirect(to: "/ui/id-tags", with: outcome, context: context)
        }

        router.get("/ui/tariffs") { request, context in
            let tariffs = try await dependencies.tariffs.list(page: PageRequest(limit: 200, cursor: context.form.text("cursor")))
            let notice = try await takeNotice(request.uri.queryParameters.text("outcome"), context: context)
            return DashboardLayout.response(
                DashboardLayout.page(
                    title: "Tariffs", current: "/ui/tariffs", session: context.webSession,
                    TariffPages.list(
                        tariffs.items, next: DashboardLayout.nextPage("/ui/tariffs", cursor: tariffs.nextCursor), notice: notice,
                        session: try requireSession(context))))
        }
        router.get("/ui/tariffs/{id}") { request, context in
            let tariff = try await dependencies.tariffs.tariff(try context.parameters.require("id"))
            let parameters = request.uri.queryParameters
            var quote: Result<CostBreakdown, APIError>?
            let notice = try await takeNotice(parameters.text("outcome"), context: context)
            if parameters.text("energyKwh") != nil {
                do { quote = .success(try tariffsAPI.quote(tariff, parameters, blankStartIsNow: true)) } catch {
                    let problem = ProblemMiddleware.problem(for: error)
                    guard problem.status.code < 500 else { throw error }
                    quote = .failure(problem)
                }
            }
            return DashboardLayout.response(
                DashboardLayout.page(
                    title: tariff.name, current: "/ui/tariffs", session: context.webSession,
                    TariffPages.detail(
                        tariff, parameters: parameters, quote: quote, notice: notice, session: try requireSession(context))))
        }

        router.get("/ui/alerts") { request, context in
            var validator = Validator()
            let raw = request.uri.queryParameters.text("state") ?? AlertState.open.rawValue
            let state = raw == "all" ? nil : validator.parse(raw, as: AlertState.self, field: "state")
            try validator.throwIfInvalid()
            let alerts = try await dependencies.monitoring.alerts(
                state: state, stationID: nil, severity: nil, page: PageRequest(limit: 100, cursor: context.form.text("cursor")))
            let table = HTML([
                AlertPages.table(alerts.items, listState: raw, session: try requireSession(context), format: format),
                DashboardLayout.nextPage("/ui/alerts", cursor: alerts.nextCursor, [("state", raw)]),
            ])
            if request.uri.queryParameters.text("fragment") == "table" { return DashboardLayout.response(table) }
            let notice = try await takeNotice(request.uri.queryParameters.text("outcome"), context: context)
            return DashboardLayout.response(
                DashboardLayout.page(
                    title: "Alerts", current: "/ui/alerts", session: context.webSession,
                    AlertPages.list(table: table, state: raw, notice: notice)))
        }
        for (action, target) in [("acknowledge", AlertState.acknowledged), ("resolve", AlertState.resolved)] {
            router.post("/ui/alerts/{id}/\(action)") { _, context in
                let id = try context.parameters.require("id")
                let outcome: FormOutcome
                do {
                    let alert = try await dependencies.monitoring.transition(id, to: target)
                    outcome = .done("\(action): \(alert.message): \(alert.state.rawValue)")
                } catch {
                    outcome = try Self.failure(action, error)
                }
                // Back to the list the button was on; only a known state names one.
                let returnState = context.form.text("returnState").flatMap { $0 == "all" ? $0 : AlertState(rawValue: $0)?.rawValue } ?? "all"
                return try await redirect(to: "/ui/alerts?state=" + returnState, with: outcome, context: context)
            }
        }

        router.get("/ui/analytics") { request, context in
            let chart = try AnalyticsChart(context.form, format: format, now: dependencies.now())
            let values = try await chart.values(dependencies.analytics)
            let utilization = try await dependencies.analytics.utilization(
                from: chart.from, to: chart.to, stationID: chart.stationID, siteID: chart.siteID)
            let sites = try await dependencies.sites.list(page: PageRequest(limit: PageRequest.maximumLimit)).items.map(\.site)
            return DashboardLayout.response(
                DashboardLayout.page(
                    title: "Analytics", current: "/ui/analytics", session: context.webSession,
                    AnalyticsPage.render(chart, values: values, utilization: utilization, sites: sites, format: format)))
        }

        router.get("/ui/users") { request, context in
            let users = try await dependencies.auth.users.list(
                role: nil, status: nil, page: PageRequest(limit: 200, cursor: context.form.text("cursor")))
            let notice = try await takeNotice(request.uri.queryParameters.text("outcome"), context: context)
            return DashboardLayout.response(
                DashboardLayout.page(
                    title: "Users", current: "/ui/users", session: context.webSession,
                    UserPages.list(
                        users.items, next: DashboardLayout.nextPage("/ui/users", cursor: users.nextCursor), notice: notice,
                        session: try requireSession(context), format: format)))
        }
        router.post("/ui/users") { _, context in
            let form = context.form
            let outcome: FormOutcome
            do {
                var validator = Validator()
                let role = validator.parse(form.text("role") ?? "", as: Role.self, field: "role")
                try validator.throwIfInvalid()
                let (user, _) = try await dependencies.auth.accounts.create(
                    email: form.text("email") ?? "", password: form["password"] ?? "", name: form.text("name") ?? "", role: role!)
                outcome = .done("\(user.email) created as \(user.role.rawValue)")
            } catch {
                outcome = try Self.failure("new user", error)
            }
            return try await redirect(to: "/ui/users", with: outcome, context: context)
        }
        router.post("/ui/users/{id}/status") { _, context in
            let id = try context.parameters.require("id")
            let outcome: FormOutcome
            do {
                var validator = Validator()
                let status = validator.parse(context.form.text("status") ?? "", as: UserStatus.self, field: "status")
                try validator.throwIfInvalid()
                let user = try await dependencies.auth.updateUser(id, version: nil, name: nil, role: nil, status: status, password: nil)
                outcome = .done("\(user.email) is \(user.status.rawValue)")
            } catch {
                outcome = try Self.failure("user", error)
            }
            return try await redirect(to: "/ui/users", with: outcome, context: context)
        }

        router.get("/ui/system") { _, context in
            let report = await dependencies.health.report()
            let services = await dependencies.registry.list()
            return DashboardLayout.response(
                DashboardLayout.page(
                    title: "System", current: "/ui/system", session: context.webSession,
                    SystemPage.render(report: report, services: services, connected: dependencies.ocpp.registry.count)))
        }
    }
}
