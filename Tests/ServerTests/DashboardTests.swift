import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import OCPP
import Storage
import Testing
import X509

@testable import Server

/// A dashboard browser: its session cookie and the CSRF token of the last page it read.
struct DashboardBrowser {
    let client: any TestClientProtocol
    var cookie: String?

    struct Page {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let html: String

        var csrf: String? {
            guard let range = html.range(of: #"name="_csrf" value=""#) else { return nil }
            return String(html[range.upperBound...].prefix { $0 != "\"" })
        }
    }

    func get(_ path: String, headers: HTTPFields = [:]) async throws -> Page {
        try await send(.get, path, body: nil, headers: headers)
    }

    func post(_ path: String, _ fields: [(String, String)]) async throws -> Page {
        let body = fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
            .joined(separator: "&")
        return try await send(.post, path, body: body, headers: [.contentType: "application/x-www-form-urlencoded"])
    }

    private func send(_ method: HTTPRequest.Method, _ path: String, body: String?, headers: HTTPFields) async throws -> Page {
        var headers = headers
        if let cookie { headers[.cookie] = "\(WebSessionService.cookieName)=\(cookie)" }
        return try await client.execute(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) {
            Page(status: $0.status, headers: $0.headers, html: String(buffer: $0.body))
        }
    }

    /// Signs in and keeps the cookie; returns the response to the sign-in form.
    mutating func signIn(_ email: String, _ password: String) async throws -> Page {
        let page = try await post("/ui/login", [("email", email), ("password", password)])
        if let setCookie = page.headers[.setCookie], let value = setCookie.split(separator: ";").first?.split(separator: "=", maxSplits: 1).last {
            cookie = String(value)
        }
        return page
    }
}

@Suite("Operator dashboard")
struct DashboardTests {
    @Test("behind TLS the session cookie is Secure")
    func secureCookie() async throws {
        // The paths are read only when `serve` builds the TLS context; configured is enough here.
        try await withApp(withAdmin.merging(["tlsCert": "/tls/server.pem", "tlsKey": "/tls/server-key.pem"]) { $1 }) {
            client, _ async throws in
            var browser = DashboardBrowser(client: client)
            let signedIn = try await browser.signIn(adminEmail, adminPassword)
            let setCookie = try #require(signedIn.headers[.setCookie])
            #expect(setCookie.contains("Secure") && setCookie.contains("HttpOnly"), "\(setCookie)")
        }
    }

    @Test("sign-in sets an HttpOnly, SameSite=Strict cookie whose token is stored only hashed; a wrong password and a driver are refused")
    func signIn() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            var browser = DashboardBrowser(client: client)
            let wrong = try await browser.signIn(adminEmail, "not-the-password")
            #expect(wrong.status == .unauthorized && wrong.html.contains("Wrong email or password."))
            #expect(browser.cookie == nil)

            let admin = try await client.adminToken()
            _ = try await client.makeUser("driver", email: "dr@example.com", adminToken: admin)
            let driver = try await browser.signIn("dr@example.com", "password-123")
            #expect(driver.status == .forbidden && driver.html.contains("for operators and admins"))
            #expect(browser.cookie == nil)

            let signedIn = try await browser.signIn(adminEmail, adminPassword)
            #expect(signedIn.status == .seeOther && signedIn.headers[.location] == "/ui")
            let setCookie = try #require(signedIn.headers[.setCookie])
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && setCookie.contains("Path=/ui"))
            #expect(!setCookie.contains("Secure"), "plain HTTP: a Secure cookie would never come back")
            let token = try #require(browser.cookie)
            let stored = try await dependencies.database.read { connection in
                try connection.query("SELECT token_hash FROM web_sessions") { try $0.get(0, as: String.self) }
            }
            #expect(stored == [TokenService.hash(token)])

            let overview = try await browser.get("/ui")
            #expect(overview.status == .ok && overview.html.contains("<h1>Overview</h1>"))
            #expect(overview.headers[.contentSecurityPolicy] == DashboardMiddleware.contentSecurityPolicy)
            #expect(overview.headers[.xFrameOptions] == "DENY")
            #expect(!overview.html.contains("<script>"), "no inline script")
        }
    }

    @Test("without a session a page redirects to sign-in with the way back; the sign-in goes back there, never off-site")
    func redirects() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            var browser = DashboardBrowser(client: client)
            let page = try await browser.get("/ui/stations?q=x")
            #expect(page.status == .seeOther)
            #expect(page.headers[.location] == "/ui/login?next=%2Fui%2Fstations%3Fq%3Dx")
            let back = try await browser.post("/ui/login", [("email", adminEmail), ("password", adminPassword), ("next", "/ui/stations?q=x")])
            #expect(back.headers[.location] == "/ui/stations?q=x")
            let offSite = try await browser.post(
                "/ui/login", [("email", adminEmail), ("password", adminPassword), ("next", "//evil.example/ui")])
            #expect(offSite.headers[.location] == "/ui")
            _ = try await browser.signIn(adminEmail, adminPassword)
            let root = try await browser.get("/")
            #expect(root.status == .seeOther && root.headers[.location] == "/ui")
        }
    }

    @Test("a bearer token does not open the dashboard, and the dashboard's cookie does not open the API")
    func cookieAndTokenStayApart() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            let withToken = try await client.call(.get, "/ui", token: admin)
            #expect(withToken.status == .seeOther)
            var browser = DashboardBrowser(client: client)
            _ = try await browser.signIn(adminEmail, adminPassword)
            let api = try await client.call(
                .get, "/api/v1/stations", headers: [.cookie: "\(WebSessionService.cookieName)=\(try #require(browser.cookie))"])
            #expect(api.status == .unauthorized)
        }
    }

    @Test("blocking a tag from a page loaded earlier changes its status only, not what changed since")
    func blockKeepsLaterChanges() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.put, "/api/v1/id-tags/CARD1", token: admin, json: ["status": "Accepted"])
            var browser = DashboardBrowser(client: client)
            _ = try await browser.signIn(adminEmail, adminPassword)
            let page = try await browser.get("/ui/id-tags")
            #expect(page.html.contains("action=\"/ui/id-tags/CARD1/status\""))
            // A colleague sets an expiry after the page was loaded.
            _ = try await client.call(
                .put, "/api/v1/id-tags/CARD1", token: admin, json: ["status": "Accepted", "expiresAt": "2027-06-30T00:00:00Z"])
            let blocked = try await browser.post("/ui/id-tags/CARD1/status", [("_csrf", try #require(page.csrf)), ("status", "Blocked")])
            #expect(blocked.status == .seeOther)
            let tag = try await client.call(.get, "/api/v1/id-tags/CARD1", token: admin)
            #expect(tag["status"] as? String == "Blocked")
            #expect(tag["expiresAt"] as? String == "2027-06-30T00:00:00.000Z")
        }
    }

    @Test("hostile filters in a page's query string get a 422 page naming the field, never a 500 or a month rolled over")
    func hostileFilters() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            var browser = DashboardBrowser(client: client)
            _ = try await browser.signIn(adminEmail, adminPassword)
            let refused: [(String, String)] = [
                ("/ui/sessions?from=2026-02-31", "from"),
                ("/ui/sessions?to=2026-13-01", "to"),
                ("/ui/sessions?status=running", "status"),
                ("/ui/analytics?from=1970-01-01&to=9999-12-31&groupBy=hour", "groupBy"),
                ("/ui/analytics?from=2026-11-28&to=2026-11-01", "to"),
                ("/ui/analytics?metric=profit", "metric"),
                ("/ui/stations?online=maybe", "online"),
                ("/ui/invoices?status=lost", "status"),
                ("/ui/alerts?state=forgotten", "state"),
                ("/ui/id-tags?status=Stolen", "status"),
            ]
            for (path, field) in refused {
                let page = try await browser.get(path)
                #expect(page.status == .unprocessableContent, "\(path): \(page.status)")
                #expect(page.html.contains(field), "\(path) names \(field)")
            }
            // Oversized values are cut to size or ignored, not looked up whole.
            let long = String(repeating: "x", count: 8_000)
            #expect(try await browser.get("/ui/stations?q=\(long)").status == .ok)
            #expect(try await browser.get("/ui?outcome=\(long)").status == .ok)
        }
    }

    @Test("a doubled slash does not slip a bearer token past the dashboard's edge")
    func doubledSlash() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("S1"))
            #expect(try await client.call(.get, "//ui/stations", token: admin).status == .seeOther)
            let post = try await client.call(.post, "//ui/stations/S1/decommission", token: admin)
            #expect(post.status == .seeOther && post.headers[.location]?.hasPrefix("/ui/login") == true)
            #expect(try await client.call(.get, "/api/v1/stations/S1", token: admin)["status"] as? String == "active")
        }
    }

    @Test("a form posted from another site is refused, the sign-in form included")
    func crossSite() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            var browser = DashboardBrowser(client: client)
            for headers: HTTPFields in [[.secFetchSite: "cross-site"], [.origin: "http://evil.example"]] {
                var fields = headers
                fields[.contentType] = "application/x-www-form-urlencoded"
                let body = "email=\(adminEmail.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)&password=\(adminPassword)"
                let refused = try await client.execute(uri: "/ui/login", method: .post, headers: fields, body: ByteBuffer(string: body)) {
                    ($0.status, $0.headers[.setCookie])
                }
                #expect(refused.0 == .forbidden && refused.1 == nil, "\(headers)")
            }
            let sameSite = try await browser.signIn(adminEmail, adminPassword)
            #expect(sameSite.status == .seeOther)
        }
    }

    @Test("a search with spaces, as a browser sends it ('+'), finds what was typed")
    func searchWithSpaces() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("S1", name: "Depot North"))
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("S2", name: "Harbour"))
            var browser = DashboardBrowser(client: client)
            _ = try await browser.signIn(adminEmail, adminPassword)
            let page = try await browser.get("/ui/stations?q=Depot+North&status=")
            #expect(page.status == .ok && page.html.contains("Depot North") && !page.html.contains("Harbour"))
        }
    }

    @Test("a form without the session's CSRF token is refused and does nothing; with it, the command runs")
    func csrf() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("S1"))
            var browser = DashboardBrowser(client: client)
            _ = try await browser.signIn(adminEmail, adminPassword)
            let station = try await browser.get("/ui/stations/S1")
            let csrf = try #require(station.csrf)

            let missing = try await browser.post("/ui/stations/S1/commands/reset", [("type", "Soft")])
            #expect(missing.status == .forbidden && missing.html.contains("The form has expired"))
            let forged = try await browser.post("/ui/stations/S1/commands/reset", [("_csrf", csrf + "x"), ("type", "Soft")])
            #expect(forged.status == .forbidden)

            let sent = try await browser.post("/ui/stations/S1/commands/reset", [("_csrf", csrf), ("type", "Soft")])
            #expect(sent.status == .seeOther)
            let location = try #require(sent.headers[.location])
            #expect(location.hasPrefix("/ui/stations/S1?outcome="))
            let shown = try await browser.get(location)
            #expect(shown.html.contains("reset failed: station S1 is not connected"))
            // Another user cannot read this user's outcome.
            var other = DashboardBrowser(client: client)
            _ = try await client.makeUser("operator", email: "op@example.com", adminToken: admin)
            _ = try await other.signIn("op@example.com", "password-123")
            let foreign = try await other.get(location)
            #expect(foreign.status == .ok && !foreign.html.contains("reset failed"))
        }
    }

    @Test("sign-out ends the session; sign-out everywhere also revokes the account's API refresh tokens; a disabled account's session stops")
    func revocation() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            let (operatorID, _) = try await client.makeUser("operator", email: "op@example.com", adminToken: admin)

            var browser = DashboardBrowser(client: client)
            _ = try await browser.signIn("op@example.com", "password-123")
            let csrf = try #require(try await browser.get("/ui").csrf)
            let out = try await browser.post("/ui/logout", [("_csrf", csrf)])
            #expect(out.status == .seeOther && out.headers[.setCookie]?.contains("Max-Age=0") == true)
            #expect(try await browser.get("/ui").status == .seeOther)

            _ = try await browser.signIn("op@example.com", "password-123")
            let login = try await client.call(.post, "/api/v1/auth/login", json: ["email": "op@example.com", "password": "password-123"])
            let refresh = try #require(login["refreshToken"] as? String)
            let everywhere = try await browser.post("/ui/logout-everywhere", [("_csrf", try #require(try await browser.get("/ui").csrf))])
            #expect(everywhere.status == .seeOther)
            #expect(try await browser.get("/ui").status == .seeOther)
            let refreshed = try await client.call(.post, "/api/v1/auth/refresh", json: ["refreshToken": refresh])
            #expect(refreshed.status == .unauthorized)

            _ = try await browser.signIn("op@example.com", "password-123")
            #expect(try await browser.get("/ui").status == .ok)
            let disabled = try await client.call(.patch, "/api/v1/users/\(operatorID)", token: admin, json: ["status": "disabled"])
            #expect(disabled.status == .ok)
            #expect(try await browser.get("/ui").status == .seeOther)
        }
    }

    @Test("the sweep deletes expired and ended sessions and keeps current ones")
    func sweep() async throws {
        let clock = TestClock()
        try await withApp(withAdmin, now: { clock.now }) { client, dependencies async throws in
            var current = DashboardBrowser(client: client)
            _ = try await current.signIn(adminEmail, adminPassword)
            var ended = DashboardBrowser(client: client)
            _ = try await ended.signIn(adminEmail, adminPassword)
            _ = try await ended.post("/ui/logout", [("_csrf", try #require(try await ended.get("/ui").csrf))])
            let sessions = dependencies.webSessions
            #expect(try await sessions.sweep() == 1)
            #expect(try await current.get("/ui").status == .ok)
            clock.advance(13 * 3600)
            #expect(try await sessions.sweep() == 1)
            #expect(try await current.get("/ui").status == .seeOther)
        }
    }

    @Test("whatever a charger or an operator typed is shown as text, never as markup")
    func escapes() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(
                .post, "/api/v1/stations", token: admin, json: stationBody("S1", name: "<script>alert(1)</script>\"'&"))
            var browser = DashboardBrowser(client: client)
            _ = try await browser.signIn(adminEmail, adminPassword)
            for path in ["/ui/stations", "/ui/stations/S1"] {
                let page = try await browser.get(path)
                #expect(!page.html.contains("<script>alert"), "\(path)")
                #expect(page.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"), "\(path)")
            }
        }
    }

    @Test("the stylesheet and script are served from the binary with an ETag, and 304 when unchanged")
    func assets() async throws {
        try await withApp { client, _ async throws in
            for name in ["dashboard.css", "dashboard.js"] {
                let browser = DashboardBrowser(client: client)
                let first = try await browser.get("/ui/assets/\(name)")
                #expect(first.status == .ok && !first.html.isEmpty)
                let etag = try #require(first.headers[.eTag])
                let again = try await browser.get("/ui/assets/\(name)", headers: [.ifNoneMatch: etag])
                #expect(again.status == .notModified && again.html.isEmpty)
            }
            #expect(try await DashboardBrowser(client: client).get("/ui/assets/secrets.txt").status == .notFound)
        }
    }

    @Test("each dashboard route is allowed to exactly the roles its API route allows, narrowed to staff")
    func rolesFollowTheAPI() async throws {
        for (route, access) in RoutePolicy.dashboardTable where access != .anyone {
            let counterpart = try #require(RoutePolicy.dashboardCounterparts[route], "\(route) names no API route")
            let apiAccess = try #require(RoutePolicy.table[counterpart], "\(counterpart) is not an API route")
            for role in Role.allCases {
                #expect(access.allows(role) == (apiAccess.allows(role) && role != .driver), "\(route) for \(role)")
            }
        }
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            _ = try await client.makeUser("operator", email: "op@example.com", adminToken: admin)
            let ids = try await Self.billedSession(client, admin: admin)
            var operatorBrowser = DashboardBrowser(client: client)
            _ = try await operatorBrowser.signIn("op@example.com", "password-123")
            var adminBrowser = DashboardBrowser(client: client)
            _ = try await adminBrowser.signIn(adminEmail, adminPassword)
            let anonymous = DashboardBrowser(client: client)
            for (route, access) in RoutePolicy.dashboardTable.sorted(by: { $0.key < $1.key })
            where route.hasPrefix("GET ") && access != .anyone && route != "GET /ui/events" {
                let path = String(route.dropFirst(4)).replacingOccurrences(of: "{id}", with: ids[route] ?? "S1")
                    .replacingOccurrences(of: "{jobId}", with: "none")
                // A route of a record that does not exist gets past the role check to its 404.
                let allowed: HTTPResponse.Status = path.hasSuffix("/none/file") ? .notFound : .ok
                #expect(try await anonymous.get(path).status == .seeOther, "\(route) anonymous")
                let operatorStatus = try await operatorBrowser.get(path).status
                #expect(operatorStatus == (access.allows(.operator) ? allowed : .forbidden), "\(route) operator")
                #expect(try await adminBrowser.get(path).status == allowed, "\(route) admin")
            }
        }
    }

    /// A tariff, station S1 on it, and a session started and stopped by hand, so it is invoiced:
    /// the ids the dashboard's `{id}` routes need.
    static func billedSession(_ client: any TestClientProtocol, admin: String) async throws -> [String: String] {
        let tariff = try await client.call(
            .post, "/api/v1/tariffs", token: admin,
            json: ["name": "Flat", "currency": "EUR", "energyPrice": "0.40", "taxRatePercent": "20"])
        let tariffID = try #require(tariff["id"] as? String)
        var station = stationBody("S1")
        station["tariffId"] = tariffID
        #expect(try await client.call(.post, "/api/v1/stations", token: admin, json: station).status == .created)
        #expect(try await client.call(.put, "/api/v1/id-tags/RFID1", token: admin, json: ["status": "Accepted"]).status == .created)
        let started = try await client.call(
            .post, "/api/v1/sessions", token: admin,
            json: ["stationId": "S1", "connectorId": 1, "idTag": "RFID1", "startedAt": "2026-11-28T10:00:00Z", "meterStartWh": 1000])
        let sessionID = try #require(started["id"] as? String, "\(started.object)")
        let stopped = try await client.call(
            .post, "/api/v1/sessions/\(sessionID)/stop", token: admin, json: ["meterStopWh": 11_000, "stoppedAt": "2026-11-28T11:00:00Z"])
        let invoiceID = try #require(stopped["invoiceId"] as? String, "\(stopped.object)")
        let site = try await client.call(.post, "/api/v1/sites", token: admin, json: ["name": "Depot", "timeZone": "Europe/Berlin"])
        let siteID = try #require(site["id"] as? String, "\(site.object)")
        let driver = try await client.call(.post, "/api/v1/drivers", token: admin, json: ["name": "Dana", "email": "dana@example.com"])
        let driverID = try #require(driver["id"] as? String, "\(driver.object)")
        return [
            "GET /ui/sessions/{id}": sessionID, "GET /ui/invoices/{id}": invoiceID, "GET /ui/tariffs/{id}": tariffID,
            "GET /ui/sites/{id}": siteID, "GET /ui/drivers/{id}": driverID,
        ]
    }

    @Test("analytics narrowed to a site count only its stations")
    func analyticsBySite() async throws {
        try await withApp(withAdmin.merging(["displayTimeZone": "UTC"]) { $1 }) { client, _ async throws in
            let admin = try await client.adminToken()
            let ids = try await Self.billedSession(client, admin: admin)
            let site = try #require(ids["GET /ui/sites/{id}"])
            var browser = DashboardBrowser(client: client)
            _ = try await browser.signIn(adminEmail, adminPassword)
            func table(_ query: String) async throws -> String {
                let page = try await browser.get("/ui/analytics?from=2026-11-28&to=2026-11-28&" + query)
                #expect(page.status == .ok)
                let start = try #require(page.html.range(of: "id=\"analytics-table\"")).lowerBound
                return String(page.html[start...].prefix(400))
            }
            let delivered = DisplayFormat.energy(10_000)
            #expect(try await table("siteId=").contains(delivered), "all stations")
            #expect(!(try await table("siteId=\(site)").contains(delivered)), "S1 is not at the site yet")
            _ = try await client.call(.patch, "/api/v1/stations/S1", token: admin, json: ["siteId": site])
            let narrowed = try await browser.get("/ui/analytics?from=2026-11-28&to=2026-11-28&siteId=\(site)")
            #expect(narrowed.html.contains(delivered) && narrowed.html.contains("<option value=\"\(site)\" selected>Depot</option>"))
        }
    }

    @Test("the sites page adds a site and lists it; a change saves, an empty power clears it, a bad time zone is refused on the page")
    func sites() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            var browser = DashboardBrowser(client: client)
            _ = try await browser.signIn(adminEmail, adminPassword)
            let empty = try await browser.get("/ui/sites")
            #expect(empty.status == .ok && empty.html.contains("No sites."))
            #expect(empty.html.contains("<a href=\"/ui/sites\" aria-current=\"page\">Sites</a>"))
            #expect(empty.html.contains("<a href=\"/ui/reservations\">Reservations</a>"))
            let csrf = try #require(empty.csrf)

            let added = try await browser.post(
                "/ui/sites",
                [("_csrf", csrf), ("name", "Depot West"), ("address", "1 Harbour Road"), ("timeZone", "Europe/Berlin"), ("maxPowerKw", "400")])
            #expect(added.status == .seeOther)
            let location = try #require(added.headers[.location])
            #expect(location.hasPrefix("/ui/sites/"))
            let siteID = String(location.dropFirst("/ui/sites/".count).prefix { $0 != "?" })
            let shown = try await browser.get(location)
            #expect(shown.status == .ok && shown.html.contains("new site: Depot West added"))
            #expect(shown.html.contains("1 Harbour Road") && shown.html.contains("No stations yet"))

            let listed = try await browser.get("/ui/sites")
            let row = try #require(listed.html.range(of: "data-site=\"\(siteID)\"").map { String(listed.html[$0.lowerBound...].prefix(600)) })
            #expect(row.contains("Depot West") && row.contains("Europe/Berlin") && row.contains("400 kW") && row.contains(">0</a>"))
            let stored = try await dependencies.sites.site(siteID).site
            #expect(stored.name == "Depot West" && stored.timeZone == "Europe/Berlin" && stored.maxPowerKw == 400 && stored.address == "1 Harbour Road")

            let saved = try await browser.post(
                "/ui/sites/\(siteID)/edit",
                [
                    ("_csrf", csrf), ("version", String(stored.version)), ("name", "Depot East"), ("address", ""),
                    ("timeZone", "Europe/Paris"), ("maxPowerKw", ""),
                ])
            #expect(try await browser.get(try #require(saved.headers[.location])).html.contains("site: Depot East saved"))
            let changed = try await dependencies.sites.site(siteID).site
            #expect(changed.name == "Depot East" && changed.timeZone == "Europe/Paris" && changed.maxPowerKw == nil && changed.address == nil)

            let refused = try await browser.post(
                "/ui/sites", [("_csrf", csrf), ("name", "Nowhere"), ("timeZone", "Mars/Olympus"), ("maxPowerKw", "lots")])
            let refusedPage = try await browser.get(try #require(refused.headers[.location]))
            #expect(refusedPage.html.contains("new site failed") && refusedPage.html.contains("maxPowerKw"))
            let badZone = try await browser.post("/ui/sites", [("_csrf", csrf), ("name", "Nowhere"), ("timeZone", "Mars/Olympus")])
            #expect(try await browser.get(try #require(badZone.headers[.location])).html.contains("timeZone: must be an IANA time zone"))
            #expect(try await dependencies.sites.list(page: PageRequest()).items.map(\.site.name) == ["Depot East"])
        }
    }

    @Test("a station joins a site through its settings form; the site lists it and the station list filters by site")
    func stationJoinsSite() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("S1", name: "Quay One"))
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("S2", name: "Quay Two"))
            let site = try await client.call(.post, "/api/v1/sites", token: admin, json: ["name": "Harbour", "timeZone": "UTC"])
            let siteID = try #require(site["id"] as? String)
            var browser = DashboardBrowser(client: client)
            _ = try await browser.signIn(adminEmail, adminPassword)
            let page = try await browser.get("/ui/stations/S1")
            #expect(page.html.contains("<option value=\"\(siteID)\">Harbour</option>"))
            func settings(_ siteField: String) -> [(String, String)] {
                [("_csrf", page.csrf ?? ""), ("name", "Quay One"), ("address", ""), ("operatorId", ""), ("status", "active"),
                 ("registration", "accepted"), ("tariffId", ""), ("siteId", siteField)]
            }
            let saved = try await browser.post("/ui/stations/S1/edit", settings(siteID))
            let after = try await browser.get(try #require(saved.headers[.location]))
            #expect(after.html.contains("settings: saved"))
            #expect(after.html.contains("<option value=\"\(siteID)\" selected>Harbour</option>"))
            #expect(try await dependencies.stations.get("S1")?.station.siteId == siteID)
            #expect(try await dependencies.stations.get("S2")?.station.siteId == nil)

            let sitePage = try await browser.get("/ui/sites/\(siteID)")
            #expect(sitePage.html.contains("Quay One") && !sitePage.html.contains("Quay Two"))
            let filtered = try await browser.get("/ui/stations?siteId=\(siteID)")
            #expect(filtered.html.contains("Quay One") && !filtered.html.contains("Quay Two"))
            #expect(filtered.html.contains("<option value=\"\(siteID)\" selected>Harbour</option>"))
            #expect(try await browser.get("/ui/sites").html.contains(">1</a>"))

            let unknown = try await browser.post("/ui/stations/S1/edit", settings("no-such-site"))
            #expect(try await browser.get(try #require(unknown.headers[.location])).html.contains("siteId: no site no-such-site"))
            _ = try await browser.post("/ui/stations/S1/edit", settings(""))
            #expect(try await dependencies.stations.get("S1")?.station.siteId == nil)
        }
    }

    @Test("the reservations page renders; reserving at a station with no charger connected is refused with the reason on the page, and nothing is stored")
    func reservationRefused() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("S1"))
            _ = try await client.call(.put, "/api/v1/id-tags/RFID1", token: admin, json: ["status": "Accepted"])
            var browser = DashboardBrowser(client: client)
            _ = try await browser.signIn(adminEmail, adminPassword)
            let page = try await browser.get("/ui/reservations")
            #expect(page.status == .ok && page.html.contains("<h1>Reservations</h1>") && page.html.contains("No reservations match."))
            #expect(page.html.contains("id=\"reservation-form\"") && page.html.contains("<option value=\"S1\"></option>"))
            let csrf = try #require(page.csrf)

            let refused = try await browser.post(
                "/ui/reservations", [("_csrf", csrf), ("stationId", "S1"), ("connectorId", "0"), ("idTag", "RFID1"), ("expiresInMinutes", "30")])
            #expect(refused.status == .seeOther)
            let location = try #require(refused.headers[.location])
            #expect(location.hasPrefix("/ui/reservations?outcome="))
            let shown = try await browser.get(location)
            #expect(shown.html.contains("reservation at S1 failed: station S1 is not connected"))
            #expect(shown.html.contains("notice error"))

            let tooLong = try await browser.post(
                "/ui/reservations", [("_csrf", csrf), ("stationId", "S1"), ("connectorId", "0"), ("idTag", "RFID1"), ("expiresInMinutes", "10081")])
            #expect(try await browser.get(try #require(tooLong.headers[.location])).html.contains("expiresInMinutes: must be from 1 to 10080"))
            let noConnector = try await browser.post(
                "/ui/reservations", [("_csrf", csrf), ("stationId", "S1"), ("connectorId", "9"), ("idTag", "RFID1"), ("expiresInMinutes", "30")])
            #expect(try await browser.get(try #require(noConnector.headers[.location])).html.contains("station S1 has no connector 9"))

            #expect(try await dependencies.reservations.reservations.list(ReservationQuery(), page: PageRequest()).items.isEmpty)
            #expect(try await browser.get("/ui/stations/S1").html.contains("No open reservations."))
            #expect(try await browser.get("/ui/reservations?status=lost").status == .unprocessableContent)
        }
    }

    @Test("with the charger connected, a reservation made on the page is held, shows on its station's page, and is cancelled from there")
    func reservationHeldAndCancelled() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let (_, charger) = try await client.connectStationCP1(dependencies)
            let admin = try await client.adminToken()
            _ = try await client.call(.put, "/api/v1/id-tags/RFID1", token: admin, json: ["status": "Accepted"])
            var signingIn = DashboardBrowser(client: client)
            _ = try await signingIn.signIn(adminEmail, adminPassword)
            let browser = signingIn
            let csrf = try #require(try await browser.get("/ui/reservations").csrf)

            async let posted = browser.post(
                "/ui/reservations", [("_csrf", csrf), ("stationId", "CP1"), ("connectorId", "0"), ("idTag", "RFID1"), ("expiresInMinutes", "45")])
            let call = try await charger.answerCall("ReserveNow", with: #"{"status":"Accepted"}"#)
            guard call.count == 4, case .object(let request) = call[3] else { throw TestChargerError.notACall(call) }
            #expect(request["idTag"] == .string("RFID1") && request["connectorId"] == .int(0), "\(call)")
            let reserved = try await browser.get(try #require(try await posted.headers[.location]))
            #expect(reserved.html.contains("reservation: any connector of CP1 for RFID1") && reserved.html.contains("is active; the charger answered Accepted"))
            let stored = try #require(try await dependencies.reservations.reservations.open(stationID: "CP1").first)
            #expect(stored.status == .active && stored.connectorId == 0 && stored.idTag == "RFID1")

            let station = try await browser.get("/ui/stations/CP1")
            let panel = try #require(station.html.range(of: "id=\"station-reservations\"").map { String(station.html[$0.lowerBound...].prefix(2000)) })
            #expect(panel.contains("RFID1") && panel.contains("<td>any</td>") && panel.contains("active"))
            #expect(panel.contains("action=\"/ui/reservations/\(stored.id)/cancel\""))

            async let cancelled = browser.post("/ui/reservations/\(stored.id)/cancel", [("_csrf", csrf), ("returnTo", "station")])
            try await charger.answerCall("CancelReservation", with: #"{"status":"Accepted"}"#)
            let back = try #require(try await cancelled.headers[.location])
            #expect(back.hasPrefix("/ui/stations/CP1?outcome="))
            let after = try await browser.get(back)
            #expect(after.html.contains("is cancelled; the charger answered Accepted") && after.html.contains("No open reservations."))
            #expect(try await dependencies.reservations.reservations.reservation(stored.id).status == .cancelled)
            let listed = try await browser.get("/ui/reservations?stationId=CP1&status=cancelled")
            #expect(listed.html.contains("data-reservation=\"\(stored.id)\"") && !listed.html.contains("/cancel\""))
            await charger.close()
        }
    }

    @Test("the sites and reservations pages and forms need a signed-in staff cookie: anonymous callers, bearer tokens and drivers are refused")
    func sitesAndReservationsNeedStaff() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            let (_, driverToken) = try await client.makeUser("driver", email: "dr@example.com", adminToken: admin)
            _ = try await client.makeUser("operator", email: "op@example.com", adminToken: admin)
            var driver = DashboardBrowser(client: client)
            #expect(try await driver.signIn("dr@example.com", "password-123").status == .forbidden)
            #expect(driver.cookie == nil)
            for path in ["/ui/sites", "/ui/reservations"] {
                let anonymous = try await driver.get(path)
                #expect(anonymous.status == .seeOther && anonymous.headers[.location]?.hasPrefix("/ui/login") == true, "\(path)")
                #expect(try await client.call(.get, path, token: driverToken).status == .seeOther, "\(path) with a driver's token")
            }
            let posted = try await driver.post("/ui/sites", [("name", "Sneaky"), ("timeZone", "UTC")])
            #expect(posted.status == .seeOther && posted.headers[.location]?.hasPrefix("/ui/login") == true)
            #expect(try await dependencies.sites.list(page: PageRequest()).items.isEmpty)

            var operatorBrowser = DashboardBrowser(client: client)
            _ = try await operatorBrowser.signIn("op@example.com", "password-123")
            #expect(try await operatorBrowser.get("/ui/sites").status == .ok)
            #expect(try await operatorBrowser.get("/ui/reservations").status == .ok)
        }
    }

    /// The section of `page` that starts at the element with `id`.
    static func panel(_ page: DashboardBrowser.Page, _ id: String, length: Int = 3000) throws -> String {
        try #require(page.html.range(of: "id=\"\(id)\"").map { String(page.html[$0.lowerBound...].prefix(length)) }, "no \(id)")
    }

    @Test("the site page shows load management: the site limit, what is allocated and its share, and each charging connector's limit and answer")
    func siteAllocation() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("S1"))
            let managed = try await client.call(
                .post, "/api/v1/sites", token: admin, json: ["name": "Depot", "timeZone": "UTC", "maxPowerKw": 22])
            let managedID = try #require(managed["id"] as? String, "\(managed.object)")
            let unmanaged = try await client.call(.post, "/api/v1/sites", token: admin, json: ["name": "Yard", "timeZone": "UTC"])
            let unmanagedID = try #require(unmanaged["id"] as? String)
            let now = Date()
            try await dependencies.loadManager.repository.store(
                siteID: managedID,
                [
                    ConnectorAllocation(
                        stationId: "S1", connectorId: 1, transactionId: 7, limitW: 11_000, acknowledgedLimitW: nil, state: .charging,
                        reportedPowerW: 10_500, updatedAt: now),
                    ConnectorAllocation(
                        stationId: "S1", connectorId: 2, transactionId: 8, limitW: 3_680, acknowledgedLimitW: 7_400, state: .charging,
                        reportedPowerW: nil, updatedAt: now),
                ])
            var browser = DashboardBrowser(client: client)
            _ = try await browser.signIn(adminEmail, adminPassword)

            let page = try await browser.get("/ui/sites/\(managedID)")
            #expect(page.status == .ok)
            let panel = try Self.panel(page, "site-allocation")
            #expect(panel.contains("<h2>Charging limits</h2>") && panel.contains("<dd>22 kW</dd>"))
            #expect(panel.contains("14.68 kW (67% of the limit)"), "\(panel)")
            let first = try #require(panel.range(of: "data-allocation=\"S1/1\"").map { String(panel[$0.lowerBound...].prefix(700)) })
            #expect(first.contains("<a href=\"/ui/stations/S1\">S1</a>") && first.contains("<td>7</td>") && first.contains("<td>11 kW</td>"))
            #expect(first.contains("<td>waiting</td>") && first.contains("<td class=\"allocation-state\">charging</td>") && first.contains("<td>10.5 kW</td>"))
            let second = try #require(panel.range(of: "data-allocation=\"S1/2\"").map { String(panel[$0.lowerBound...].prefix(700)) })
            #expect(second.contains("<td>3.68 kW</td>") && second.contains("<td>7.4 kW, waiting for the new limit</td>") && second.contains("<td>—</td>"))

            let yard = try await browser.get("/ui/sites/\(unmanagedID)")
            #expect(yard.status == .ok)
            #expect(try Self.panel(yard, "site-allocation").contains("No load management"))
            #expect(!yard.html.contains("id=\"allocations\""))
        }
    }

    @Test("the station page sends the local list: a full list is sent and confirmed, a differential one with nothing changed sends nothing")
    func localList() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let (admin, charger) = try await client.connectStationCP1(dependencies)
            _ = try await client.call(.put, "/api/v1/id-tags/RFID1", token: admin, json: ["status": "Accepted"])
            var signingIn = DashboardBrowser(client: client)
            _ = try await signingIn.signIn(adminEmail, adminPassword)
            let browser = signingIn
            let page = try await browser.get("/ui/stations/CP1")
            let before = try Self.panel(page, "station-local-list")
            #expect(before.contains("No list sent yet.") && before.contains("action=\"/ui/stations/CP1/local-list\""))
            #expect(before.contains("name=\"type\" value=\"full\">Send full list") && before.contains("value=\"differential\" class=\"secondary\">Send changes"))
            let csrf = try #require(page.csrf)

            async let posted = browser.post("/ui/stations/CP1/local-list", [("_csrf", csrf), ("type", "full")])
            let call = try await charger.answerCall("SendLocalList", with: #"{"status":"Accepted"}"#)
            #expect(call[3]["updateType"] == .string("Full") && call[3]["listVersion"] == .int(1), "\(call)")
            let location = try #require(try await posted.headers[.location])
            #expect(location.hasPrefix("/ui/stations/CP1?outcome="))
            let shown = try await browser.get(location)
            #expect(shown.html.contains("local list: full update to version 1 with 1 entry sent; the charger answered Accepted"))
            let after = try Self.panel(shown, "station-local-list")
            #expect(after.contains("id=\"local-list-confirmed\">1</dd>") && after.contains("id=\"local-list-state\">up to date</dd>"), "\(after)")
            #expect(after.contains("Accepted to the full update at"))
            #expect(try await dependencies.localLists.repository.state("CP1")?.confirmedVersion == 1)

            let unchanged = try await browser.post("/ui/stations/CP1/local-list", [("_csrf", csrf), ("type", "differential")])
            #expect(try await browser.get(try #require(unchanged.headers[.location])).html.contains("nothing was sent"))
            let bad = try await browser.post("/ui/stations/CP1/local-list", [("_csrf", csrf), ("type", "everything")])
            let badPage = try await browser.get(try #require(bad.headers[.location]))
            #expect(badPage.html.contains("local list failed: ") && badPage.html.contains("type: must be one of full, differential"))
            #expect(try await dependencies.localLists.repository.state("CP1")?.version == 1)
            await charger.close()
        }
    }

    @Test("an active charging profile is listed on its station's page and cleared from there with the charger's answer")
    func chargingProfileCleared() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let (_, charger) = try await client.connectStationCP1(dependencies)
            let profile = JSONValue.object(
                JSONObject([
                    ("stackLevel", .int(1)), ("chargingProfilePurpose", .string("TxDefaultProfile")), ("chargingProfileKind", .string("Relative")),
                    (
                        "chargingSchedule",
                        .object(
                            JSONObject([
                                ("chargingRateUnit", .string("W")),
                                ("chargingSchedulePeriod", .array([.object(JSONObject([("startPeriod", .int(0)), ("limit", .int(11000))]))])),
                            ]))
                    ),
                ]))
            let answering = Task { try await charger.answerCall("SetChargingProfile", with: #"{"status":"Accepted"}"#) }
            let record = try await dependencies.chargingProfiles.set(stationID: "CP1", connectorID: 1, profile: profile)
            _ = try await answering.value
            #expect(record.status == .active)
            let id = record.chargingProfileId

            var signingIn = DashboardBrowser(client: client)
            _ = try await signingIn.signIn(adminEmail, adminPassword)
            let browser = signingIn
            let page = try await browser.get("/ui/stations/CP1")
            let panel = try Self.panel(page, "station-charging-profiles")
            let row = try #require(panel.range(of: "data-profile=\"\(id)\"").map { String(panel[$0.lowerBound...].prefix(900)) })
            #expect(row.contains("<td>TxDefaultProfile</td>") && row.contains("<td>W</td>") && row.contains("<td>11000 W</td>"), "\(row)")
            #expect(row.contains("<td>operator</td>") && row.contains("action=\"/ui/stations/CP1/charging-profiles/\(id)/clear\""))

            async let posted = browser.post("/ui/stations/CP1/charging-profiles/\(id)/clear", [("_csrf", try #require(page.csrf))])
            let call = try await charger.answerCall("ClearChargingProfile", with: #"{"status":"Accepted"}"#)
            #expect(call[3] == .object(JSONObject([("id", .int(id))])))
            let shown = try await browser.get(try #require(try await posted.headers[.location]))
            #expect(shown.html.contains("clear profile \(id): the charger answered Accepted; 1 profile cleared"))
            #expect(try Self.panel(shown, "station-charging-profiles").contains("No active charging profiles."))
            #expect(try await dependencies.chargingProfiles.repository.list(stationID: "CP1", status: .cleared).map(\.chargingProfileId) == [id])
            await charger.close()
        }
    }

    @Test("with no charger connected, sending the local list and clearing a profile show why on the station page; an unknown station is a 404; anonymous posts go to sign-in")
    func chargerListsNotConnected() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("S1"))
            var browser = DashboardBrowser(client: client)
            _ = try await browser.signIn(adminEmail, adminPassword)
            let page = try await browser.get("/ui/stations/S1")
            #expect(try Self.panel(page, "station-charging-profiles").contains("No active charging profiles."))
            let csrf = try #require(page.csrf)

            let sent = try await browser.post("/ui/stations/S1/local-list", [("_csrf", csrf), ("type", "full")])
            let location = try #require(sent.headers[.location])
            #expect(location.hasPrefix("/ui/stations/S1?outcome="))
            let shown = try await browser.get(location)
            #expect(shown.html.contains("local list failed: station S1 is not connected") && shown.html.contains("notice error"))
            #expect(try await dependencies.localLists.repository.state("S1") == nil)

            let cleared = try await browser.post("/ui/stations/S1/charging-profiles/1/clear", [("_csrf", csrf)])
            #expect(try await browser.get(try #require(cleared.headers[.location])).html.contains("clear profile 1 failed: station S1 is not connected"))
            let badID = try await browser.post("/ui/stations/S1/charging-profiles/first/clear", [("_csrf", csrf)])
            #expect(try await browser.get(try #require(badID.headers[.location])).html.contains("id: must be a whole number"))

            #expect(try await browser.post("/ui/stations/NOPE/local-list", [("_csrf", csrf), ("type", "full")]).status == .notFound)
            #expect(try await browser.post("/ui/stations/NOPE/charging-profiles/1/clear", [("_csrf", csrf)]).status == .notFound)
            let anonymous = try await DashboardBrowser(client: client).post("/ui/stations/S1/local-list", [("type", "full")])
            #expect(anonymous.status == .seeOther && anonymous.headers[.location]?.hasPrefix("/ui/login") == true)
        }
    }

    /// The table row of `html` that starts at the element with `marker`, up to its end.
    static func row(_ html: String, _ marker: String) throws -> String {
        let start = try #require(html.range(of: marker), "no \(marker)")
        let rest = html[start.lowerBound...]
        return String(rest[..<(rest.range(of: "</tr>")?.upperBound ?? rest.endIndex)])
    }

    @Test("the firmware form sends UpdateFirmware with the URL and the time read in the display zone; the job shows with its steps; a bad URL or time is refused on the page")
    func firmwareUpdate() async throws {
        try await withApp(withAdmin.merging(["displayTimeZone": "Europe/Berlin"]) { $1 }) { client, dependencies async throws in
            let (_, charger) = try await client.connectStationCP1(dependencies)
            var signingIn = DashboardBrowser(client: client)
            _ = try await signingIn.signIn(adminEmail, adminPassword)
            let browser = signingIn
            let page = try await browser.get("/ui/stations/CP1")
            let before = try Self.panel(page, "station-jobs")
            #expect(before.contains("<h2>Firmware and diagnostics</h2>") && before.contains("No firmware updates or diagnostics yet."))
            #expect(before.contains("action=\"/ui/stations/CP1/firmware\"") && before.contains("action=\"/ui/stations/CP1/diagnostics\""))
            #expect(before.contains("name=\"retrieveAt\" type=\"datetime-local\" value=\"20"), "retrieve at defaults to now")
            let csrf = try #require(page.csrf)

            async let posted = browser.post(
                "/ui/stations/CP1/firmware", [("_csrf", csrf), ("location", "https://files.example.com/fw-2.1.bin"), ("retrieveAt", "2026-12-01T10:30")])
            let call = try await charger.answerCall("UpdateFirmware", with: "{}")
            #expect(call[3]["location"] == .string("https://files.example.com/fw-2.1.bin"))
            #expect(call[3]["retrieveDate"]?.stringValue?.hasPrefix("2026-12-01T09:30:00") == true, "10:30 in Berlin: \(call)")
            let shown = try await browser.get(try #require(try await posted.headers[.location]))
            #expect(shown.html.contains("update firmware: sent; the charger fetches https://files.example.com/fw-2.1.bin from 2026-12-01 10:30:00 Europe/Berlin"))
            let job = try #require(try await dependencies.jobs.repository.list(stationID: "CP1", kind: .firmware).first)
            let sent = try Self.panel(shown, "station-jobs", length: 6000)
            let row = try Self.row(sent, "data-job=\"\(job.id)\"")
            #expect(row.contains("<td>firmware</td>") && row.contains("<td>Sent</td>") && row.contains("<td>running</td>"), "\(row)")
            #expect(row.contains("<li>Requested ") && row.contains("<li>Sent "))

            for status in ["Downloading", "Downloaded", "Installing", "InstallationFailed"] {
                try await charger.send(#"[2,"n-\#(status)","FirmwareStatusNotification",{"status":"\#(status)"}]"#)
                #expect(try await charger.next().first == .int(3))
            }
            let failed = try Self.panel(try await browser.get("/ui/stations/CP1"), "station-jobs", length: 6000)
            let failedRow = try Self.row(failed, "data-job=\"\(job.id)\"")
            #expect(failedRow.contains("InstallationFailed <span class=\"badge bad\">failed</span>") && !failedRow.contains("running"), "\(failedRow)")
            #expect(failedRow.contains("<ol class=\"steps\" start=\"4\">") && failedRow.contains("<li>Installing ") && !failedRow.contains("<li>Requested "))

            let badURL = try await browser.post("/ui/stations/CP1/firmware", [("_csrf", csrf), ("location", "file:///etc/passwd")])
            #expect(try await browser.get(try #require(badURL.headers[.location])).html.contains("update firmware failed: "))
            let badTime = try await browser.post(
                "/ui/stations/CP1/firmware", [("_csrf", csrf), ("location", "https://files.example.com/fw.bin"), ("retrieveAt", "2026-02-30T10:00")])
            #expect(try await browser.get(try #require(badTime.headers[.location])).html.contains("retrieveAt: must be a date and time"))
            #expect(try await dependencies.jobs.repository.list(stationID: "CP1", kind: .firmware).count == 1)
            await charger.close()
        }
    }

    @Test("the diagnostics form sends GetDiagnostics; once the charger uploads, the job links the file and the link serves its bytes to staff only")
    func diagnosticsDownload() async throws {
        try await withApp(withAdmin.merging(["publicUrl": "https://csms.example.com/"]) { $1 }) { client, dependencies async throws in
            let (admin, charger) = try await client.connectStationCP1(dependencies)
            var signingIn = DashboardBrowser(client: client)
            _ = try await signingIn.signIn(adminEmail, adminPassword)
            let browser = signingIn
            let csrf = try #require(try await browser.get("/ui/stations/CP1").csrf)

            async let posted = browser.post("/ui/stations/CP1/diagnostics", [("_csrf", csrf), ("startTime", ""), ("stopTime", "")])
            let call = try await charger.answerCall("GetDiagnostics", with: #"{"fileName":"diag-CP1.tar.gz"}"#)
            #expect(call[3]["startTime"] == nil && call[3]["stopTime"] == nil)
            let shown = try await browser.get(try #require(try await posted.headers[.location]))
            #expect(shown.html.contains("get diagnostics: sent; it will upload diag-CP1.tar.gz"), "\(shown.html)")
            let job = try #require(try await dependencies.jobs.repository.list(stationID: "CP1", kind: .diagnostics).first)
            let link = "/ui/stations/CP1/jobs/\(job.id)/file"
            let waiting = try Self.panel(shown, "station-jobs", length: 6000)
            #expect(waiting.contains("diag-CP1.tar.gz, not uploaded yet") && !waiting.contains(link))
            #expect(try await browser.get(link).status == .notFound)

            let url = try #require(call[3]["location"]?.stringValue)
            let content = "diagnostics line 1\ndiagnostics line 2\n"
            let uploaded = try await client.execute(
                uri: String(url.dropFirst("https://csms.example.com".count)), method: .put, headers: [:], body: ByteBuffer(string: content)
            ) { $0.status }
            #expect(uploaded == .created)
            let panel = try Self.panel(try await browser.get("/ui/stations/CP1"), "station-jobs", length: 6000)
            #expect(panel.contains("<a href=\"\(link)\" download>diag-CP1.tar.gz</a>") && panel.contains("\(content.utf8.count) bytes"), "\(panel)")

            let download = try await browser.get(link)
            #expect(download.status == .ok && download.html == content)
            #expect(download.headers[.contentDisposition] == "attachment; filename=\"diag-CP1.tar.gz\"")
            #expect(try await DashboardBrowser(client: client).get(link).status == .seeOther, "anonymous: to sign-in")
            let bearer = try await client.execute(uri: link, method: .get, headers: [.authorization: "Bearer \(admin)"]) { $0.status }
            #expect(bearer != .ok, "a bearer token does not open the dashboard's link")
            #expect(try await browser.get("/ui/stations/NOPE/jobs/\(job.id)/file").status == .notFound, "another station's path")
            await charger.close()
        }
    }

    @Test("the security panel shows the profile, certificates with a warning before they end, and security events, critical ones marked; the settings form sets the profile")
    func securityPanel() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("S1"))
            let authority = try CertificateAuthority.make(now: Date())
            func certificate(endingIn days: Double) throws -> Certificate {
                try Certificate(
                    version: .v3, serialNumber: .init(), publicKey: authority.privateKey.publicKey, notValidBefore: Date().addingTimeInterval(-86_400),
                    notValidAfter: Date().addingTimeInterval(days * 86_400), issuer: authority.certificate.subject,
                    subject: authority.certificate.subject, signatureAlgorithm: .ecdsaWithSHA256, extensions: .init(),
                    issuerPrivateKey: authority.privateKey)
            }
            let soon = try await dependencies.certificates.repository.insert(
                StationCertificate(stationId: "S1", kind: "CentralSystemRootCertificate", status: .installed, certificate: try certificate(endingIn: 4.5), now: Date()))
            let later = try await dependencies.certificates.repository.insert(
                StationCertificate(stationId: "S1", kind: "ChargePointCertificate", status: .issued, certificate: try certificate(endingIn: 365), now: Date()))
            _ = try await dependencies.jobs.repository.insertSecurityEvent(
                stationID: "S1", type: "TamperDetectionActivated", techInfo: "<lid> opened", occurredAt: Date(), receivedAt: Date(), critical: true)
            _ = try await dependencies.jobs.repository.insertSecurityEvent(
                stationID: "S1", type: "ReconfigurationOfSecurityParameters", techInfo: nil, occurredAt: Date(), receivedAt: Date(), critical: false)
            var browser = DashboardBrowser(client: client)
            _ = try await browser.signIn(adminEmail, adminPassword)

            let page = try await browser.get("/ui/stations/S1")
            let panel = try Self.panel(page, "station-security", length: 8000)
            #expect(panel.contains("<h2>Security</h2>") && panel.contains("id=\"security-profile\">0 — no authentication"))
            #expect(panel.contains("action=\"/ui/stations/S1/credentials/rotate\"") && panel.contains("Rotate charger password"))
            let soonRow = try Self.row(panel, "data-certificate=\"\(soon.serialNumber)\"")
            #expect(soonRow.contains("<td>CentralSystemRootCertificate</td>") && soonRow.contains("<td>installed</td>"), "\(soonRow)")
            #expect(soonRow.contains("<code>\(soon.serialNumber)</code>") && soonRow.contains("<span class=\"badge warn\">ends in 5 days</span>"), "\(soonRow)")
            let laterRow = try Self.row(panel, "data-certificate=\"\(later.serialNumber)\"")
            #expect(laterRow.contains("<td>issued</td>") && !laterRow.contains("ends in"))
            #expect(panel.contains("TamperDetectionActivated <span class=\"badge bad\">critical</span>") && panel.contains("&lt;lid&gt; opened"))
            #expect(panel.contains("<td>ReconfigurationOfSecurityParameters</td>"))

            let station = try #require(try await dependencies.stations.station("S1"))
            func settings(_ profile: String) -> [(String, String)] {
                [("_csrf", page.csrf ?? ""), ("name", station.name), ("status", "active"), ("registration", "accepted"),
                 ("securityProfile", profile)]
            }
            let saved = try await browser.post("/ui/stations/S1/edit", settings("2"))
            let after = try await browser.get(try #require(saved.headers[.location]))
            #expect(after.html.contains("settings: saved") && after.html.contains("<option value=\"2\" selected>2 — TLS and Basic auth</option>"))
            #expect(try Self.panel(after, "station-security").contains("id=\"security-profile\">2 — TLS and Basic auth"))
            #expect(try await dependencies.stations.station("S1")?.securityProfile == 2)
            for bad in ["4", "two"] {
                let refused = try await browser.post("/ui/stations/S1/edit", settings(bad))
                #expect(try await browser.get(try #require(refused.headers[.location])).html.contains("securityProfile: must be 0, 1, 2 or 3"), "\(bad)")
            }
            #expect(try await dependencies.stations.station("S1")?.securityProfile == 2)
        }
    }

    @Test("rotating the charger password: accepted, the stored hash changes and the page says so; refused, the old key stays")
    func passwordRotation() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let (_, charger) = try await client.connectStationCP1(dependencies)
            var signingIn = DashboardBrowser(client: client)
            _ = try await signingIn.signIn(adminEmail, adminPassword)
            let browser = signingIn
            let csrf = try #require(try await browser.get("/ui/stations/CP1").csrf)
            let before = try await dependencies.stations.station("CP1")?.passwordHash

            async let posted = browser.post("/ui/stations/CP1/credentials/rotate", [("_csrf", csrf)])
            let call = try await charger.answerCall("ChangeConfiguration", with: #"{"status":"Accepted"}"#)
            #expect(call[3]["key"] == .string("AuthorizationKey") && call[3]["value"]?.stringValue?.count == 40)
            let shown = try await browser.get(try #require(try await posted.headers[.location]))
            #expect(shown.html.contains("notice ok") && shown.html.contains("rotate charger password: the charger accepted a new key (Accepted)"))
            let rotated = try #require(try await dependencies.stations.station("CP1")?.passwordHash)
            #expect(rotated != before)
            #expect(!shown.html.contains(try #require(call[3]["value"]?.stringValue)), "the key is never shown")

            async let refusing = browser.post("/ui/stations/CP1/credentials/rotate", [("_csrf", csrf)])
            _ = try await charger.answerCall("ChangeConfiguration", with: #"{"status":"Rejected"}"#)
            let refused = try await browser.get(try #require(try await refusing.headers[.location]))
            #expect(refused.html.contains("notice error") && refused.html.contains("the charger refused (Rejected); the old key stays"))
            #expect(try await dependencies.stations.station("CP1")?.passwordHash == rotated)
            await charger.close()
        }
    }

    @Test("with no charger connected, firmware, diagnostics and rotation show why on the station page and store nothing; an unknown station is a 404")
    func maintenanceNotConnected() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("S1"))
            var browser = DashboardBrowser(client: client)
            _ = try await browser.signIn(adminEmail, adminPassword)
            let csrf = try #require(try await browser.get("/ui/stations/S1").csrf)
            let forms: [(path: String, fields: [(String, String)], action: String)] = [
                ("firmware", [("location", "https://files.example.com/fw.bin")], "update firmware"),
                ("diagnostics", [], "get diagnostics"),
                ("credentials/rotate", [], "rotate charger password"),
            ]
            for form in forms {
                let posted = try await browser.post("/ui/stations/S1/\(form.path)", [("_csrf", csrf)] + form.fields)
                let location = try #require(posted.headers[.location])
                #expect(location.hasPrefix("/ui/stations/S1?outcome="))
                let shown = try await browser.get(location)
                #expect(shown.html.contains("\(form.action) failed: station S1 is not connected") && shown.html.contains("notice error"), "\(form.path)")
                #expect(try await browser.post("/ui/stations/NOPE/\(form.path)", [("_csrf", csrf)] + form.fields).status == .notFound)
                let anonymous = try await DashboardBrowser(client: client).post("/ui/stations/S1/\(form.path)", form.fields)
                #expect(anonymous.status == .seeOther && anonymous.headers[.location]?.hasPrefix("/ui/login") == true)
            }
            #expect(try await dependencies.jobs.repository.list(stationID: "S1", kind: nil).isEmpty)
            #expect(try await dependencies.stations.station("S1")?.passwordHash == nil)
            let page = try await browser.get("/ui/stations/S1")
            #expect(try Self.panel(page, "station-security").contains("No certificates issued or installed."))
            #expect(try Self.panel(page, "station-security", length: 6000).contains("No security events reported."))
        }
    }

    @Test("with the dashboard turned off, / and /ui answer 404")
    func turnedOff() async throws {
        try await withApp(["uiEnabled": "false"]) { client, _ async throws in
            #expect(try await DashboardBrowser(client: client).get("/").status == .notFound)
            #expect(try await DashboardBrowser(client: client).get("/ui/login").status == .notFound)
        }
    }
}
