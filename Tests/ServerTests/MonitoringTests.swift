import Foundation
import Hummingbird
import HummingbirdTesting
import Storage
import Testing

@testable import Server

@Suite("Status history, alerts, analytics and live events")
struct MonitoringTests {
    @Test("a Faulted connector raises one alert, which resolves when the connector is Available again")
    func faultedAlert() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("CP1"))
            for code in ["GroundFailure", "HighTemperature"] {
                _ = try await client.call(.patch, "/api/v1/stations/CP1/connectors/1", token: admin, json: ["status": "Faulted", "errorCode": code])
            }
            let open = try await client.call(.get, "/api/v1/alerts?state=open", token: admin)
            #expect(open.items.count == 1, "no duplicate for the same condition")
            #expect(open.items.first?["kind"] as? String == "connector_faulted")
            #expect(open.items.first?["severity"] as? String == "critical")
            #expect(open.items.first?["connectorId"] as? Int == 1)
            #expect((open.items.first?["details"] as? [String: String])?["errorCode"] == "GroundFailure")

            _ = try await client.call(.patch, "/api/v1/stations/CP1/connectors/1", token: admin, json: ["status": "Available"])
            #expect(try await client.call(.get, "/api/v1/alerts?state=open", token: admin).items.isEmpty)
            let resolved = try await client.call(.get, "/api/v1/alerts?state=resolved&stationId=CP1", token: admin)
            #expect(resolved.items.count == 1)
            #expect(resolved.items.first?["resolvedAt"] is String)

            // Faulted again later is a new condition: a new alert.
            _ = try await client.call(.patch, "/api/v1/stations/CP1/connectors/1", token: admin, json: ["status": "Faulted"])
            #expect(try await client.call(.get, "/api/v1/alerts?state=open", token: admin).items.count == 1)

            let history = try await client.call(.get, "/api/v1/stations/CP1/status-history", token: admin)
            let statuses = (history["items"] as? [[String: Any]])?.map { $0["status"] as? String }
            #expect(statuses == ["Faulted", "Available", "Faulted"])
        }
    }

    @Test("alerts go open → acknowledged → resolved; other transitions are refused")
    func alertLifecycle() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("CP1"))
            _ = try await client.call(.patch, "/api/v1/stations/CP1/connectors/2", token: admin, json: ["status": "Faulted"])
            let id = try #require(try await client.call(.get, "/api/v1/alerts", token: admin).items.first?["id"] as? String)
            let acknowledged = try await client.call(.post, "/api/v1/alerts/\(id)/acknowledge", token: admin)
            #expect(acknowledged["state"] as? String == "acknowledged")
            #expect(acknowledged["acknowledgedAt"] is String)
            // Acknowledged is still unresolved: the same fault does not open a second alert.
            _ = try await client.call(.patch, "/api/v1/stations/CP1/connectors/2", token: admin, json: ["status": "Faulted", "errorCode": "Other"])
            #expect(try await client.call(.get, "/api/v1/alerts", token: admin).items.count == 1)
            #expect(try await client.call(.post, "/api/v1/alerts/\(id)/resolve", token: admin)["state"] as? String == "resolved")
            #expect(try await client.call(.post, "/api/v1/alerts/\(id)/acknowledge", token: admin).status == .conflict)
            #expect(try await client.call(.post, "/api/v1/alerts/nope/resolve", token: admin).status == .notFound)
            #expect(try await client.call(.get, "/api/v1/alerts?severity=loud", token: admin).status == .unprocessableContent)
        }
    }

    @Test("offline past the grace period raises one alert, resolved on reconnect; long sessions and reboots are alerted")
    func periodicChecks() async throws {
        let clock = TestClock()
        try await withApp(withAdmin, now: { clock.now }) { client, dependencies async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("CP1"))
            let monitoring = dependencies.monitoring
            try await monitoring.stationConnectivityChanged(stationID: "CP1", online: true, at: clock.now)
            try await monitoring.stationConnectivityChanged(stationID: "CP1", online: false, at: clock.now)
            clock.advance(4 * 60)
            try await monitoring.runChecks()
            #expect(try await client.call(.get, "/api/v1/alerts", token: admin).items.isEmpty)
            clock.advance(61)
            try await monitoring.runChecks()
            try await monitoring.runChecks()
            let offline = try await client.call(.get, "/api/v1/alerts?state=open", token: admin)
            #expect(offline.items.map { $0["kind"] as? String } == ["station_offline"])
            try await monitoring.stationConnectivityChanged(stationID: "CP1", online: true, at: clock.now)
            #expect(try await client.call(.get, "/api/v1/alerts?state=open", token: admin).items.isEmpty)

            _ = try await dependencies.sessions.start(
                stationID: "CP1", connectorID: 1, idTag: "T", startedAt: clock.now, meterStartWh: 0, accepted: true)
            try await monitoring.chargerBooted(stationID: "CP1", at: clock.now)
            clock.advance(25 * 3600)
            try await monitoring.runChecks()
            let kinds = try await client.call(.get, "/api/v1/alerts?state=open", token: admin).items.compactMap { $0["kind"] as? String }
            #expect(Set(kinds) == ["rebooted_during_session", "session_too_long"])
        }
    }

    @Test("energy, revenue and sessions land in the right local-day bucket, with empty days as zero")
    func analyticsBuckets() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            _ = try await client.setUpPricedStation(admin)
            _ = try await client.recordSession(admin, start: "2026-03-10T09:00:00Z", stop: "2026-03-10T10:30:00Z", meterStart: 0, meterStop: 22_500)
            // Stops at 23:30 UTC, which is 00:30 the next day in Berlin.
            _ = try await client.recordSession(admin, start: "2026-03-10T22:30:00Z", stop: "2026-03-10T23:30:00Z", meterStart: 0, meterStop: 5_000, connector: 2)
            let berlin = try await client.call(
                .get, "/api/v1/analytics/energy?from=2026-03-09T23:00:00Z&to=2026-03-12T23:00:00Z&groupBy=day&tz=Europe/Berlin", token: admin)
            let buckets = try #require(berlin["buckets"] as? [[String: Any]])
            #expect(buckets.map { $0["start"] as? String } == ["2026-03-09T23:00:00.000Z", "2026-03-10T23:00:00.000Z", "2026-03-11T23:00:00.000Z"])
            #expect(buckets.map { $0["energyWh"] as? Int } == [22_500, 5_000, 0])
            #expect((buckets[0]["revenue"] as? [String: String])?["EUR"] == "15.87")
            #expect((buckets[2]["revenue"] as? [String: String]) == [:])
            let utc = try await client.call(
                .get, "/api/v1/analytics/revenue?from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z&groupBy=day", token: admin)
            let utcBuckets = try #require(utc["buckets"] as? [[String: Any]])
            #expect(utcBuckets.map { $0["energyWh"] as? Int } == [27_500])
            let sessions = try await client.call(
                .get, "/api/v1/analytics/sessions?from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z&groupBy=hour", token: admin)
            let hours = try #require(sessions["buckets"] as? [[String: Any]])
            #expect(hours.count == 24)
            #expect(hours[9]["sessions"] as? Int == 1 && hours[9]["averageDurationSeconds"] as? Int == 5400)
            #expect(hours[22]["sessions"] as? Int == 1)

            let overview = try await client.call(.get, "/api/v1/analytics/overview", token: admin)
            #expect(overview["stations"] as? Int == 1)
            #expect(overview["activeSessions"] as? Int == 0)
            #expect(overview["openAlerts"] as? Int == 0)
            #expect(try await client.call(.get, "/api/v1/analytics/energy?from=x&to=y", token: admin).status == .unprocessableContent)
            #expect(try await client.call(.get, "/api/v1/analytics/energy?from=2026-03-10T00:00:00Z&to=2026-03-11T00:00:00Z&tz=Nowhere", token: admin).fieldErrors == ["tz"])
        }
    }

    @Test("day buckets follow local midnight across the spring DST change: that day has 23 hours")
    func dstBuckets() throws {
        let buckets = try AnalyticsService.buckets(
            from: ISO8601Timestamp.parse("2026-03-28T00:00:00+01:00")!, to: ISO8601Timestamp.parse("2026-03-31T00:00:00+02:00")!,
            granularity: .day, timeZone: TimeZone(identifier: "Europe/Berlin")!)
        #expect(buckets.map { WireFormat.formatDate($0.start) } == [
            "2026-03-27T23:00:00.000Z", "2026-03-28T23:00:00.000Z", "2026-03-29T22:00:00.000Z",
        ])
        #expect(buckets.map { $0.end.timeIntervalSince($0.start) / 3600 } == [24, 23, 24])
        let months = try AnalyticsService.buckets(
            from: ISO8601Timestamp.parse("2026-01-31T12:00:00Z")!, to: ISO8601Timestamp.parse("2026-04-01T00:00:00Z")!,
            granularity: .month, timeZone: TimeZone(identifier: "UTC")!)
        #expect(months.map { WireFormat.formatDate($0.start) } == [
            "2026-01-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z", "2026-03-01T00:00:00.000Z",
        ])
    }

    @Test("utilization splits each connector's time by status from the history")
    func utilization() async throws {
        let clock = TestClock()
        try await withApp(withAdmin, now: { clock.now }) { client, dependencies async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(
                .post, "/api/v1/stations", token: admin,
                json: stationBody("CP1", connectors: [["connectorId": 1, "type": "CCS2", "maxPowerKw": 50]]))
            let start = clock.now
            for (minutes, status) in [(0, "Available"), (60, "Charging"), (90, "Finishing"), (100, "Faulted"), (110, "Available")] {
                try await dependencies.monitoring.connectorStatusChanged(
                    ConnectorStatusChange(
                        stationID: "CP1", connectorID: 1, previous: nil, current: ConnectorStatus(rawValue: status)!, errorCode: nil,
                        info: nil, vendorErrorCode: nil, at: start.addingTimeInterval(Double(minutes) * 60), source: .ocpp))
            }
            let from = WireFormat.formatDate(start.addingTimeInterval(-20 * 60))
            let to = WireFormat.formatDate(start.addingTimeInterval(140 * 60))
            let reply = try await client.call(.get, "/api/v1/analytics/utilization?from=\(from)&to=\(to)&stationId=CP1", token: admin)
            let item = try #require((reply["items"] as? [[String: Any]])?.first)
            let seconds = try #require(item["seconds"] as? [String: Int])
            #expect(seconds == ["unavailable": 1200, "available": 3600 + 1800, "charging": 1800, "occupied": 600, "faulted": 600])
            let shares = try #require(item["shares"] as? [String: Double])
            #expect(shares["charging"] == 0.1875)
            let metrics = try await client.call(.get, "/api/v1/stations/CP1/metrics?from=\(from)&to=\(to)", token: admin)
            #expect(metrics["uptimeShare"] as? Double == 0.8125)
        }
    }

    @Test("the event bus replays what a reconnecting client missed and streams what comes next")
    func eventBus() async throws {
        let bus = EventBus()
        bus.publish("a", stationID: "S1", payload: ["n": 1])
        bus.publish("b", stationID: "S2", payload: ["n": 2])
        let (backlog, stream) = bus.subscribe(after: 1)
        #expect(backlog.map(\.type) == ["b"])
        #expect(bus.subscriberCount == 1)
        bus.publish("c", stationID: "S1", payload: ["n": 3])
        var iterator = stream.makeAsyncIterator()
        let next = await iterator.next()
        #expect(next?.type == "c" && next?.id == 3 && next?.data == #"{"n":3}"#)
        #expect(String(buffer: MonitoringController.frame(next!)) == "id: 3\nevent: c\ndata: {\"n\":3}\n\n")
        let (fresh, _) = bus.subscribe(after: nil)
        #expect(fresh.isEmpty)
    }
}
