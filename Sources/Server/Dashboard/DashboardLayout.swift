import Foundation
import Hummingbird

/// The frame of every dashboard page and the formatting shared by the pages.
enum DashboardLayout {
    /// The sections in the navigation, with the roles that see them (as their API routes allow).
    static let sections: [(path: String, title: String, adminOnly: Bool)] = [
        ("/ui", "Overview", false), ("/ui/stations", "Stations", false), ("/ui/sites", "Sites", false),
        ("/ui/reservations", "Reservations", false), ("/ui/sessions", "Sessions", false),
        ("/ui/invoices", "Invoices", false), ("/ui/drivers", "Drivers", false), ("/ui/id-tags", "Id tags", false), ("/ui/tariffs", "Tariffs", false),
        ("/ui/alerts", "Alerts", false), ("/ui/analytics", "Analytics", false), ("/ui/users", "Users", true),
        ("/ui/audit", "Audit", true), ("/ui/system", "System", false),
    ]

    static func page(title: String, current: String?, session: WebSession?, live: Bool = true, _ content: HTML) -> HTML {
        let visible = sections.filter { !$0.adminOnly || session?.identity.role == .admin }
        let navigation = HTML(
            visible.map { section -> HTML in
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
    static func stationPath(_ id: String) -> String { "/ui/stations/" + segment(id) }

    /// `value` escaped as one path segment.
    static func segment(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreservedCharacters) ?? value
    }

    private static let unreservedCharacters = CharacterSet(
        charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func table(id: String? = nil, _ headers: [String], _ rows: [HTML], empty: String) -> HTML {
        guard !rows.isEmpty else { return "<p class=\"muted\">\(empty)</p>" }
        let identifier: HTML = id.map { " id=\"\($0)\"" } ?? .empty
        return """
            <table\(identifier)>
              <thead><tr>\(HTML(headers.map { "<th>\($0)</th>" }))</tr></thead>
              <tbody>\(rows)</tbody>
            </table>
            """
    }

    /// "Next page" for a list that has more, keeping `parameters`.
    static func nextPage(_ path: String, cursor: String?, _ parameters: [(String, String?)] = []) -> HTML {
        guard let cursor else { return .empty }
        return "<p><a href=\"\(path)?\(queryString(parameters + [("cursor", cursor)]))\" rel=\"next\">Next page</a></p>"
    }

    /// A query string of the parameters that have a value.
    static func queryString(_ parameters: [(String, String?)]) -> String {
        var components = URLComponents()
        components.queryItems = parameters.compactMap { name, value in value.map { URLQueryItem(name: name, value: $0) } }
        return components.percentEncodedQuery ?? ""
    }

    /// A select's options, `selected` marked.
    static func options(_ values: [(value: String, label: String)], selected: String?) -> HTML {
        HTML(
            values.map { option -> HTML in
                "<option value=\"\(option.value)\"\(HTML(stringLiteral: option.value == selected ? " selected" : ""))>\(option.label)</option>"
            })
    }

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

    /// A form's outcome, if there is one to show.
    static func notice(_ outcome: FormOutcome?) -> HTML {
        outcome.map { notice($0.message, ok: $0.ok) } ?? .empty
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

    var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    /// Local midnight of a `yyyy-MM-dd` day; nil for a day that does not exist (2026-02-31), which
    /// the calendar would otherwise roll into the next month.
    func startOfDay(_ day: String) -> Date? {
        let parts = day.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3, (1970...9999).contains(parts[0]), (1...12).contains(parts[1]), (1...31).contains(parts[2]),
            let date = calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2])),
            self.day(date) == String(format: "%04d-%02d-%02d", parts[0], parts[1], parts[2])
        else { return nil }
        return date
    }

    /// The moment a `datetime-local` input names (`yyyy-MM-ddTHH:mm`, seconds optional) in the
    /// display zone; nil for a time that does not exist, as `startOfDay` refuses a day.
    func moment(_ text: String) -> Date? {
        let halves = text.split(separator: "T", omittingEmptySubsequences: false)
        guard halves.count == 2, let midnight = startOfDay(String(halves[0])) else { return nil }
        let fields = halves[1].split(separator: ":", omittingEmptySubsequences: false)
        let parts = fields.compactMap { Int($0) }
        guard (2...3).contains(fields.count), parts.count == fields.count else { return nil }
        let (hour, minute, second) = (parts[0], parts[1], parts.count == 3 ? parts[2] : 0)
        guard (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second) else { return nil }
        var components = calendar.dateComponents([.year, .month, .day], from: midnight)
        (components.hour, components.minute, components.second) = (hour, minute, second)
        return calendar.date(from: components)
    }

    /// `date` in the display zone as a `datetime-local` input takes it, to the minute.
    func momentInput(_ date: Date) -> String {
        let parts = calendar.dateComponents([.hour, .minute], from: date)
        return day(date) + String(format: "T%02d:%02d", parts.hour ?? 0, parts.minute ?? 0)
    }

    /// The `yyyy-MM-dd` of `date` in the display zone, as a date input takes it.
    func day(_ date: Date) -> String {
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }

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

    /// 150 rather than 150.0; 7.4 as is.
    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    static func money(_ money: Money?) -> String {
        guard let money else { return "—" }
        return "\(money.decimalString) \(money.currency.code)"
    }
}
