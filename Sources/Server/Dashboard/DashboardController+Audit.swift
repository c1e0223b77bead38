import Foundation
import Hummingbird
import Storage

/// The audit trail pages (admins only, as the audit API) and the driver page that carries a panel.
extension DashboardController {
    func addAuditRoutes(to router: some RouterMethods<AppRequestContext>) {
        let auditAPI = AuditController(audit: dependencies.audit)
        router.get("/ui/audit") { request, context in
            let filter = AuditPages.Filter(context.form)
            let entries = try await dependencies.audit.list(
                try filter.query(format: format), page: PageRequest(limit: 100, cursor: request.uri.queryParameters.text("cursor")))
            return DashboardLayout.response(
                DashboardLayout.page(
                    title: "Audit log", current: "/ui/audit", session: context.webSession,
                    AuditPages.page(entries, filter: filter, format: format)))
        }
        router.get("/ui/audit/export.csv") { _, context in
            try await auditAPI.csv(try AuditPages.Filter(context.form).query(format: format))
        }
        router.get("/ui/drivers/{id}") { _, context in
            let id = try context.parameters.require("id")
            guard let driver = try await dependencies.drivers.get(id) else { throw APIError.notFound("no driver \(id)") }
            let session = try requireSession(context)
            let tags = try await dependencies.drivers.idTags(status: nil, driverID: id, kind: nil, page: PageRequest(limit: 200))
            let audit = try await auditPanel(AuditQuery(driverID: id), all: [("driverId", id)], session: session)
            return DashboardLayout.response(
                DashboardLayout.page(
                    title: driver.name, current: "/ui/drivers", session: session,
                    DriverPages.detail(driver, tags: tags.items.map(\.id), audit: audit, format: format)))
        }
    }

    /// The latest audit entries for a station's or driver's page; empty for operators, who may
    /// not read the audit log.
    func auditPanel(_ query: AuditQuery, all: [(String, String?)], session: WebSession) async throws -> HTML {
        guard session.identity.role == .admin else { return .empty }
        let entries = try await dependencies.audit.list(query, page: PageRequest(limit: 20))
        return AuditPages.panel(entries.items, all: all, format: format)
    }
}
