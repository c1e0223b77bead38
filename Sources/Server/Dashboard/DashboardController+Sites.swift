import Foundation
import Hummingbird
import Storage

/// The dashboard's sites, written through the sites API's rules (`SitesController`).
extension DashboardController {
    func addSiteRoutes(to router: some RouterMethods<AppRequestContext>) {
        let sitesAPI = SitesController(sites: dependencies.sites, now: dependencies.now)

        router.get("/ui/sites") { request, context in
            let sites = try await dependencies.sites.list(page: PageRequest(limit: 100, cursor: context.form.text("cursor")))
            let notice = try await takeNotice(request.uri.queryParameters.text("outcome"), context: context)
            return DashboardLayout.response(
                DashboardLayout.page(
                    title: "Sites", current: "/ui/sites", session: context.webSession,
                    SitePages.list(
                        sites, notice: notice, defaultZone: DisplayFormat.zoneName(format.timeZone), session: try requireSession(context))))
        }
        router.get("/ui/sites/{id}") { request, context in
            let view = try await dependencies.sites.site(try context.parameters.require("id"))
            var query = StationQuery()
            query.siteID = view.site.id
            let stations = try await dependencies.stations.list(query, page: PageRequest(limit: 100))
            let allocation = try await dependencies.loadManager.repository.siteAllocation(view.site.id)
            let notice = try await takeNotice(request.uri.queryParameters.text("outcome"), context: context)
            return DashboardLayout.response(
                DashboardLayout.page(
                    title: view.site.name, current: "/ui/sites", session: context.webSession,
                    SitePages.detail(
                        view, stations: stations, allocation: allocation, notice: notice, session: try requireSession(context),
                        format: format)))
        }
        router.post("/ui/sites") { _, context in
            let view: SiteView
            do {
                view = try await sitesAPI.create(try Self.siteInput(context.form))
            } catch {
                return try await redirect(to: "/ui/sites", with: try Self.failure("new site", error), context: context)
            }
            return try await redirect(
                to: "/ui/sites/" + DashboardLayout.segment(view.site.id), with: .done("new site: \(view.site.name) added"),
                context: context)
        }
        router.post("/ui/sites/{id}/edit") { _, context in
            let id = try context.parameters.require("id")
            let outcome: FormOutcome
            do {
                let view = try await sitesAPI.update(id, try Self.siteInput(context.form))
                outcome = .done("site: \(view.site.name) saved")
            } catch {
                outcome = try Self.failure("site", error)
            }
            return try await redirect(to: "/ui/sites/" + DashboardLayout.segment(id), with: outcome, context: context)
        }
    }

    /// The site form as the API's body: the form always carries every field, so an empty address
    /// or power clears it, as `null` does in a PATCH.
    static func siteInput(_ form: FormFields) throws -> SitesController.SiteInput {
        var power: Double?
        if let text = form.text("maxPowerKw") {
            power = Double(text)
            guard power != nil else { throw APIError.validation(field: "maxPowerKw", "must be a number of kW such as 400") }
        }
        return SitesController.SiteInput(
            version: form.text("version").flatMap { Int64($0) }, name: form.text("name") ?? "", address: .set(form.text("address")),
            timeZone: form.text("timeZone"), maxPowerKw: .set(power))
    }
}
