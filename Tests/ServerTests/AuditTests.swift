import Foundation
import Hummingbird
import HummingbirdTesting
import HTTPTypes
import OCPP
import Storage
import Testing

@testable import Server

extension TestClientProtocol {
    /// The audit entries matching `query` (a query string), newest first.
    func auditEntries(_ token: String, _ query: String = "") async throws -> [[String: Any]] {
        let reply = try await call(.get, "/api/v1/audit?limit=200" + (query.isEmpty ? "" : "&" + query), token: token)
        #expect(reply.status == .ok, "\(reply.object)")
        return reply.items
    }
}

/// The `changes` of an entry: column → (before, after).
private func changes(_ entry: [String: Any]) -> [String: [String: Any]] {
    (entry["changes"] as? [String: Any] ?? [:]).compactMapValues { $0 as? [String: Any] }
}

private func entry(_ entries: [[String: Any]], action: String) throws -> [String: Any] {
    try #require(entries.first { $0["action"] as? String == action }, "no \(action) in \(entries.map { $0["action"] ?? "?" })")
}

/// The whole audit log as text, to prove a secret appears nowhere in it.
private func auditText(_ dependencies: AppDependencies) async throws -> String {
    try await dependencies.database.read { connection in
        try connection.query("SELECT changes FROM audit_log") { try $0.get(0, as: String.self) }.joined(separator: "\n")
    }
}

private func auditCount(_ dependencies: AppDependencies) async throws -> Int {
    try await dependencies.database.read { try $0.queryFirst("SELECT count(*) FROM audit_log") { try $0.get(0, as: Int.self) } ?? 0 }
}

/// One test at a time: each runs a whole app, and sixteen more at once in the parallel run starved
/// the readiness checks' 2 s probe of other suites on a 2-core machine.
@Suite("Audit log", .serialized)
struct AuditTests {
    static let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let requestHeaders: HTTPFields = [
        .userAgent: "audit-test/1.0", HTTPField.Name("X-Request-ID")!: "req-audit-1",
        HTTPField.Name("traceparent")!: "00-\(traceID)-00f067aa0ba902b7-01",
    ]

    @Test("a user's creation, role change and password change are recorded with who, how and the changed fields; the hash only as [redacted]")
    func userChanges() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            let adminID = try #require(try await client.call(.get, "/api/v1/auth/me", token: admin)["id"] as? String)
            let (id, _) = try await client.makeUser("operator", email: "op@example.com", adminToken: admin)
            let patched = try await client.call(
                .patch, "/api/v1/users/\(id)", token: admin, json: ["role": "admin", "password": "a-new-password-9"],
                headers: Self.requestHeaders)
            #expect(patched.status == .ok, "\(patched.object)")

            let entries = try await client.auditEntries(admin, "targetType=user&targetId=\(id)")
            #expect(entries.map { $0["action"] as? String } == ["user.update", "user.create"])
            let created = try entry(entries, action: "user.create")
            #expect(changes(created)["password_hash"]?["after"] as? String == "[redacted]")
            #expect(changes(created)["email"]?["after"] as? String == "op@example.com")
            let update = try entry(entries, action: "user.update")
            #expect(update["actorUserId"] as? String == adminID && update["actorRole"] as? String == "admin")
            #expect(update["userAgent"] as? String == "audit-test/1.0" && update["requestId"] as? String == "req-audit-1")
            #expect(update["traceId"] as? String == Self.traceID)
            #expect(update["route"] as? String == "PATCH /api/v1/users/{id}")
            #expect(update["at"] is String)
            let changed = changes(update)
            #expect(changed["role"]?["before"] as? String == "operator" && changed["role"]?["after"] as? String == "admin")
            #expect(changed["password_hash"]?["before"] as? String == "[redacted]")
            #expect(changed["password_hash"]?["after"] as? String == "[redacted]")
            #expect(changed["name"] == nil, "unchanged fields are not listed")
            #expect(changed["version"] == nil && changed["updated_at"] == nil)

            let hashes = try await dependencies.database.read { connection in
                try connection.query("SELECT password_hash FROM users") { try $0.get(0, as: String.self) }
            }
            let text = try await auditText(dependencies)
            for hash in hashes { #expect(!text.contains(hash)) }
            #expect(!text.contains("a-new-password-9") && !text.contains("password-123"))
        }
    }

    @Test("station, connector, id tag, driver, tariff, payment, void and alert acknowledgement each leave an entry about their target")
    func actionClasses() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            let tariffID = try await client.setUpPricedStation(admin)
            #expect(try await client.call(.patch, "/api/v1/stations/CP1", token: admin, json: ["name": "Renamed"]).status == .ok)
            let driver = try await client.call(.post, "/api/v1/drivers", token: admin, json: ["name": "Dee", "email": "dee@example.com"])
            let driverID = try #require(driver["id"] as? String)
            #expect(
                try await client.call(.put, "/api/v1/id-tags/CARD1", token: admin, json: ["status": "Accepted", "driverId": driverID])
                    .status.code < 300)
            #expect(try await client.call(.patch, "/api/v1/tariffs/\(tariffID)", token: admin, json: ["name": "Night"]).status == .ok)
            let paid = try await client.recordSession(
                admin, start: "2026-03-10T09:00:00Z", stop: "2026-03-10T10:30:00Z", meterStart: 0, meterStop: 10_000)
            let paidInvoice = try #require(paid["invoiceId"] as? String)
            let payment = try await client.call(
                .post, "/api/v1/invoices/\(paidInvoice)/payments", token: admin, json: ["amount": "1.00", "method": "card"])
            #expect(payment.status.code < 300, "\(payment.object)")
            let voided = try await client.recordSession(
                admin, start: "2026-03-11T09:00:00Z", stop: "2026-03-11T10:00:00Z", meterStart: 10_000, meterStop: 12_000)
            let voidedInvoice = try #require(voided["invoiceId"] as? String)
            #expect(try await client.call(.post, "/api/v1/invoices/\(voidedInvoice)/void", token: admin).status == .ok)
            _ = try await client.call(.patch, "/api/v1/stations/CP1/connectors/2", token: admin, json: ["status": "Faulted"])
            let alertID = try #require(try await client.call(.get, "/api/v1/alerts", token: admin).items.first?["id"] as? String)
            #expect(try await client.call(.post, "/api/v1/alerts/\(alertID)/acknowledge", token: admin).status == .ok)

            let entries = try await client.auditEntries(admin)
            let station = try entry(entries, action: "station.update")
            #expect(station["targetId"] as? String == "CP1" && station["stationId"] as? String == "CP1")
            #expect(changes(station)["name"]?["before"] as? String == "Station CP1" && changes(station)["name"]?["after"] as? String == "Renamed")
            let connector = try entry(entries, action: "connector.update")
            #expect(connector["targetId"] as? String == "CP1/2" && changes(connector)["status"]?["after"] as? String == "Faulted")
            let tag = try entry(entries, action: "id_tag.create")
            #expect(tag["targetId"] as? String == "CARD1" && tag["driverId"] as? String == driverID)
            #expect(try entry(entries, action: "driver.create")["targetId"] as? String == driverID)
            let tariff = try entry(entries, action: "tariff.update")
            #expect(tariff["targetId"] as? String == tariffID && changes(tariff)["name"]?["after"] as? String == "Night")
            let paymentEntry = try entry(entries, action: "payment.create")
            #expect(changes(paymentEntry)["invoice_id"]?["after"] as? String == paidInvoice)
            let void = try #require(entries.first { $0["action"] as? String == "invoice.update" && $0["targetId"] as? String == voidedInvoice })
            #expect(changes(void)["status"]?["before"] as? String == "issued" && changes(void)["status"]?["after"] as? String == "void")
            let acknowledged = try entry(entries, action: "alert.update")
            #expect(acknowledged["targetId"] as? String == alertID && changes(acknowledged)["state"]?["after"] as? String == "acknowledged")
            let sessions = entries.filter { $0["targetType"] as? String == "session" }
            #expect(sessions.contains { $0["action"] as? String == "session.create" } && sessions.contains { $0["action"] as? String == "session.update" })
            // JSON columns are nested as JSON, not as strings.
            #expect(changes(try entry(entries, action: "tariff.create"))["windows"]?["after"] is [Any])
        }
    }

    @Test("a change that fails — a version conflict, a validation failure, a write that throws — leaves no entry")
    func failedChangesLeaveNothing() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            let tariff = try await client.call(.post, "/api/v1/tariffs", token: admin, json: ["name": "T", "currency": "EUR", "energyPrice": "0.30"])
            let id = try #require(tariff["id"] as? String)
            let before = try await auditCount(dependencies)
            #expect(before == 1)
            let stale = try await client.call(.patch, "/api/v1/tariffs/\(id)", token: admin, json: ["name": "Late", "version": 99])
            #expect(stale.status == .conflict)
            let invalid = try await client.call(.patch, "/api/v1/tariffs/\(id)", token: admin, json: ["name": ""])
            #expect(invalid.status == .unprocessableContent)
            // A write that changed a row and then failed: the entry goes with the rolled-back change.
            struct Refused: Error {}
            let attribution = AuditAttribution(userId: "u1", role: "admin", at: Date())
            await #expect(throws: Refused.self) {
                try await attribution.bound {
                    try await dependencies.database.write { connection in
                        try connection.run("UPDATE tariffs SET name = 'Changed' WHERE id = ?", id)
                        throw Refused()
                    }
                }
            }
            #expect(try await auditCount(dependencies) == before)
            #expect(try await client.call(.get, "/api/v1/tariffs/\(id)", token: admin)["name"] as? String == "T")
        }
    }

    @Test("station credentials set, cleared and rotated are recorded as [redacted]; the password and key appear nowhere")
    func credentialsRedacted() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let (admin, charger) = try await client.connectStationCP1(dependencies)
            let password = "a-station-password-1234"
            #expect(try await client.call(.put, "/api/v1/stations/CP1/credentials", token: admin, json: ["password": password]).status == .noContent)
            let set = try entry(try await client.auditEntries(admin, "action=station.update"), action: "station.update")
            #expect(changes(set)["password_hash"]?["before"] is NSNull && changes(set)["password_hash"]?["after"] as? String == "[redacted]")

            let rotating = Task { try await client.call(.post, "/api/v1/stations/CP1/credentials/rotate", token: admin) }
            let call = try await charger.answerCall("ChangeConfiguration", with: #"{"status":"Accepted"}"#)
            #expect(try await rotating.value.status == .ok)
            let key = try #require(call[3]["value"]?.stringValue)
            let entries = try await client.auditEntries(admin, "stationId=CP1")
            let command = try entry(entries, action: "ocpp.ChangeConfiguration")
            let request = try #require((command["changes"] as? [String: Any])?["request"] as? [String: Any])
            #expect(request["key"] as? String == "AuthorizationKey" && request["value"] as? String == "[redacted]")
            #expect(entries.filter { $0["action"] as? String == "station.update" }.count >= 2)

            let hash = try #require(try await dependencies.stations.station("CP1")?.passwordHash)
            let text = try await auditText(dependencies)
            #expect(!text.contains(password) && !text.contains(key) && !text.contains(hash))
            await charger.close()
        }
    }

    @Test("an OCPP command is recorded against its station with the request and the charger's answer; a failed one with the failure")
    func ocppCommand() async throws {
        try await withApp(withAdmin.merging(["ocppCallTimeoutSeconds": "1"]) { $1 }) { client, dependencies async throws in
            let (admin, charger) = try await client.connectStationCP1(dependencies)
            let resetting = Task {
                try await client.call(.post, "/api/v1/stations/CP1/commands/reset", token: admin, json: ["type": "Soft"], headers: Self.requestHeaders)
            }
            try await charger.answerCall("Reset", with: #"{"status":"Accepted"}"#)
            #expect(try await resetting.value.status == .ok)
            let reset = try entry(try await client.auditEntries(admin, "action=ocpp.Reset"), action: "ocpp.Reset")
            #expect(reset["targetType"] as? String == "station" && reset["targetId"] as? String == "CP1" && reset["stationId"] as? String == "CP1")
            #expect(reset["route"] as? String == "POST /api/v1/stations/{id}/commands/{command}" && reset["requestId"] as? String == "req-audit-1")
            let resetChanges = try #require(reset["changes"] as? [String: Any])
            #expect((resetChanges["request"] as? [String: Any])?["type"] as? String == "Soft")
            #expect(((resetChanges["outcome"] as? [String: Any])?["response"] as? [String: Any])?["status"] as? String == "Accepted")

            // Unanswered: the timeout is the outcome.
            let unanswered = try await client.call(
                .post, "/api/v1/stations/CP1/ocpp/ClearCache", token: admin, json: [String: Any]())
            #expect(unanswered.status.code >= 500)
            let timedOut = try entry(try await client.auditEntries(admin, "action=ocpp.ClearCache"), action: "ocpp.ClearCache")
            #expect(((timedOut["changes"] as? [String: Any])?["outcome"] as? [String: Any])?["error"] as? String == "timedOut")
            await charger.close()
        }
    }

    @Test("no route changes or deletes an entry, and SQL UPDATE and DELETE on the log abort")
    func immutable() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/sites", token: admin, json: ["name": "Depot"])
            let id = try #require(try await client.auditEntries(admin).first?["id"] as? Int)
            for method in [HTTPRequest.Method.put, .patch, .delete, .post] {
                for path in ["/api/v1/audit", "/api/v1/audit/\(id)"] {
                    let reply = try await client.call(method, path, token: admin, json: ["action": "x"])
                    #expect([404, 405].contains(reply.status.code), "\(method) \(path) answered \(reply.status)")
                }
            }
            await #expect(throws: SQLiteError.self) {
                try await dependencies.database.write { try $0.run("UPDATE audit_log SET action = 'forged'") }
            }
            await #expect(throws: SQLiteError.self) {
                try await dependencies.database.write { try $0.run("DELETE FROM audit_log") }
            }
            // A person's attribution does not open the delete either; only the retention sweep's does.
            await #expect(throws: SQLiteError.self) {
                try await AuditAttribution(userId: "u", role: "admin", at: Date()).bound {
                    try await dependencies.database.write { try $0.run("DELETE FROM audit_log") }
                }
            }
            #expect(try await client.auditEntries(admin).first?["action"] as? String == "site.create")
        }
    }

    @Test("the listing filters by actor, target, action and time, pages with a cursor, and is for admins only")
    func filtersAndPaging() async throws {
        let clock = TestClock()
        try await withApp(withAdmin, now: { clock.now }) { client, _ async throws in
            let admin = try await client.adminToken()
            let (operatorID, operatorToken) = try await client.makeUser("operator", email: "op@example.com", adminToken: admin)
            for name in ["A", "B", "C"] {
                _ = try await client.call(.post, "/api/v1/sites", token: admin, json: ["name": name])
                clock.advance(60)
            }
            let middle = WireFormat.formatDate(clock.now)
            let site = try await client.call(.post, "/api/v1/sites", token: operatorToken, json: ["name": "D"])
            let siteID = try #require(site["id"] as? String)

            #expect(try await client.call(.get, "/api/v1/audit", token: operatorToken).status == .forbidden)
            #expect(try await client.call(.get, "/api/v1/audit/export.csv", token: operatorToken).status == .forbidden)
            #expect(try await client.call(.get, "/api/v1/audit").status == .unauthorized)

            let byOperator = try await client.auditEntries(admin, "actor=\(operatorID)")
            #expect(byOperator.count == 1 && byOperator.first?["targetId"] as? String == siteID)
            #expect(try await client.auditEntries(admin, "action=site.create").count == 4)
            #expect(try await client.auditEntries(admin, "targetType=site&targetId=\(siteID)").count == 1)
            #expect(try await client.auditEntries(admin, "action=site.create&from=\(middle)").count == 1)
            #expect(try await client.auditEntries(admin, "action=site.create&to=\(middle)").count == 3)
            #expect(try await client.call(.get, "/api/v1/audit?from=yesterday", token: admin).status == .unprocessableContent)

            var seen: [Int] = []
            var cursor: String?
            repeat {
                let page = try await client.call(
                    .get, "/api/v1/audit?action=site.create&limit=3" + (cursor.map { "&cursor=\($0)" } ?? ""), token: admin)
                seen += page.items.compactMap { $0["id"] as? Int }
                cursor = page["nextCursor"] as? String
            } while cursor != nil
            #expect(seen.count == 4 && seen == seen.sorted(by: >) && Set(seen).count == 4)
            let bogus = try await client.call(.get, "/api/v1/audit?cursor=bogus", token: admin)
            #expect(bogus.status == .unprocessableContent && bogus.fieldErrors == ["cursor"])
        }
    }

    @Test("the CSV export has one row per entry with the request id, and the listing's filters")
    func csvExport() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/sites", token: admin, json: ["name": "North, \"big\""], headers: Self.requestHeaders)
            _ = try await client.call(.post, "/api/v1/tariffs", token: admin, json: ["name": "T", "currency": "EUR", "energyPrice": "0.30"])
            let csv = try await client.execute(
                uri: "/api/v1/audit/export.csv?targetType=site", method: .get, headers: [.authorization: "Bearer \(admin)"]
            ) { response in (response.status, response.headers[.contentType], String(buffer: response.body)) }
            #expect(csv.0 == .ok && csv.1?.hasPrefix("text/csv") == true)
            let lines = csv.2.split(separator: "\r\n")
            #expect(lines.first?.hasPrefix("id,at,actor_user_id,actor_role,address,user_agent,request_id,trace_id,route,action") == true)
            #expect(lines.count == 2, "\(lines)")
            #expect(lines.last?.contains("req-audit-1") == true && lines.last?.contains(",site.create,site,") == true)
            #expect(lines.last?.contains(#"North, \""big\"""#) == true, "the JSON cell is quoted: \(lines.last ?? "")")
        }
    }

    @Test("the retention sweep deletes entries older than auditRetentionDays and keeps the rest; 0 (the default) keeps all")
    func retention() async throws {
        var sources = ConfigurationSources()
        sources.flags = ["data": "/tmp/unused"]
        #expect(try AppConfiguration.load(from: sources).auditRetention == nil)
        sources.environment = ["CSMS_AUDIT_RETENTION_DAYS": "30"]
        #expect(try AppConfiguration.load(from: sources).auditRetention == .seconds(30 * 86_400))
        sources.flags["auditRetentionDays"] = "7"
        #expect(try AppConfiguration.load(from: sources).auditRetention == .seconds(7 * 86_400))
        sources.flags["auditRetentionDays"] = "-1"
        #expect(throws: ConfigurationError.self) { try AppConfiguration.load(from: sources) }

        let clock = TestClock()
        try await withApp(withAdmin, now: { clock.now }) { client, dependencies async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/sites", token: admin, json: ["name": "Old"])
            clock.advance(10 * 86_400)
            _ = try await client.call(.post, "/api/v1/sites", token: admin, json: ["name": "New"])
            let deleted = try await dependencies.audit.prune(before: clock.now.addingTimeInterval(-7 * 86_400), now: clock.now, chunk: 1)
            #expect(deleted == 1)
            let left = try await client.auditEntries(admin)
            #expect(left.count == 1 && changes(left[0])["name"]?["after"] as? String == "New")
        }
    }

    @Test("a charger's own writes (boot, status, transactions) are not audited")
    func chargerWritesNotAudited() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let (admin, charger) = try await client.connectStationCP1(dependencies)
            _ = try await client.call(.put, "/api/v1/id-tags/CARD1", token: admin, json: ["status": "Accepted"])
            let before = try await auditCount(dependencies)
            try await charger.send(#"[2,"b1","BootNotification",{"chargePointVendor":"Acme","chargePointModel":"One"}]"#)
            _ = try await charger.next()
            try await charger.send(#"[2,"s1","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Preparing"}]"#)
            _ = try await charger.next()
            let start = WireFormat.formatDate(Date())
            try await charger.send(#"[2,"t1","StartTransaction",{"connectorId":1,"idTag":"CARD1","meterStart":0,"timestamp":"\#(start)"}]"#)
            let started = try await charger.next()
            let transaction = try #require(started.count == 3 ? started[2]["transactionId"]?.integerValue : nil)
            try await charger.send(#"[2,"t2","StopTransaction",{"transactionId":\#(transaction),"meterStop":5000,"timestamp":"\#(start)"}]"#)
            _ = try await charger.next()
            #expect(try await dependencies.stations.station("CP1")?.vendor == "Acme", "the charger's writes happened")
            #expect(try await auditCount(dependencies) == before)
            await charger.close()
        }
    }

    @Test("a dashboard form post is recorded with the signed-in person and the dashboard route")
    func dashboardForm() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/sites", token: admin, json: ["name": "Depot"])
            var browser = DashboardBrowser(client: client)
            _ = try await browser.signIn(adminEmail, adminPassword)
            let page = try await browser.get("/ui/sites")
            let csrf = try #require(page.csrf)
            let posted = try await browser.post("/ui/sites", [("_csrf", csrf), ("name", "From the form"), ("timeZone", "UTC")])
            #expect(posted.status == .seeOther)
            let created = try #require(try await client.auditEntries(admin, "action=site.create").first)
            #expect(created["route"] as? String == "POST /ui/sites" && created["actorRole"] as? String == "admin")
            #expect(changes(created)["name"]?["after"] as? String == "From the form")

            let auditPage = try await browser.get("/ui/audit?action=site.create")
            #expect(auditPage.status == .ok && auditPage.html.contains("From the form") && auditPage.html.contains("POST /ui/sites"))
            #expect(auditPage.html.contains("href=\"/ui/audit\" aria-current=\"page\""))
        }
    }

    @Test("the writer records every column of every audited table, a secret-looking column only redacted")
    func triggersCoverEveryColumn() async throws {
        try await withApp { _, dependencies async throws in
            // The TEMP triggers live on the writer connection only.
            let installed = try await dependencies.database.write { connection in
                try connection.query("SELECT name, tbl_name FROM sqlite_temp_schema WHERE type = 'trigger'") {
                    "\(try $0.get(1, as: String.self)):\(try $0.get(0, as: String.self))"
                }
            }
            let expected = AuditSchema.tables.flatMap { table in
                AuditSchema.Operation.allCases.map { "\(table.name):\(AuditSchema.triggerName(table, $0))" }
            }
            #expect(Set(installed) == Set(expected) && installed.count == expected.count)

            // Looked at and found not secret: a timestamp, a client's retry key, two lookup keys.
            let notSecret: Set<String> = ["tokens_valid_after", "idempotency_key", "start_key", "condition_key"]
            for table in AuditSchema.tables {
                let columns = try await dependencies.database.read { try AuditSchema.columns(of: table.name, in: $0) }
                #expect(!columns.isEmpty, "\(table.name) exists")
                for column in columns where AuditSchema.looksSecret(column) && !notSecret.contains(column) {
                    #expect(table.secrets.contains(column), "\(table.name).\(column) looks secret but is recorded in the clear")
                }
            }
        }
    }

    @Test("a column a later migration adds is recorded without touching the triggers; another connection's writes are not recorded")
    func laterColumnAndOtherPrograms() async throws {
        let directory = NSTemporaryDirectory() + "csms-audit-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/csms.sqlite"
        let later = Schema.migrations + [
            Migration(version: Schema.migrations.count + 1, name: "site_note", sql: "ALTER TABLE sites ADD COLUMN note TEXT")
        ]
        let database = try await Database.open(path: path, migrations: later, prepareWriter: AuditSchema.installTriggers)
        try await AuditAttribution(userId: "u1", role: "admin", at: Date()).bound {
            try await database.write { connection in
                try connection.run(
                    "INSERT INTO sites (id, version, name, time_zone, created_at, updated_at, note) VALUES ('s1', 1, 'A', 'UTC', 0, 0, 'hello')")
            }
        }
        let changes = try await database.read { connection in
            try connection.queryFirst("SELECT changes FROM audit_log") { try $0.get(0, as: String.self) }
        }
        #expect(changes?.contains(#""note":{"after":"hello","before":null}"#) == true || changes?.contains(#""note":{"before":null,"after":"hello"}"#) == true, "\(changes ?? "none")")

        // Another connection has no recording triggers (the e2e suite writes with Python's sqlite3,
        // which has no write_attribution() either), but the append-only guard is in the schema.
        let other = try Connection(path: path, mode: .readWrite)
        #expect(throws: Never.self) { try other.run("UPDATE sites SET name = 'B' WHERE id = 's1'") }
        #expect(throws: SQLiteError.self) { try other.run("UPDATE audit_log SET action = 'forged'") }
        #expect(try other.queryFirst("SELECT count(*) FROM audit_log") { try $0.get(0, as: Int.self) } == 1)
        other.close()
        await database.close()
    }

    @Test("an update of only ignored columns (last seen, meter samples, bookkeeping) records nothing, even attributed")
    func ignoredColumns() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("CP1"))
            let before = try await auditCount(dependencies)
            try await AuditAttribution(userId: "u1", role: "admin", at: Date()).bound {
                try await dependencies.database.write { connection in
                    try connection.run("UPDATE stations SET last_seen_at = 5, online = 1, updated_at = 6, version = version + 1 WHERE id = 'CP1'")
                }
            }
            #expect(try await auditCount(dependencies) == before)
            try await AuditAttribution(userId: "u1", role: "admin", at: Date()).bound {
                try await dependencies.database.write { connection in
                    try connection.run("UPDATE stations SET last_seen_at = 7, name = 'Moved' WHERE id = 'CP1'")
                }
            }
            let entry = try #require(try await client.auditEntries(admin, "action=station.update").first)
            #expect(Set(changes(entry).keys) == ["name"])
        }
    }

    @Test("the trace id is the 32 hex digits of a valid W3C traceparent, else none")
    func traceParent() {
        func trace(_ value: String?) -> String? {
            var headers = HTTPFields()
            if let value { headers[HTTPField.Name("traceparent")!] = value }
            return AuditAttribution.traceID(headers, tracer: nil)
        }
        #expect(trace("00-\(Self.traceID)-00f067aa0ba902b7-01") == Self.traceID)
        #expect(trace(nil) == nil)
        #expect(trace("00-\(Self.traceID.uppercased())-00f067aa0ba902b7-01") == nil, "upper case is invalid")
        #expect(trace("00-\(String(repeating: "0", count: 32))-00f067aa0ba902b7-01") == nil, "all-zero trace id")
        #expect(trace("00-\(Self.traceID)-0000000000000000-01") == nil, "all-zero parent id")
        #expect(trace("ff-\(Self.traceID)-00f067aa0ba902b7-01") == nil, "version ff")
        #expect(trace("00-\(Self.traceID)-00f067aa0ba902b7-01-extra") == nil, "version 00 has four fields")
        #expect(trace("01-\(Self.traceID)-00f067aa0ba902b7-01-extra") == Self.traceID, "a later version may add fields")
        #expect(trace("00-\(Self.traceID.dropLast())-00f067aa0ba902b7-01") == nil)
    }

    @Test("a station's and a driver's page carry their audit trail for admins; operators, who may not read the log, get none")
    func panels() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            _ = try await client.makeUser("operator", email: "op@example.com", adminToken: admin)
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("S1"))
            _ = try await client.call(.patch, "/api/v1/stations/S1", token: admin, json: ["name": "Pier"])
            let driver = try await client.call(.post, "/api/v1/drivers", token: admin, json: ["name": "Dee", "email": "dee@example.com"])
            let driverID = try #require(driver["id"] as? String)
            _ = try await client.call(.put, "/api/v1/id-tags/CARD9", token: admin, json: ["status": "Accepted", "driverId": driverID])
            _ = try await client.call(.post, "/api/v1/sites", token: admin, json: ["name": "Elsewhere"])

            var adminBrowser = DashboardBrowser(client: client)
            _ = try await adminBrowser.signIn(adminEmail, adminPassword)
            let station = try await adminBrowser.get("/ui/stations/S1").html
            let stationPanel = try #require(station.range(of: "id=\"audit-panel\"").map { String(station[$0.lowerBound...]) })
            #expect(stationPanel.contains("station.update") && stationPanel.contains("connector.create") && stationPanel.contains("Pier"))
            #expect(!stationPanel.contains("site.create") && !stationPanel.contains("driver.create"))
            let driverPage = try await adminBrowser.get("/ui/drivers/\(driverID)").html
            let driverPanel = try #require(driverPage.range(of: "id=\"audit-panel\"").map { String(driverPage[$0.lowerBound...]) })
            #expect(driverPanel.contains("driver.create") && driverPanel.contains("id_tag.create") && !driverPanel.contains("station.update"))
            #expect(driverPage.contains("CARD9"))

            var operatorBrowser = DashboardBrowser(client: client)
            _ = try await operatorBrowser.signIn("op@example.com", "password-123")
            let operatorStation = try await operatorBrowser.get("/ui/stations/S1")
            #expect(operatorStation.status == .ok && !operatorStation.html.contains("audit-panel"))
            #expect(!operatorStation.html.contains("href=\"/ui/audit\""), "no navigation link to a page they may not open")
            #expect(try await operatorBrowser.get("/ui/audit").status == .forbidden)
        }
    }
}
