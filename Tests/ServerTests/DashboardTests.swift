import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Storage
import Testing

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
                #expect(try await anonymous.get(path).status == .seeOther, "\(route) anonymous")
                let operatorStatus = try await operatorBrowser.get(path).status
                #expect(operatorStatus == (access.allows(.operator) ? .ok : .forbidden), "\(route) operator")
                #expect(try await adminBrowser.get(path).status == .ok, "\(route) admin")
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
        return ["GET /ui/sessions/{id}": sessionID, "GET /ui/invoices/{id}": invoiceID, "GET /ui/tariffs/{id}": tariffID]
    }

    @Test("with the dashboard turned off, / and /ui answer 404")
    func turnedOff() async throws {
        try await withApp(["uiEnabled": "false"]) { client, _ async throws in
            #expect(try await DashboardBrowser(client: client).get("/").status == .notFound)
            #expect(try await DashboardBrowser(client: client).get("/ui/login").status == .notFound)
        }
    }
}
