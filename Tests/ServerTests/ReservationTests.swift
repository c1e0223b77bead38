import Foundation
import HummingbirdTesting
import OCPP
import Testing

@testable import Server

/// An ISO 8601 time `seconds` from now, as the API and OCPP write it.
private func isoTime(_ seconds: TimeInterval) -> String {
    WireFormat.formatDate(Date().addingTimeInterval(seconds))
}

extension TestClientProtocol {
    /// An accepted id tag, optionally with a parent.
    func acceptedTag(_ tag: String, parent: String? = nil, token: String) async throws {
        var body: [String: Any] = ["status": "Accepted"]
        if let parent { body["parentIdTag"] = parent }
        let reply = try await call(.put, "/api/v1/id-tags/\(tag)", token: token, json: body)
        #expect(reply.status == .created || reply.status == .ok, "\(reply.object)")
    }

    /// POST /api/v1/reservations while the charger answers its ReserveNow with `answer`; returns
    /// the reply and the CALL the charger got.
    func reserve(
        _ body: [String: Any], token: String, charger: TestCharger, answer: String = "Accepted"
    ) async throws -> (Reply, [JSONValue]) {
        let answering = Task { try await charger.answerCall("ReserveNow", with: #"{"status":"\#(answer)"}"#) }
        let reply = try await call(.post, "/api/v1/reservations", token: token, json: body)
        return (reply, try await answering.value)
    }
}

@Suite("Reservations: ReserveNow and CancelReservation with their answers kept, used by a start, expired in time")
struct ReservationTests {
    @Test("an accepted reservation is active, shows as Reserved, holds its connector, and a start that names it uses it")
    func reserveAndUse() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let (admin, charger) = try await client.connectStationCP1(dependencies)
            try await client.acceptedTag("TAG1", token: admin)
            try await charger.send(#"[2,"sn1","StatusNotification",{"connectorId":1,"errorCode":"NoError","status":"Available"}]"#)
            _ = try await charger.next()
            let expiresAt = isoTime(600)
            let (reply, call) = try await client.reserve(
                ["stationId": "CP1", "connectorId": 1, "idTag": "TAG1", "expiresAt": expiresAt], token: admin, charger: charger)
            #expect(reply.status == .created, "\(reply.object)")
            #expect(reply["status"] as? String == "active" && reply["chargerAnswer"] as? String == "Accepted", "\(reply.object)")
            #expect(reply["reservationId"] as? Int == 1 && reply["connectorId"] as? Int == 1)
            guard case .object(let sent) = call[3] else { throw TestChargerError.notACall(call) }
            #expect(sent["reservationId"] == .int(1) && sent["connectorId"] == .int(1) && sent["idTag"] == .string("TAG1"))
            #expect(sent["expiryDate"]?.stringValue.flatMap(ISO8601Timestamp.parse) == ISO8601Timestamp.parse(expiresAt))
            let id = try #require(reply["id"] as? String)

            let availability = try await client.call(.get, "/api/v1/stations/availability", token: admin)
            #expect((availability["connectorsByStatus"] as? [String: Int])?["Reserved"] == 1, "\(availability.object)")

            // The connector is held: a second reservation on it is a conflict, and nothing is sent.
            try await client.acceptedTag("TAG2", token: admin)
            let clash = try await client.call(
                .post, "/api/v1/reservations", token: admin,
                json: ["stationId": "CP1", "connectorId": 1, "idTag": "TAG2", "expiresAt": isoTime(600)])
            #expect(clash.status == .conflict, "\(clash.object)")

            try await charger.send(
                #"[2,"st1","StartTransaction",{"connectorId":1,"idTag":"TAG1","meterStart":0,"reservationId":1,"timestamp":"\#(isoTime(0))"}]"#)
            let started = try await charger.next()
            guard started.count == 3, case .int(let transactionID)? = started[2]["transactionId"] else {
                throw TestChargerError.notACall(started)
            }
            let used = try await client.call(.get, "/api/v1/reservations/\(id)", token: admin)
            #expect(used["status"] as? String == "used" && used["transactionId"] as? Int == transactionID, "\(used.object)")
            #expect(used["sessionId"] as? String != nil && used["endedAt"] as? String != nil)
            let after = try await client.call(.get, "/api/v1/stations/availability", token: admin)
            #expect((after["connectorsByStatus"] as? [String: Int])?["Reserved"] == 0)
            await charger.close()
        }
    }

    @Test("a start without the reservation id uses the open reservation of the tag's parent on that station")
    func usedByParentTag() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let (admin, charger) = try await client.connectStationCP1(dependencies)
            try await client.acceptedTag("FLEET", token: admin)
            try await client.acceptedTag("CARD-A", parent: "FLEET", token: admin)
            try await client.acceptedTag("CARD-B", parent: "FLEET", token: admin)
            let (reply, _) = try await client.reserve(
                ["stationId": "CP1", "connectorId": 0, "idTag": "CARD-A", "expiresAt": isoTime(600)], token: admin, charger: charger)
            #expect(reply["status"] as? String == "active" && reply["parentIdTag"] as? String == "FLEET", "\(reply.object)")
            try await charger.send(
                #"[2,"st1","StartTransaction",{"connectorId":2,"idTag":"CARD-B","meterStart":0,"timestamp":"\#(isoTime(0))"}]"#)
            _ = try await charger.next()
            let stored = try await dependencies.reservations.reservations.reservation(try #require(reply["id"] as? String))
            #expect(stored.status == .used && stored.transactionId != nil)
            await charger.close()
        }
    }

    @Test("a refusal is kept with the charger's answer; cancel sends CancelReservation and ends it; a second cancel is a conflict")
    func refusedAndCancelled() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let (admin, charger) = try await client.connectStationCP1(dependencies)
            try await client.acceptedTag("TAG1", token: admin)
            let body: [String: Any] = ["stationId": "CP1", "connectorId": 2, "idTag": "TAG1", "expiresAt": isoTime(600)]
            let (refused, _) = try await client.reserve(body, token: admin, charger: charger, answer: "Occupied")
            #expect(refused.status == .created && refused["status"] as? String == "refused", "\(refused.object)")
            #expect(refused["chargerAnswer"] as? String == "Occupied" && refused["endedAt"] as? String != nil)

            // A refused reservation holds nothing: the same tag reserves again, under the next id.
            let (active, _) = try await client.reserve(body, token: admin, charger: charger)
            #expect(active["status"] as? String == "active" && active["reservationId"] as? Int == 2, "\(active.object)")
            let id = try #require(active["id"] as? String)

            let answering = Task { try await charger.answerCall("CancelReservation", with: #"{"status":"Accepted"}"#) }
            let cancelled = try await client.call(.delete, "/api/v1/reservations/\(id)", token: admin)
            let call = try await answering.value
            #expect(call[3] == .object(JSONObject([("reservationId", .int(2))])))
            #expect(cancelled.status == .ok && cancelled["status"] as? String == "cancelled", "\(cancelled.object)")
            #expect(cancelled["cancelAnswer"] as? String == "Accepted")
            let again = try await client.call(.delete, "/api/v1/reservations/\(id)", token: admin)
            #expect(again.status == .conflict, "\(again.object)")

            let listed = try await client.call(.get, "/api/v1/reservations?stationId=CP1&status=cancelled", token: admin)
            #expect(listed.items.map { $0["id"] as? String } == [id])
            await charger.close()
        }
    }

    @Test("the passthrough's ReserveNow and CancelReservation have the same effects as the typed endpoints")
    func passthroughEffects() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let (_, charger) = try await client.connectStationCP1(dependencies)
            let commands = dependencies.ocpp.commands
            let reserve = JSONValue.object(
                JSONObject([
                    ("connectorId", .int(1)), ("expiryDate", .string(isoTime(600))), ("idTag", .string("RAW")),
                    ("reservationId", .int(77)),
                ]))
            let sent = Task { try await commands.passthrough("ReserveNow", payload: reserve, to: "CP1") }
            try await charger.answerCall("ReserveNow", with: #"{"status":"Accepted"}"#)
            _ = try await sent.value
            let open = try await dependencies.reservations.reservations.open(stationID: "CP1")
            #expect(open.map(\.reservationId) == [77] && open.first?.status == .active && open.first?.idTag == "RAW")

            let cancel = JSONValue.object(JSONObject([("reservationId", .int(77))]))
            let cancelling = Task { try await commands.passthrough("CancelReservation", payload: cancel, to: "CP1") }
            try await charger.answerCall("CancelReservation", with: #"{"status":"Accepted"}"#)
            _ = try await cancelling.value
            #expect(try await dependencies.reservations.reservations.open(stationID: "CP1").isEmpty)
            let stored = try #require(try await dependencies.reservations.reservations.list(.init(stationID: "CP1"), page: .init()).items.first)
            #expect(stored.status == .cancelled && stored.reservationId == 77)
            await charger.close()
        }
    }

    @Test("open reservations past their time expire, ending at their expiry; others are left alone")
    func expiry() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let (admin, charger) = try await client.connectStationCP1(dependencies)
            try await client.acceptedTag("TAG1", token: admin)
            try await client.acceptedTag("TAG2", token: admin)
            let (soon, _) = try await client.reserve(
                ["stationId": "CP1", "connectorId": 1, "idTag": "TAG1", "expiresAt": isoTime(60)], token: admin, charger: charger)
            let (later, _) = try await client.reserve(
                ["stationId": "CP1", "connectorId": 2, "idTag": "TAG2", "expiresAt": isoTime(3600)], token: admin, charger: charger)
            let repository = dependencies.reservations.reservations
            try await repository.expireDue(now: Date().addingTimeInterval(120))
            let expired = try await repository.reservation(try #require(soon["id"] as? String))
            #expect(expired.status == .expired && expired.endedAt == expired.expiresAt)
            #expect(try await repository.reservation(try #require(later["id"] as? String)).status == .active)
            await charger.close()
        }
    }

    /// Reserves CP1's connector 1 for TAG1, ends the reservation with `meanwhile` while the charger
    /// has not answered yet, then answers Accepted; returns the API's reply and every reservation.
    private static func answerAfterEnd(
        expiresIn seconds: TimeInterval, _ meanwhile: @escaping @Sendable (ReservationRepository) async throws -> Void
    ) async throws -> (reply: Reply, stored: [Reservation]) {
        try await withApp(withAdmin) { client, dependencies async throws in
            let (admin, charger) = try await client.connectStationCP1(dependencies)
            try await client.acceptedTag("TAG1", token: admin)
            let reserving = Task {
                try await client.call(
                    .post, "/api/v1/reservations", token: admin,
                    json: ["stationId": "CP1", "connectorId": 1, "idTag": "TAG1", "expiresAt": isoTime(seconds)])
            }
            let call = try await charger.next()
            let repository = dependencies.reservations.reservations
            try await meanwhile(repository)
            guard call.count == 4, case .string(let messageID) = call[1] else { throw TestChargerError.notACall(call) }
            try await charger.send(#"[3,"\#(messageID)",{"status":"Accepted"}]"#)
            let reply = try await reserving.value
            await charger.close()
            return (reply, try await repository.list(.init(), page: .init()).items)
        }
    }

    @Test("a reservation whose time ran out while the charger had not answered stays expired, with the answer kept")
    func answerAfterExpiry() async throws {
        let (reply, stored) = try await Self.answerAfterEnd(expiresIn: 60) { try await $0.expireDue(now: Date().addingTimeInterval(120)) }
        #expect(reply["status"] as? String == "expired" && reply["chargerAnswer"] as? String == "Accepted", "\(reply.object)")
        #expect(stored.count == 1, "no second reservation from the answer")
    }

    @Test("a ReserveNow answer that arrives after the reservation was cancelled stores no second one")
    func answerAfterCancel() async throws {
        // The cancel's effect lands first, as when the two answers race.
        let (_, stored) = try await Self.answerAfterEnd(expiresIn: 600) {
            try await $0.recordCancel(stationID: "CP1", reservationID: 1, answer: "Accepted", at: Date())
        }
        #expect(stored.count == 1 && stored.first?.status == .cancelled && stored.first?.chargerAnswer == "Accepted", "\(stored)")
    }

    @Test("refused before anything is sent: unknown station, missing connector, unknown tag, past expiry, not connected")
    func refusals() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("CP1"))
            try await client.acceptedTag("TAG1", token: admin)
            func reserve(_ changes: [String: Any]) async throws -> Reply {
                let body: [String: Any] = ["stationId": "CP1", "connectorId": 1, "idTag": "TAG1", "expiresAt": isoTime(600)]
                return try await client.call(.post, "/api/v1/reservations", token: admin, json: body.merging(changes) { $1 })
            }
            #expect(try await reserve(["stationId": "NOPE"]).status == .notFound)
            #expect(try await reserve(["connectorId": 9]).fieldErrors == ["connectorId"])
            #expect(try await reserve(["idTag": "UNKNOWN"]).fieldErrors == ["idTag"])
            #expect(try await reserve(["expiresAt": isoTime(-60)]).fieldErrors == ["expiresAt"])
            #expect(try await reserve(["expiresAt": isoTime(8 * 86_400)]).fieldErrors == ["expiresAt"])
            #expect(try await reserve(["driverId": "D1"]).fieldErrors == ["idTag"], "idTag and driverId together")
            let offline = try await reserve([:])
            #expect(offline.status == .conflict && (offline["detail"] as? String)?.contains("not connected") == true)
            #expect(try await dependencies.reservations.reservations.list(.init(), page: .init()).items.isEmpty)
        }
    }

    @Test("a ReserveNow without an answer fails the reservation with a 504 and frees the connector")
    func noAnswer() async throws {
        try await withApp(withAdmin.merging(["ocppCallTimeoutSeconds": "1"]) { $1 }) { client, dependencies async throws in
            let (admin, charger) = try await client.connectStationCP1(dependencies)
            try await client.acceptedTag("TAG1", token: admin)
            let reply = try await client.call(
                .post, "/api/v1/reservations", token: admin,
                json: ["stationId": "CP1", "connectorId": 1, "idTag": "TAG1", "expiresAt": isoTime(600)])
            #expect(reply.status == .gatewayTimeout, "\(reply.object)")
            let stored = try #require(try await dependencies.reservations.reservations.list(.init(), page: .init()).items.first)
            #expect(stored.status == .failed && stored.failure?.contains("did not answer") == true, "\(stored)")
            #expect(try await dependencies.reservations.reservations.open(stationID: "CP1").isEmpty)
            await charger.close()
        }
    }

    @Test("a driver reserves for their app token within the maximum, sees only their own, and cannot cancel another's")
    func driverReservations() async throws {
        try await withApp(withAdmin.merging(["reservationMaxMinutes": "20"]) { $1 }) { client, dependencies async throws in
            let (admin, charger) = try await client.connectStationCP1(dependencies)
            func register(_ email: String) async throws -> String {
                let reply = try await client.call(
                    .post, "/api/v1/auth/register", json: ["email": email, "password": "driver-password-1", "name": "Driver"])
                #expect(reply.status == .created, "\(reply.object)")
                return try await client.login(email, "driver-password-1")
            }
            let alice = try await register("alice@example.com")
            let bob = try await register("bob@example.com")
            let tooLong = try await client.call(
                .post, "/api/v1/me/reservations", token: alice, json: ["stationId": "CP1", "connectorId": 1, "minutes": 21])
            #expect(tooLong.fieldErrors == ["minutes"], "\(tooLong.object)")

            let answering = Task { try await charger.answerCall("ReserveNow", with: #"{"status":"Accepted"}"#) }
            let mine = try await client.call(
                .post, "/api/v1/me/reservations", token: alice, json: ["stationId": "CP1", "connectorId": 1, "minutes": 15])
            let call = try await answering.value
            #expect(mine.status == .created && mine["status"] as? String == "active", "\(mine.object)")
            #expect((call[3]["idTag"]?.stringValue ?? "").hasPrefix("APP"), "held for the app token")
            let id = try #require(mine["id"] as? String)

            #expect(try await client.call(.get, "/api/v1/reservations", token: alice).items.count == 1)
            #expect(try await client.call(.get, "/api/v1/reservations", token: bob).items.isEmpty)
            #expect(try await client.call(.get, "/api/v1/reservations/\(id)", token: bob).status == .notFound)
            #expect(try await client.call(.delete, "/api/v1/reservations/\(id)", token: bob).status == .notFound)
            #expect(try await client.call(.post, "/api/v1/reservations", token: bob, json: [:]).status == .forbidden)
            #expect(try await client.call(.get, "/api/v1/reservations", token: admin).items.count == 1)
            await charger.close()
        }
    }
}

@Suite("Sites: stations grouped, with a time zone and a power limit")
struct SiteTests {
    @Test("a site is created, stations join and leave it, and it cannot be deleted while they belong to it")
    func lifecycle() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("CP1"))
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("CP2"))
            let created = try await client.call(
                .post, "/api/v1/sites", token: admin,
                json: ["name": "Depot", "timeZone": "Europe/Berlin", "maxPowerKw": 22, "address": "Hafenstraße 1"])
            #expect(created.status == .created && created["stationIds"] as? [String] == [], "\(created.object)")
            let id = try #require(created["id"] as? String)

            let joined = try await client.call(.patch, "/api/v1/stations/CP1", token: admin, json: ["siteId": id])
            #expect(joined.status == .ok && joined["siteId"] as? String == id, "\(joined.object)")
            #expect(try await client.call(.get, "/api/v1/sites/\(id)", token: admin)["stationIds"] as? [String] == ["CP1"])
            let filtered = try await client.call(.get, "/api/v1/stations?siteId=\(id)", token: admin)
            #expect(filtered.items.map { $0["id"] as? String } == ["CP1"])

            let refused = try await client.call(.delete, "/api/v1/sites/\(id)", token: admin)
            #expect(refused.status == .conflict && (refused["detail"] as? String)?.contains("CP1") == true)
            let unknown = try await client.call(.patch, "/api/v1/stations/CP2", token: admin, json: ["siteId": "nope"])
            #expect(unknown.fieldErrors == ["siteId"], "\(unknown.object)")

            let changed = try await client.call(.patch, "/api/v1/sites/\(id)", token: admin, json: ["maxPowerKw": NSNull()])
            #expect(changed.status == .ok && changed["maxPowerKw"] == nil && changed["version"] as? Int == 2, "\(changed.object)")
            _ = try await client.call(.patch, "/api/v1/stations/CP1", token: admin, json: ["siteId": NSNull()])
            #expect(try await client.call(.delete, "/api/v1/sites/\(id)", token: admin).status == .noContent)
            #expect(try await client.call(.get, "/api/v1/sites/\(id)", token: admin).status == .notFound)
        }
    }

    @Test("analytics narrowed to a site count only its stations' sessions and connectors")
    func analyticsBySite() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            let site = try #require(
                try await client.call(.post, "/api/v1/sites", token: admin, json: ["name": "Depot"])["id"] as? String)
            for (station, energy) in [("CP1", 7000), ("CP2", 3000)] {
                _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody(station))
                try await client.acceptedTag("TAG-\(station)", token: admin)
                let session = try await client.call(
                    .post, "/api/v1/sessions", token: admin,
                    json: [
                        "stationId": station, "connectorId": 1, "idTag": "TAG-\(station)", "startedAt": "2026-01-05T10:00:00Z",
                        "meterStartWh": 1000,
                    ])
                let id = try #require(session["id"] as? String, "\(session.object)")
                let stopped = try await client.call(
                    .post, "/api/v1/sessions/\(id)/stop", token: admin,
                    json: ["meterStopWh": 1000 + energy, "stoppedAt": "2026-01-05T11:00:00Z"])
                #expect(stopped.status == .ok, "\(stopped.object)")
            }
            _ = try await client.call(.patch, "/api/v1/stations/CP1", token: admin, json: ["siteId": site])
            let window = "from=2026-01-05T00:00:00Z&to=2026-01-06T00:00:00Z"
            let all = try await client.call(.get, "/api/v1/analytics/energy?\(window)", token: admin)
            let bySite = try await client.call(.get, "/api/v1/analytics/energy?\(window)&siteId=\(site)", token: admin)
            func energy(_ reply: Reply) -> Int? { (reply["buckets"] as? [[String: Any]])?.first?["energyWh"] as? Int }
            #expect(energy(all) == 10_000 && energy(bySite) == 7000, "\(bySite.object)")
            #expect(bySite["siteId"] as? String == site)
            let utilization = try await client.call(.get, "/api/v1/analytics/utilization?\(window)&siteId=\(site)", token: admin)
            #expect(Set(utilization.items.compactMap { $0["stationId"] as? String }) == ["CP1"], "\(utilization.object)")
        }
    }

    @Test("a site's name, time zone and power limit are checked")
    func validation() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            func create(_ body: [String: Any]) async throws -> Reply { try await client.call(.post, "/api/v1/sites", token: admin, json: body) }
            #expect(try await create([:]).fieldErrors == ["name"])
            #expect(try await create(["name": "A", "timeZone": "Mars/Olympus"]).fieldErrors == ["timeZone"])
            #expect(try await create(["name": "A", "maxPowerKw": 0]).fieldErrors == ["maxPowerKw"])
            #expect(try await create(["name": "A", "maxPowerKw": 1e9]).fieldErrors == ["maxPowerKw"])
            let fallback = try await create(["name": "A"])
            #expect(fallback.status == .created && fallback["timeZone"] as? String == "UTC")
        }
    }
}
