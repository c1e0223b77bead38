import Foundation
import Hummingbird
import HummingbirdTesting
import Storage
import Testing

@testable import Server

/// The issue's tariff: 0.30/kWh and 1.20/h, 10:00–11:00 Berlin peak at 0.50/kWh and 2.00/h,
/// a 0.99 session fee and 19 % tax.
nonisolated(unsafe) let peakTariff: [String: Any] = [
    "name": "City peak", "currency": "EUR", "energyPrice": "0.30", "timePrice": 1.20, "sessionFee": "0.99",
    "taxRatePercent": "19", "timeZone": "Europe/Berlin",
    "windows": [["daysOfWeek": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "10:00", "end": "11:00", "energyPrice": "0.50", "timePrice": "2.00"]],
]

extension TestClientProtocol {
    /// A tariff, and station CP1 (two connectors) using it; returns the tariff id.
    func setUpPricedStation(_ admin: String, tariff: [String: Any] = peakTariff) async throws -> String {
        let created = try await call(.post, "/api/v1/tariffs", token: admin, json: tariff)
        #expect(created.status == .created, "\(created.object)")
        let id = try #require(created["id"] as? String)
        var station = stationBody("CP1")
        station["tariffId"] = id
        let stationReply = try await call(.post, "/api/v1/stations", token: admin, json: station)
        #expect(stationReply.status == .created, "\(stationReply.object)")
        return id
    }

    /// Station CP1 on a flat 0.40 EUR/kWh tariff, and a session on connector 1 started at `start`
    /// with the meter at 1,000 Wh; returns its transaction id and session id.
    func startFlatPricedSession(_ admin: String, at start: Date) async throws -> (transaction: Int, id: String) {
        _ = try await setUpPricedStation(admin, tariff: ["name": "flat", "currency": "EUR", "energyPrice": "0.40"])
        let started = try await call(
            .post, "/api/v1/sessions", token: admin,
            json: ["stationId": "CP1", "connectorId": 1, "idTag": "X", "startedAt": WireFormat.formatDate(start), "meterStartWh": 1000])
        return (try #require(started["transactionId"] as? Int), try #require(started["id"] as? String))
    }

    func recordSession(_ admin: String, start: String, stop: String, meterStart: Int, meterStop: Int, idTag: String = "CARD1", connector: Int = 1) async throws -> Reply {
        let started = try await call(
            .post, "/api/v1/sessions", token: admin,
            json: ["stationId": "CP1", "connectorId": connector, "idTag": idTag, "startedAt": start, "meterStartWh": meterStart])
        #expect(started.status == .created, "\(started.object)")
        let id = try #require(started["id"] as? String)
        return try await call(
            .post, "/api/v1/sessions/\(id)/stop", token: admin,
            json: ["meterStopWh": meterStop, "stoppedAt": stop, "reason": "Local"])
    }
}

@Suite("Tariffs, sessions, invoices and payments")
struct BillingTests {
    @Test("the issue's session produces exactly one invoice matching the hand calculation, paid in two parts")
    func doneWhen() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            _ = try await client.setUpPricedStation(admin)
            let stopped = try await client.recordSession(
                admin, start: "2026-03-10T09:00:00Z", stop: "2026-03-10T10:30:00Z", meterStart: 1_000_000, meterStop: 1_022_500)
            #expect(stopped.status == .ok)
            #expect(stopped["status"] as? String == "completed")
            #expect(stopped["energyWh"] as? Int == 22_500)
            #expect(stopped["durationSeconds"] as? Int == 5400)
            let invoiceID = try #require(stopped["invoiceId"] as? String)

            let invoice = try await client.call(.get, "/api/v1/invoices/\(invoiceID)", token: admin)
            #expect(invoice["number"] as? String == "INV-2026-000001")
            #expect(invoice["currency"] as? String == "EUR")
            #expect(invoice["subtotal"] as? String == "13.34")
            #expect(invoice["tax"] as? String == "2.53")
            #expect(invoice["total"] as? String == "15.87")
            #expect(invoice["status"] as? String == "issued")
            #expect(invoice["amountDue"] as? String == "15.87")
            let lines = try #require(invoice["lines"] as? [[String: Any]])
            #expect(lines.map { $0["amount"] as? String } == ["7.50", "2.25", "2.00", "0.60", "0.99"])
            #expect(lines.map { $0["kind"] as? String } == ["energy", "energy", "time", "time", "session_fee"])
            #expect(lines[0]["quantity"] as? String == "15.000" && lines[0]["unitPrice"] as? String == "0.50")
            #expect(invoice["dueAt"] as? String != nil)

            let partial = try await client.call(
                .post, "/api/v1/invoices/\(invoiceID)/payments", token: admin,
                json: ["amount": "10.00", "method": "card", "reference": "tx-1"])
            #expect(partial.status == .created)
            #expect(partial["status"] as? String == "issued")
            #expect(partial["amountPaid"] as? String == "10.00")
            #expect(partial["amountDue"] as? String == "5.87")
            let over = try await client.call(
                .post, "/api/v1/invoices/\(invoiceID)/payments", token: admin, json: ["amount": 5.88, "method": "card"])
            #expect(over.status == .unprocessableContent)
            #expect(over.fieldErrors == ["amount"])
            let rest = try await client.call(
                .post, "/api/v1/invoices/\(invoiceID)/payments", token: admin, json: ["amount": 5.87, "method": "card"])
            #expect(rest["status"] as? String == "paid")
            #expect(rest["paidAt"] is String)
            #expect((rest["payments"] as? [[String: Any]])?.count == 2)
            let afterPaid = try await client.call(
                .post, "/api/v1/invoices/\(invoiceID)/payments", token: admin, json: ["amount": "0.01", "method": "card"])
            #expect(afterPaid.status == .conflict)
            #expect(try await client.call(.post, "/api/v1/invoices/\(invoiceID)/void", token: admin).status == .conflict)

            let count = try await dependencies.database.read { try $0.queryFirst("SELECT count(*) FROM invoices") { try $0.get(0, as: Int.self) } }
            #expect(count == 1)
        }
    }

    @Test("concurrent stops of one session issue one invoice; the same start twice is the same session")
    func idempotentStartAndStop() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            _ = try await client.setUpPricedStation(admin)
            let body: [String: Any] = ["stationId": "CP1", "connectorId": 1, "idTag": "CARD1", "startedAt": "2026-03-10T09:00:00Z", "meterStartWh": 0]
            let first = try await client.call(.post, "/api/v1/sessions", token: admin, json: body)
            let second = try await client.call(.post, "/api/v1/sessions", token: admin, json: body)
            #expect(first.status == .created && second.status == .ok)
            #expect(first["id"] as? String == second["id"] as? String)
            #expect(first["transactionId"] as? Int == 1)
            let id = try #require(first["id"] as? String)

            let sessions = dependencies.sessions
            let results = try await withThrowingTaskGroup(of: String?.self) { group in
                for _ in 0..<10 {
                    group.addTask {
                        try await sessions.stop(.id(id), meterStopWh: 5000, stoppedAt: Self.date("2026-03-10T10:00:00Z"), reason: nil)?.invoiceId
                    }
                }
                return try await group.reduce(into: [String?]()) { $0.append($1) }
            }
            #expect(Set(results.compactMap { $0 }).count == 1)
            let invoices = try await dependencies.database.read { try $0.queryFirst("SELECT count(*) FROM invoices") { try $0.get(0, as: Int.self) } }
            #expect(invoices == 1)
        }
    }

    static func date(_ text: String) -> Date { ISO8601Timestamp.parse(text)! }

    @Test("an idempotency fingerprint ignores key order and whitespace, not values")
    func fingerprints() {
        let a = Idempotency.fingerprint(Data(#"{"amount": "5.00", "method": "card"}"#.utf8))
        let b = Idempotency.fingerprint(Data(#"{"method":"card","amount":"5.00"}"#.utf8))
        let c = Idempotency.fingerprint(Data(#"{"method":"card","amount":"5.01"}"#.utf8))
        #expect(a == b)
        #expect(a != c)
    }

    @Test("a new start on a connector with an open session closes that one as abandoned")
    func abandon() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            _ = try await client.setUpPricedStation(admin)
            let old = try await client.call(
                .post, "/api/v1/sessions", token: admin,
                json: ["stationId": "CP1", "connectorId": 1, "idTag": "A", "startedAt": "2026-03-10T08:00:00Z", "meterStartWh": 0])
            let new = try await client.call(
                .post, "/api/v1/sessions", token: admin,
                json: ["stationId": "CP1", "connectorId": 1, "idTag": "B", "startedAt": "2026-03-10T09:00:00Z", "meterStartWh": 100])
            #expect(new.status == .created)
            #expect(new["transactionId"] as? Int == 2)
            let oldNow = try await client.call(.get, "/api/v1/sessions/\(old["id"] as? String ?? "")", token: admin)
            #expect(oldNow["status"] as? String == "abandoned")
            #expect(oldNow["stoppedAt"] as? String == "2026-03-10T09:00:00.000Z")
            #expect(oldNow["invoiceId"] == nil)
            let active = try await client.call(.get, "/api/v1/sessions?status=active", token: admin)
            #expect(active.items.map { $0["idTag"] as? String } == ["B"])
        }
    }

    @Test("an active session shows its energy, power and estimated cost so far")
    func activeEstimate() async throws {
        let clock = TestClock()
        try await withApp(withAdmin, now: { clock.now }) { client, dependencies async throws in
            let admin = try await client.adminToken()
            _ = try await client.setUpPricedStation(admin, tariff: ["name": "flat", "currency": "EUR", "energyPrice": "0.40"])
            let start = clock.now
            let started = try await client.call(
                .post, "/api/v1/sessions", token: admin,
                json: ["stationId": "CP1", "connectorId": 2, "idTag": "X", "startedAt": WireFormat.formatDate(start), "meterStartWh": 500])
            let transaction = try #require(started["transactionId"] as? Int)
            clock.advance(600)
            try await dependencies.sessions.recordSample(transactionID: transaction, at: clock.now, registerWh: 3500, powerW: 18_000)
            // An older reading arrives late: kept, but the energy does not go back.
            try await dependencies.sessions.recordSample(transactionID: transaction, at: start.addingTimeInterval(300), registerWh: 1500, powerW: nil)
            let view = try await client.call(.get, "/api/v1/sessions/\(started["id"] as? String ?? "")", token: admin)
            #expect(view["energyWh"] as? Int == 3000)
            #expect(view["currentPowerW"] as? Int == 18_000)
            let estimate = try #require(view["estimatedCost"] as? [String: Any])
            #expect(estimate["total"] as? String == "1.20")
            let samples = try await dependencies.database.read { try $0.queryFirst("SELECT count(*) FROM session_samples") { try $0.get(0, as: Int.self) } }
            #expect(samples == 2)
        }
    }

    @Test("a meter sample stores exactly the session it returns and publishes, one version higher, its start untouched")
    func sampleStoresWhatItReturns() async throws {
        let clock = TestClock()
        try await withApp(withAdmin, now: { clock.now }) { client, dependencies async throws in
            let admin = try await client.adminToken()
            let start = clock.now
            let (transaction, id) = try await client.startFlatPricedSession(admin, at: start)
            let before = try #require(try await dependencies.sessions.session(id))
            let (_, events) = dependencies.events.subscribe(after: nil)
            var published = events.makeAsyncIterator()

            clock.advance(60)
            let charging = try #require(
                try await dependencies.sessions.recordSample(transactionID: transaction, at: clock.now, registerWh: 2500, powerW: 11_000))
            clock.advance(60)
            // No energy since the last reading: charging ended at that reading.
            let idle = try #require(
                try await dependencies.sessions.recordSample(transactionID: transaction, at: clock.now, registerWh: 2500, powerW: 0))

            let stored = try #require(try await dependencies.sessions.session(id))
            #expect(try WireFormat.encoder.encode(stored) == WireFormat.encoder.encode(idle))
            #expect(charging.version == before.version + 1 && idle.version == before.version + 2)
            #expect(charging.energyWh == 1500 && charging.currentPowerW == 11_000 && charging.chargingEndedAt == nil)
            #expect(idle.energyWh == 1500 && idle.currentPowerW == 0)
            #expect(idle.chargingEndedAt == start.addingTimeInterval(60) && idle.lastSampleAt == start.addingTimeInterval(120))
            #expect(idle.updatedAt == clock.now)
            // What a sample does not move stays as it was: the start, the tariff snapshot, the flags.
            #expect(idle.startKey == before.startKey && idle.startedAt == before.startedAt && idle.meterStartWh == 1000)
            #expect(idle.tariff?.name == "flat" && idle.flags.isEmpty && idle.status == .active)
            let first = await published.next()
            let second = await published.next()
            #expect(first?.type == "session.updated" && second?.type == "session.updated")
            #expect(second?.data == String(decoding: try WireFormat.encoder.encode(stored), as: UTF8.self))
        }
    }

    @Test("a stop stores exactly the session it returns, one version higher, with what it was opened with untouched")
    func stopStoresWhatItReturns() async throws {
        let clock = TestClock()
        try await withApp(withAdmin, now: { clock.now }) { client, dependencies async throws in
            let admin = try await client.adminToken()
            let start = clock.now
            let (transaction, id) = try await client.startFlatPricedSession(admin, at: start)
            let before = try #require(try await dependencies.sessions.session(id))

            clock.advance(3600)
            let stopped = try #require(
                try await dependencies.sessions.stop(
                    .transaction(transaction), meterStopWh: 11_000, stoppedAt: clock.now, reason: "Local"))
            let stored = try #require(try await dependencies.sessions.session(id))
            #expect(try WireFormat.encoder.encode(stored) == WireFormat.encoder.encode(stopped))
            #expect(stopped.version == before.version + 1 && stopped.status == .completed)
            #expect(stopped.energyWh == 10_000 && stopped.stoppedAt == clock.now && stopped.stopReason == "Local")
            #expect(stopped.cost?.total.minorUnits == 400 && stopped.invoiceId != nil)
            #expect(stopped.startKey == before.startKey && stopped.startedAt == before.startedAt && stopped.idTag == before.idTag)
            #expect(stopped.stationId == before.stationId && stopped.tariff?.name == "flat" && stopped.createdAt == before.createdAt)
            // A retried stop answers the stored session again and changes nothing.
            let again = try #require(
                try await dependencies.sessions.stop(
                    .transaction(transaction), meterStopWh: 12_000, stoppedAt: clock.now, reason: "Local"))
            #expect(try WireFormat.encoder.encode(again) == WireFormat.encoder.encode(stored))
        }
    }

    @Test("invoice numbers are gapless per year and continue across a restart")
    func gaplessNumbering() async throws {
        let directory = NSTemporaryDirectory() + "csms-invoices-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await withApp(withAdmin, dataDirectory: directory) { client, _ async throws in
            let admin = try await client.adminToken()
            _ = try await client.setUpPricedStation(admin, tariff: ["name": "flat", "currency": "EUR", "energyPrice": "0.40", "isDefault": true])
            for hour in [1, 3] {
                let reply = try await client.recordSession(
                    admin, start: "2026-03-10T0\(hour):00:00Z", stop: "2026-03-10T0\(hour + 1):00:00Z", meterStart: 0, meterStop: 10_000)
                #expect(reply.status == .ok)
            }
            // A session with nothing to pay gets no invoice and takes no number.
            _ = try await client.recordSession(admin, start: "2026-03-10T06:00:00Z", stop: "2026-03-10T06:10:00Z", meterStart: 0, meterStop: 0)
        }
        try await withApp(withAdmin, dataDirectory: directory) { client, _ async throws in
            let admin = try await client.adminToken()
            _ = try await client.recordSession(admin, start: "2026-03-10T08:00:00Z", stop: "2026-03-10T09:00:00Z", meterStart: 0, meterStop: 1000)
            let invoices = try await client.call(.get, "/api/v1/invoices?limit=10", token: admin)
            #expect(Set(invoices.items.compactMap { $0["number"] as? String }) == ["INV-2026-000001", "INV-2026-000002", "INV-2026-000003"])
        }
    }

    @Test("an Idempotency-Key returns the first response again and never pays twice")
    func idempotencyKeys() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            _ = try await client.setUpPricedStation(admin)
            let stopped = try await client.recordSession(
                admin, start: "2026-03-10T09:00:00Z", stop: "2026-03-10T10:30:00Z", meterStart: 0, meterStop: 22_500)
            let invoiceID = try #require(stopped["invoiceId"] as? String)
            let key: HTTPFields = [Idempotency.headerName: "pay-123"]
            let first = try await client.call(
                .post, "/api/v1/invoices/\(invoiceID)/payments", token: admin, json: ["amount": "5.00", "method": "card"], headers: key)
            let replay = try await client.call(
                .post, "/api/v1/invoices/\(invoiceID)/payments", token: admin, json: ["amount": "5.00", "method": "card"], headers: key)
            #expect(first.status == .created && replay.status == .created, "\(replay.status) \(replay.object)")
            #expect(replay.headers[Idempotency.replayedHeader] == "true")
            #expect(replay["amountPaid"] as? String == "5.00")
            let payments = try await dependencies.database.read { try $0.queryFirst("SELECT count(*) FROM payments") { try $0.get(0, as: Int.self) } }
            #expect(payments == 1)
            let reused = try await client.call(
                .post, "/api/v1/invoices/\(invoiceID)/payments", token: admin, json: ["amount": "6.00", "method": "card"], headers: key)
            #expect(reused.status == .unprocessableContent)
            // A failed request does not use up its key.
            let failing: HTTPFields = [Idempotency.headerName: "pay-999"]
            let tooMuch = try await client.call(
                .post, "/api/v1/invoices/\(invoiceID)/payments", token: admin, json: ["amount": "500.00", "method": "card"], headers: failing)
            #expect(tooMuch.status == .unprocessableContent)
            let retried = try await client.call(
                .post, "/api/v1/invoices/\(invoiceID)/payments", token: admin, json: ["amount": "500.00", "method": "card"], headers: failing)
            #expect(retried.headers[Idempotency.replayedHeader] == nil)
        }
    }

    @Test("a payment retried after its process died answers the committed payment again, as it was, and pays once")
    func paymentReplayAfterCrash() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            _ = try await client.setUpPricedStation(admin)
            let stopped = try await client.recordSession(
                admin, start: "2026-03-10T09:00:00Z", stop: "2026-03-10T10:30:00Z", meterStart: 0, meterStop: 22_500)
            let invoiceID = try #require(stopped["invoiceId"] as? String)
            let path = "/api/v1/invoices/\(invoiceID)/payments"
            let body = ["amount": "5.00", "method": "card"]
            let crashed: HTTPFields = [Idempotency.headerName: "pay-before-crash"]
            let first = try await client.call(.post, path, token: admin, json: body, headers: crashed)
            #expect(first.status == .created, "\(first.object)")
            let storeKey = try #require(try await dependencies.database.read { connection in
                try connection.queryFirst("SELECT key FROM key_value WHERE key LIKE 'idempotency:%'") { try $0.get(0, as: String.self) }
            })
            // A later payment under another key: the replay must still answer as the first one did.
            let later = try await client.call(
                .post, path, token: admin, json: ["amount": "3.00", "method": "card"], headers: [Idempotency.headerName: "pay-later"])
            #expect(later.status == .created && later["amountPaid"] as? String == "8.00", "\(later.object)")

            // The process died after the payment committed and before the reply was kept: only the
            // in-flight marker of the dead instance is left under the key.
            let raw = try #require(try await dependencies.keyValue.get(storeKey))
            let stored = try #require(try JSONSerialization.jsonObject(with: Data(raw)) as? [String: Any])
            let marker = try JSONSerialization.data(withJSONObject: ["fingerprint": stored["fingerprint"]!, "owner": "a-dead-instance"])
            try await dependencies.keyValue.set(storeKey, Array(marker), ttl: .seconds(3600))

            let retried = try await client.call(.post, path, token: admin, json: body, headers: crashed)
            #expect(retried.status == .created, "\(retried.object)")
            #expect(retried.headers[Idempotency.replayedHeader] == "true")
            #expect((retried.object as NSDictionary).isEqual(to: first.object), "\(retried.object) vs \(first.object)")
            let payments = try await dependencies.database.read {
                try $0.queryFirst("SELECT count(*) FROM payments WHERE invoice_id = ?", invoiceID) { try $0.get(0, as: Int.self) }
            }
            #expect(payments == 2)
            let invoice = try await client.call(.get, "/api/v1/invoices/\(invoiceID)", token: admin)
            #expect(invoice["amountPaid"] as? String == "8.00")
            // The reply is kept again: a further retry is answered from the key store.
            let again = try await client.call(.post, path, token: admin, json: body, headers: crashed)
            #expect((again.object as NSDictionary).isEqual(to: first.object))
        }
    }

    @Test("drivers see only their own sessions and invoices; admins void unpaid invoices")
    func driverVisibilityAndVoid() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            _ = try await client.setUpPricedStation(admin)
            _ = try await client.call(.post, "/api/v1/auth/register", json: ["email": "d@example.com", "password": "password-1", "name": "D"])
            let driver = try await client.login("d@example.com", "password-1")
            let me = try await client.call(.get, "/api/v1/me/driver", token: driver)
            let appToken = try #require((me["idTags"] as? [[String: Any]])?.first?["id"] as? String)
            let mine = try await client.recordSession(
                admin, start: "2026-03-10T09:00:00Z", stop: "2026-03-10T10:00:00Z", meterStart: 0, meterStop: 10_000, idTag: appToken)
            let theirs = try await client.recordSession(
                admin, start: "2026-03-10T11:00:00Z", stop: "2026-03-10T12:00:00Z", meterStart: 0, meterStop: 10_000, idTag: "OTHER", connector: 2)
            #expect(mine["driverId"] as? String == (me["driver"] as? [String: Any])?["id"] as? String)

            #expect(try await client.call(.get, "/api/v1/sessions", token: driver).items.map { $0["id"] as? String } == [mine["id"] as? String])
            #expect(try await client.call(.get, "/api/v1/sessions/\(theirs["id"] as? String ?? "")", token: driver).status == .notFound)
            let invoices = try await client.call(.get, "/api/v1/invoices", token: driver)
            #expect(invoices.items.map { $0["id"] as? String } == [mine["invoiceId"] as? String])
            #expect(try await client.call(.get, "/api/v1/invoices/\(theirs["invoiceId"] as? String ?? "")", token: driver).status == .notFound)
            #expect(try await client.call(.post, "/api/v1/invoices/\(mine["invoiceId"] as? String ?? "")/void", token: driver).status == .forbidden)

            let voided = try await client.call(.post, "/api/v1/invoices/\(theirs["invoiceId"] as? String ?? "")/void", token: admin)
            #expect(voided["status"] as? String == "void")
            let payVoid = try await client.call(
                .post, "/api/v1/invoices/\(theirs["invoiceId"] as? String ?? "")/payments", token: admin, json: ["amount": "1.00", "method": "cash"])
            #expect(payVoid.status == .conflict)
        }
    }

    @Test("tariffs: validation, one default, a snapshot taken at start, quotes that refuse bad input")
    func tariffs() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            let bad = try await client.call(
                .post, "/api/v1/tariffs", token: admin,
                json: ["name": "", "currency": "EUR", "energyPrice": "-1", "taxRatePercent": "120", "timeZone": "Mars/Olympus",
                       "membershipDiscounts": ["gold": "5"]])
            #expect(Set(bad.fieldErrors) == ["name", "energyPrice", "taxRatePercent", "timeZone", "membershipDiscounts.gold"])
            let badCurrency = try await client.call(.post, "/api/v1/tariffs", token: admin, json: ["name": "x", "currency": "XXQ", "energyPrice": "1"])
            #expect(badCurrency.fieldErrors == ["currency"])
            let tooPrecise = try await client.call(.post, "/api/v1/tariffs", token: admin, json: ["name": "x", "currency": "EUR", "energyPrice": "0.1234567"])
            #expect(tooPrecise.fieldErrors == ["energyPrice"])

            let a = try await client.call(.post, "/api/v1/tariffs", token: admin, json: ["name": "A", "currency": "EUR", "energyPrice": "0.30", "isDefault": true])
            let b = try await client.call(.post, "/api/v1/tariffs", token: admin, json: ["name": "B", "currency": "EUR", "energyPrice": "0.40", "isDefault": true])
            let aNow = try await client.call(.get, "/api/v1/tariffs/\(a["id"] as? String ?? "")", token: admin)
            #expect(aNow["isDefault"] as? Bool == false && b["isDefault"] as? Bool == true)
            #expect(aNow["energyPrice"] as? String == "0.30")

            var station = stationBody("CP9")
            station["tariffId"] = "missing"
            #expect(try await client.call(.post, "/api/v1/stations", token: admin, json: station).fieldErrors == ["tariffId"])

            // The session keeps the price it started with.
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("CP1"))
            let started = try await client.call(
                .post, "/api/v1/sessions", token: admin,
                json: ["stationId": "CP1", "connectorId": 1, "idTag": "T", "startedAt": "2026-03-10T09:00:00Z", "meterStartWh": 0])
            _ = try await client.call(.patch, "/api/v1/tariffs/\(b["id"] as? String ?? "")", token: admin, json: ["energyPrice": "9.99"])
            let stopped = try await client.call(
                .post, "/api/v1/sessions/\(started["id"] as? String ?? "")/stop", token: admin,
                json: ["meterStopWh": 10_000, "stoppedAt": "2026-03-10T10:00:00Z"])
            #expect((stopped["cost"] as? [String: Any])?["total"] as? String == "4.00")

            let quote = try await client.call(
                .get, "/api/v1/tariffs/\(a["id"] as? String ?? "")/quote?energyKwh=12.5&durationMinutes=60&startAt=2026-03-10T09:00:00Z", token: admin)
            #expect(quote["total"] as? String == "3.75")
            let missing = try await client.call(.get, "/api/v1/tariffs/\(a["id"] as? String ?? "")/quote?energyKwh=-1", token: admin)
            #expect(Set(missing.fieldErrors) == ["energyKwh", "durationMinutes"])
            // A tariff in use by a station cannot be deleted.
            _ = try await client.call(.patch, "/api/v1/stations/CP1", token: admin, json: ["tariffId": a["id"] as? String ?? ""])
            #expect(try await client.call(.delete, "/api/v1/tariffs/\(a["id"] as? String ?? "")", token: admin).status == .conflict)
        }
    }

    @Test("the CSV export has one row per session, quoted safely")
    func csvExport() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            _ = try await client.setUpPricedStation(admin)
            _ = try await client.recordSession(admin, start: "2026-03-10T09:00:00Z", stop: "2026-03-10T10:30:00Z", meterStart: 0, meterStop: 22_500)
            _ = try await client.recordSession(admin, start: "2026-04-10T09:00:00Z", stop: "2026-04-10T10:00:00Z", meterStart: 0, meterStop: 1000, idTag: "=CMD")
            let text = try await client.execute(
                uri: "/api/v1/sessions/export.csv?from=2026-03-01T00:00:00Z&to=2026-05-01T00:00:00Z", method: .get,
                headers: [.authorization: "Bearer \(admin)"]
            ) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/csv; charset=utf-8")
                return String(buffer: response.body)
            }
            let rows = text.split(separator: "\r\n")
            #expect(rows.count == 3)
            #expect(rows[0].hasPrefix("session_id,transaction_id,station_id"))
            #expect(rows[1].contains(",CP1,1,CARD1,") && rows[1].contains(",22500,EUR,13.34,2.53,15.87,"))
            #expect(rows[2].contains(",'=CMD,"))
            let march = try await client.execute(
                uri: "/api/v1/sessions/export.csv?from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z", method: .get,
                headers: [.authorization: "Bearer \(admin)"]
            ) { String(buffer: $0.body) }
            #expect(march.split(separator: "\r\n").count == 2)
        }
    }

    @Test("an export wider than its row limit is refused with 422, not built without bound")
    func csvExportIsBounded() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            _ = try await client.setUpPricedStation(admin)
            _ = try await client.recordSession(admin, start: "2026-03-10T09:00:00Z", stop: "2026-03-10T10:00:00Z", meterStart: 0, meterStop: 1000)
            _ = try await client.recordSession(admin, start: "2026-03-11T09:00:00Z", stop: "2026-03-11T10:00:00Z", meterStart: 0, meterStop: 1000)
            let query = SessionQuery(startedFrom: nil, startedBefore: nil)
            #expect(try await dependencies.sessions.all(query, limit: 2).count == 2)
            do {
                _ = try await dependencies.sessions.all(query, limit: 1)
                Issue.record("an export over its limit was built")
            } catch SessionError.exportTooLarge(let limit) {
                #expect(limit == 1)
            }
            let problem = ProblemMiddleware.problem(for: SessionError.exportTooLarge(limit: 1))
            #expect(problem.status == .unprocessableContent)
            #expect(problem.errors?.first?.field == "from")
        }
    }
}
