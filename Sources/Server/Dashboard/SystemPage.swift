import Foundation
import Observability

/// Health checks, registered services, version and uptime.
enum SystemPage {
    static func render(report: HealthReport, services: [ServiceRegistry.ServiceView], connected: Int) -> HTML {
        let checks = report.checks.sorted { $0.key < $1.key }.map { name, result -> HTML in
            "<tr><td>\(name)</td><td>\(result.status.rawValue)</td><td>\(result.message)</td><td>\(String(format: "%.1f", result.responseTimeMs)) ms</td></tr>"
        }
        let serviceRows = services.map { service -> HTML in
            "<tr><td>\(service.name)</td><td>\(service.kind)</td><td>\(service.version)</td><td>\(service.basePath ?? service.url)</td><td>\(service.status.rawValue)</td><td>\(service.message)</td></tr>"
        }
        let uptime = report.uptimeSeconds
        return """
            <h1>System</h1>
            <section class="panel">
              <dl class="facts">
                <dt>Status</dt><dd id="system-status">\(report.status.rawValue)</dd>
                <dt>Version</dt><dd>\(report.version)</dd>
                <dt>Uptime</dt><dd>\(uptime / 86_400) d \(uptime % 86_400 / 3600) h \(uptime % 3600 / 60) min</dd>
                <dt>Chargers connected</dt><dd>\(connected)</dd>
              </dl>
            </section>
            <section class="panel"><h2>Health checks</h2>\(DashboardLayout.table(id: "checks", ["Check", "Status", "Message", "Took"], checks, empty: "No checks."))</section>
            <section class="panel"><h2>Services</h2>\(DashboardLayout.table(id: "services", ["Name", "Kind", "Version", "Where", "Status", "Message"], serviceRows, empty: "No services."))</section>
            """
    }
}
