import Foundation
import Hummingbird

/// The frame of every dashboard page and the formatting shared by the pages.
enum DashboardLayout {
    /// The sections in the navigation, with the roles that see them (as their API routes allow).
    static let sections: [(path: String, title: String)] = [
        ("/ui", "Overview"), ("/ui/stations", "Stations"),
    ]

    static func page(title: String, current: String?, session: WebSession?, live: Bool = true, _ content: HTML) -> HTML {
        let navigation = HTML(
            sections.map { section -> HTML in
                section.path == current
                    ? "<a href=\"\(section.path)\" aria-current=\"page\">\(section.title)</a>"
                    : "<a href=\"\(section.path)\">\(section.title)</a>"
            })
        let header: HTML =
            if let session {
                """
                <header class="top">
                  <a href="/ui"><strong>CSMS</strong></a>
                  <nav aria-label="Sections">\(navigation)</nav>
                  <div class="who">
                    <span id="live-status" aria-live="polite"></span>
                    <span>\(session.name) (\(session.identity.role.rawValue))</span>
                    <form method="post" action="/ui/logout">\(csrfField(session))<button type="submit">Sign out</button></form>
                    <form method="post" action="/ui/logout-everywhere" data-confirm="Sign out on every device and app?">\(csrfField(session))<button type="submit">Everywhere</button></form>
                  </div>
                </header>
                """
            } else {
                "<header class=\"top\"><a href=\"/ui\"><strong>CSMS</strong></a></header>"
            }
        return """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title) · CSMS</title>
            <link rel="icon" href="data:,">
            <link rel="stylesheet" href="/ui/assets/dashboard.css">
            <script src="/ui/assets/dashboard.js" defer></script>
            </head>
            <body\(live && session != nil ? " data-live" : "")>
            \(header)
            <main>
            \(content)
            </main>
            </body>
            </html>
            """
    }

    /// `/ui/stations/{id}` for a station id, the id escaped as one path segment.
    static func stationPath(_ id: String) -> String {
        "/ui/stations/" + (id.addingPercentEncoding(withAllowedCharacters: unreservedCharacters) ?? id)
    }

    private static let unreservedCharacters = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func csrfField(_ session: WebSession) -> HTML {
        "<input type=\"hidden\" name=\"_csrf\" value=\"\(session.csrfToken)\">"
    }

    static func response(_ html: HTML, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html.text)))
    }

    static func errorPage(_ problem: APIError, requestID: String, session: WebSession?) -> HTML {
        page(
            title: problem.title, current: nil, session: session, live: false,
            """
            <h1>\(problem.title)</h1>
            <section class="panel">
              <p>\(problem.detail ?? "")</p>
              \(HTML((problem.errors ?? []).map { "<p>\($0.field): \($0.message)</p>" }))
              <p class="muted">Status \(problem.status.code) · request \(requestID)</p>
              <p><a href="/ui">Back to the overview</a></p>
            </section>
            """)
    }

    static func notice(_ text: String, ok: Bool) -> HTML {
        "<div class=\"notice \(ok ? "ok" : "error")\" role=\"status\">\(text)</div>"
    }

    static func connectorBadge(stationID: String, connectorID: Int, status: String) -> HTML {
        "<span class=\"badge status-\(status.lowercased())\" data-connector-badge=\"\(stationID)/\(connectorID)\">\(status)</span>"
    }

    static func onlineBadge(stationID: String, online: Bool) -> HTML {
        "<span class=\"badge \(online ? "online" : "offline")\" data-station-online=\"\(stationID)\">\(online ? "online" : "offline")</span>"
    }
}

/// Times, energy and money as the dashboard shows them, in the configured display time zone.
struct DisplayFormat: Sendable {
    let timeZone: TimeZone

    func time(_ date: Date?) -> String {
        guard let date else { return "—" }
        var style = Date.ISO8601FormatStyle(timeZone: timeZone)
        style = style.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(.colon)
        return style.format(date).replacingOccurrences(of: "T", with: " ") + " " + Self.zoneName(timeZone)
    }

    static func zoneName(_ zone: TimeZone) -> String { zone.identifier == "GMT" ? "UTC" : zone.identifier }

    static func energy(_ wattHours: Int64) -> String {
        let kilo = wattHours / 1000
        let rest = String(wattHours.magnitude % 1000)
        return "\(wattHours < 0 && kilo == 0 ? "-" : "")\(kilo).\(String(repeating: "0", count: 3 - rest.count))\(rest) kWh"
    }

    static func money(_ money: Money?) -> String {
        guard let money else { return "—" }
        return "\(money.decimalString) \(money.currency.code)"
    }
}
