import Foundation
import HummingbirdTesting
import NIOWebSocket
import OCPP
import Synchronization
import Testing

@testable import Server

private func isoNow() -> String { WireFormat.formatDate(Date()) }

/// A TxDefaultProfile (or another purpose) with one period per limit, every 600 s.
private func profile(
    purpose: String = "TxDefaultProfile", stackLevel: Int = 1, kind: String = "Relative", unit: String = "W",
    limits: [Double] = [11_000], extra: [String: Any] = [:]
) -> [String: Any] {
    let periods = limits.enumerated().map { ["startPeriod": $0.offset * 600, "limit": $0.element] as [String: Any] }
    var body: [String: Any] = [
        "stackLevel": stackLevel, "chargingProfilePurpose": purpose, "chargingProfileKind": kind,
        "chargingSchedule": ["chargingRateUnit": unit, "chargingSchedulePeriod": periods],
    ]
    body.merge(extra) { $1 }
    return body
}

@Suite("Smart charging: profiles checked, sent, answered, replaced and cleared")
struct SmartChargingTests {
    @Test("a profile is set with the station's next id, replaces one of the same stack level and purpose, and is cleared")
    func setReplaceClear() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let (admin, charger) = try await client.connectStationCP1(dependencies)
            func set(_ body: [String: Any]) async throws -> (Reply, [JSONValue]) {
                let answering = Task { try await charger.answerCall("SetChargingProfile", with: #"{"status":"Accepted"}"#) }
                let reply = try await client.call(.post, "/api/v1/stations/CP1/charging-profiles", token: admin, json: body)
                return (reply, try await answering.value)
            }
            let (first, call) = try await set(["connectorId": 1, "chargingProfile": profile()])
            #expect(first.status == .created && first["status"] as? String == "active", "\(first.object)")
            #expect(first["chargingProfileId"] as? Int == 1 && first["source"] as? String == "operator")
            #expect(call[3]["connectorId"] == .int(1))
            #expect(call[3]["csChargingProfiles"]?["chargingProfileId"] == .int(1))

            let (second, _) = try await set(["connectorId": 1, "chargingProfile": profile(limits: [7_000, 3_500])])
            #expect(second["chargingProfileId"] as? Int == 2 && second["status"] as? String == "active")
            let listed = try await client.call(.get, "/api/v1/stations/CP1/charging-profiles", token: admin)
            let statuses = Dictionary(uniqueKeysWithValues: listed.items.map { ($0["chargingProfileId"] as? Int ?? 0, $0["status"] as? String ?? "") })
            #expect(statuses == [1: "replaced", 2: "active"], "\(listed.object)")

            let clearing = Task { try await charger.answerCall("ClearChargingProfile", with: #"{"status":"Accepted"}"#) }
            let cleared = try await client.call(.delete, "/api/v1/stations/CP1/charging-profiles?id=2", token: admin)
            let clear = try await clearing.value
            #expect(clear[3] == .object(JSONObject([("id", .int(2))])))
            #expect(cleared.status == .ok && cleared["status"] as? String == "Accepted", "\(cleared.object)")
            #expect((cleared["cleared"] as? [[String: Any]])?.map { $0["chargingProfileId"] as? Int } == [2])
            let active = try await client.call(.get, "/api/v1/stations/CP1/charging-profiles?status=active", token: admin)
            #expect(active.items.isEmpty)
            await charger.close()
        }
    }

    @Test("OCPP's rules are checked before anything is sent, each naming its field")
    func rules() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let (admin, charger) = try await client.connectStationCP1(dependencies)
            func errors(_ connector: Int, _ body: [String: Any]) async throws -> [String] {
                let reply = try await client.call(
                    .post, "/api/v1/stations/CP1/charging-profiles", token: admin, json: ["connectorId": connector, "chargingProfile": body])
                #expect(reply.status == .unprocessableContent, "\(reply.object)")
                return reply.fieldErrors
            }
            #expect(try await errors(1, profile(purpose: "TxProfile")) == ["connectorId"], "no transaction runs")
            #expect(try await errors(1, profile(purpose: "ChargePointMaxProfile")) == ["connectorId"])
            #expect(try await errors(0, profile(purpose: "TxDefaultProfile", extra: ["transactionId": 5])) == ["chargingProfile.transactionId"])
            var late = profile()
            late["chargingSchedule"] = ["chargingRateUnit": "W", "chargingSchedulePeriod": [["startPeriod": 60, "limit": 1000]]]
            #expect(try await errors(1, late) == ["chargingProfile.chargingSchedule.chargingSchedulePeriod"])
            #expect(
                try await errors(1, profile(limits: [1000, 2000], extra: [:]).merging(["chargingSchedule": [
                    "chargingRateUnit": "W",
                    "chargingSchedulePeriod": [["startPeriod": 0, "limit": 1000], ["startPeriod": 0, "limit": 2000]],
                ]]) { $1 }) == ["chargingProfile.chargingSchedule.chargingSchedulePeriod[1].startPeriod"])
            #expect(try await errors(1, profile(unit: "A", limits: [5000])) == ["chargingProfile.chargingSchedule.chargingSchedulePeriod[0].limit"])
            #expect(try await errors(1, profile(kind: "Recurring")).sorted() == [
                "chargingProfile.chargingSchedule.startSchedule", "chargingProfile.recurrencyKind",
            ])
            var relative = profile()
            relative["chargingSchedule"] = [
                "chargingRateUnit": "W", "startSchedule": isoNow(), "chargingSchedulePeriod": [["startPeriod": 0, "limit": 1000]],
            ]
            #expect(try await errors(1, relative) == ["chargingProfile.chargingSchedule.startSchedule"])
            #expect(try await errors(1, profile(extra: ["stackLevel": "high"])) == ["chargingProfile.stackLevel"], "the schema")
            #expect(try await errors(9, profile()) == ["connectorId"])
            try await Task.sleep(for: .milliseconds(100))
            #expect(try await charger.channel.readOutbound(as: WebSocketFrame.self) == nil, "nothing was sent")
            await charger.close()
        }
    }

    @Test("a TxProfile takes the connector's transaction and ends with it; a refusal is kept with the answer")
    func txProfileLifecycle() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let (admin, charger) = try await client.connectStationCP1(dependencies)
            try await client.acceptedTag("TAG1", token: admin)
            try await charger.send(#"[2,"st1","StartTransaction",{"connectorId":1,"idTag":"TAG1","meterStart":0,"timestamp":"\#(isoNow())"}]"#)
            let started = try await charger.next()
            guard case .int(let transactionID)? = started[2]["transactionId"] else { throw TestChargerError.notACall(started) }

            let answering = Task { try await charger.answerCall("SetChargingProfile", with: #"{"status":"Accepted"}"#) }
            let reply = try await client.call(
                .post, "/api/v1/stations/CP1/charging-profiles", token: admin,
                json: ["connectorId": 1, "chargingProfile": profile(purpose: "TxProfile")])
            let call = try await answering.value
            #expect(call[3]["csChargingProfiles"]?["transactionId"] == .int(transactionID))
            #expect(reply["transactionId"] as? Int == transactionID && reply["status"] as? String == "active", "\(reply.object)")

            let refusing = Task { try await charger.answerCall("SetChargingProfile", with: #"{"status":"Rejected"}"#) }
            let refused = try await client.call(
                .post, "/api/v1/stations/CP1/charging-profiles", token: admin,
                json: ["connectorId": 0, "chargingProfile": profile(purpose: "ChargePointMaxProfile")])
            _ = try await refusing.value
            #expect(refused["status"] as? String == "rejected" && refused["chargerAnswer"] as? String == "Rejected")

            try await charger.send(
                #"[2,"sp1","StopTransaction",{"transactionId":\#(transactionID),"meterStop":5000,"timestamp":"\#(isoNow())"}]"#)
            _ = try await charger.next()
            let ended = try await dependencies.chargingProfiles.repository.list(stationID: "CP1", status: .ended)
            #expect(ended.map(\.transactionId) == [transactionID])
            await charger.close()
        }
    }

    @Test("a remote start may carry a TxProfile; another purpose is refused; the composite schedule is the charger's")
    func remoteStartAndComposite() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let (admin, charger) = try await client.connectStationCP1(dependencies)
            let refused = try await client.call(
                .post, "/api/v1/stations/CP1/commands/remote-start", token: admin,
                json: ["connectorId": 1, "idTag": "TAG1", "chargingProfile": profile(extra: ["chargingProfileId": 7])])
            #expect(refused.fieldErrors == ["chargingProfile.chargingProfilePurpose"], "\(refused.object)")

            let answering = Task { try await charger.answerCall("RemoteStartTransaction", with: #"{"status":"Accepted"}"#) }
            let started = try await client.call(
                .post, "/api/v1/stations/CP1/commands/remote-start", token: admin,
                json: [
                    "connectorId": 1, "idTag": "TAG1",
                    "chargingProfile": profile(purpose: "TxProfile", extra: ["chargingProfileId": 7]),
                ])
            let call = try await answering.value
            #expect(started.status == .ok, "\(started.object)")
            #expect(call[3]["chargingProfile"]?["chargingProfilePurpose"] == .string("TxProfile"))

            let schedule = #"{"status":"Accepted","connectorId":1,"chargingSchedule":{"chargingRateUnit":"W","chargingSchedulePeriod":[{"startPeriod":0,"limit":7000}]}}"#
            let asking = Task { try await charger.answerCall("GetCompositeSchedule", with: schedule) }
            let composite = try await client.call(
                .get, "/api/v1/stations/CP1/composite-schedule?connectorId=1&duration=3600&unit=W", token: admin)
            let request = try await asking.value
            #expect(request[3] == .object(JSONObject([("connectorId", .int(1)), ("duration", .int(3600)), ("chargingRateUnit", .string("W"))])))
            #expect(composite.status == .ok && composite["status"] as? String == "Accepted", "\(composite.object)")
            #expect(try await client.call(.get, "/api/v1/stations/CP1/composite-schedule?connectorId=1", token: admin).fieldErrors == ["duration"])
            await charger.close()
        }
    }
}

@Suite("Site load management: sessions starting and stopping share the site's power")
struct LoadManagementTests {
    /// Answers every SetChargingProfile of `chargers` with Accepted, keeping each one's last limit,
    /// until `done` holds (or 10 s pass).
    private static func answerProfiles(
        _ chargers: [String: TestCharger], limits: borrowing Mutex<[String: Double]>, until done: () async throws -> Bool
    ) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if try await done() { return true }
            for (id, charger) in chargers {
                guard let call = try? await charger.next(within: .milliseconds(5)) else { continue }
                guard call.count == 4, call[2] == .string("SetChargingProfile"), case .string(let messageID) = call[1] else { continue }
                let profile = call[3]["csChargingProfiles"]
                #expect(profile?["chargingSchedule"]?["chargingRateUnit"] == .string("W"))
                if profile?["chargingProfilePurpose"] == .string("TxDefaultProfile") {
                    #expect(call[3]["connectorId"] == .int(0), "the default covers every connector")
                } else if case .array(let periods)? = profile?["chargingSchedule"]?["chargingSchedulePeriod"],
                    case .double(let limit)? = periods.first?["limit"]
                {
                    limits.withLock { $0[id] = limit }
                } else if case .array(let periods)? = profile?["chargingSchedule"]?["chargingSchedulePeriod"],
                    case .int(let limit)? = periods.first?["limit"]
                {
                    limits.withLock { $0[id] = Double(limit) }
                }
                try await charger.send(#"[3,"\#(messageID)",{"status":"Accepted"}]"#)
            }
        }
        return try await done()
    }

    @Test("when a charger refuses its lower limit, nobody is raised: the site stays within its power")
    func failedLoweringStopsRaises() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            let site = try #require(
                try await client.call(.post, "/api/v1/sites", token: admin, json: ["name": "Depot", "maxPowerKw": 22])["id"] as? String)
            var chargers: [String: TestCharger] = [:]
            for id in ["CP1", "CP2"] {
                _ = try await client.call(
                    .post, "/api/v1/stations", token: admin,
                    json: stationBody(id, connectors: [["connectorId": 1, "type": "Type2", "maxPowerKw": 22]]))
                _ = try await client.call(.patch, "/api/v1/stations/\(id)", token: admin, json: ["siteId": site])
                try await client.acceptedTag("TAG-\(id)", token: admin)
                chargers[id] = try await TestCharger.connect(dependencies.ocpp, id: id, register: true)
            }
            let limits = Mutex<[String: Double]>([:])
            let placing = Task { try await dependencies.loadManager.rebalanceAll() }
            #expect(try await Self.answerProfiles(chargers, limits: limits) {
                try await dependencies.chargingProfiles.repository.stations(holdingActiveProfile: LoadManager.defaultProfileID).count == 2
            })
            try await placing.value
            let cp1 = try #require(chargers["CP1"]), cp2 = try #require(chargers["CP2"])
            try await cp1.send(#"[2,"s1","StartTransaction",{"connectorId":1,"idTag":"TAG-CP1","meterStart":0,"timestamp":"\#(isoNow())"}]"#)
            _ = try await cp1.next()
            #expect(try await Self.answerProfiles(chargers, limits: limits) {
                try await dependencies.loadManager.repository.siteAllocation(site).connectors.first?.acknowledgedLimitW == 22_000
            })

            try await cp2.send(#"[2,"s2","StartTransaction",{"connectorId":1,"idTag":"TAG-CP2","meterStart":0,"timestamp":"\#(isoNow())"}]"#)
            _ = try await cp2.next()
            let lower = try await cp1.answerCall("SetChargingProfile", with: #"{"status":"Rejected"}"#)
            #expect(lower[3]["csChargingProfiles"]?["chargingSchedule"]?["chargingSchedulePeriod"] == .array([
                .object(JSONObject([("startPeriod", .int(0)), ("limit", .int(11_000))]))
            ]) || lower[3]["csChargingProfiles"]?["chargingSchedule"]?["chargingSchedulePeriod"] == .array([
                .object(JSONObject([("startPeriod", .int(0)), ("limit", .double(11_000))]))
            ]), "\(lower)")
            try await Task.sleep(for: .milliseconds(500))
            #expect((try? await cp2.next(within: .milliseconds(300))) == nil, "CP2 was not raised")
            let allocation = try await dependencies.loadManager.repository.siteAllocation(site)
            #expect(allocation.connectors.first { $0.stationId == "CP2" }?.acknowledgedLimitW == nil)
            #expect(allocation.connectors.first { $0.stationId == "CP1" }?.acknowledgedLimitW == 22_000)
            for charger in chargers.values { await charger.close() }
        }
    }

    @Test("three chargers on a 22 kW site: limits follow starts and stops and never sum above 22 kW")
    func threeChargers() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            let site = try #require(
                try await client.call(.post, "/api/v1/sites", token: admin, json: ["name": "Depot", "maxPowerKw": 22])["id"] as? String)
            var chargers: [String: TestCharger] = [:]
            for id in ["CP1", "CP2", "CP3"] {
                _ = try await client.call(
                    .post, "/api/v1/stations", token: admin,
                    json: stationBody(id, connectors: [["connectorId": 1, "type": "Type2", "maxPowerKw": 22]]))
                _ = try await client.call(.patch, "/api/v1/stations/\(id)", token: admin, json: ["siteId": site])
                try await client.acceptedTag("TAG-\(id)", token: admin)
                chargers[id] = try await TestCharger.connect(dependencies.ocpp, id: id, register: true)
            }
            let limits = Mutex<[String: Double]>([:])
            // First every charger gets the 0 W default, so a session draws nothing before its share.
            let placing = Task { try await dependencies.loadManager.rebalanceAll() }
            #expect(
                try await Self.answerProfiles(chargers, limits: limits) {
                    try await dependencies.chargingProfiles.repository.stations(
                        holdingActiveProfile: LoadManager.defaultProfileID) == ["CP1", "CP2", "CP3"]
                })
            try await placing.value
            var transactions: [String: Int] = [:]

            func allocation() async throws -> SiteAllocation { try await dependencies.loadManager.repository.siteAllocation(site) }
            /// Waits until every charging connector accepted exactly `expected` (by station), checking the sum each time.
            func settled(_ expected: [String: ClosedRange<Int>]) async throws -> Bool {
                try await Self.answerProfiles(chargers, limits: limits) {
                    let current = try await allocation()
                    #expect(current.allocatedW <= 22_000)
                    let acknowledged = current.connectors.compactMap(\.acknowledgedLimitW).reduce(0, +)
                    #expect(acknowledged <= 22_000, "\(current.connectors)")
                    let byStation = Dictionary(uniqueKeysWithValues: current.connectors.map { ($0.stationId, $0) })
                    return byStation.count == expected.count
                        && expected.allSatisfy { station, range in
                            byStation[station].map { range.contains($0.limitW) && $0.acknowledgedLimitW == $0.limitW } ?? false
                        }
                }
            }
            func start(_ id: String) async throws {
                let charger = try #require(chargers[id])
                try await charger.send(
                    #"[2,"st-\#(id)","StartTransaction",{"connectorId":1,"idTag":"TAG-\#(id)","meterStart":0,"timestamp":"\#(isoNow())"}]"#)
                let reply = try await charger.next()
                guard case .int(let transaction)? = reply[2]["transactionId"] else { throw TestChargerError.notACall(reply) }
                transactions[id] = transaction
            }

            try await start("CP1")
            #expect(try await settled(["CP1": 22_000...22_000]))
            try await start("CP2")
            #expect(try await settled(["CP1": 11_000...11_000, "CP2": 11_000...11_000]))
            try await start("CP3")
            #expect(try await settled(["CP1": 7333...7334, "CP2": 7333...7334, "CP3": 7333...7334]))
            #expect(limits.withLock { $0.values.reduce(0, +) } <= 22_000)

            let stopping = try #require(chargers["CP1"])
            try await stopping.send(
                #"[2,"sp1","StopTransaction",{"transactionId":\#(transactions["CP1"]!),"meterStop":1000,"timestamp":"\#(isoNow())"}]"#)
            _ = try await stopping.next()
            #expect(try await settled(["CP2": 11_000...11_000, "CP3": 11_000...11_000]))
            let profiles = try await dependencies.chargingProfiles.repository.list(stationID: "CP2", status: .active)
            #expect(Set(profiles.map(\.purpose)) == ["TxDefaultProfile", "TxProfile"] && profiles.allSatisfy { $0.source == .loadManagement })
            #expect(profiles.first { $0.purpose == "TxProfile" }?.transactionId == transactions["CP2"])
            for charger in chargers.values { await charger.close() }
        }
    }
}
