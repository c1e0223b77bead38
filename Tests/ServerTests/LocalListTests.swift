import Foundation
import HummingbirdTesting
import NIOWebSocket
import OCPP
import Testing

@testable import Server

@Suite("Local authorization lists: full and differential updates, versions, stale lists brought up to date")
struct LocalListTests {
    /// The SendLocalList CALL's payload, answered with `status`.
    private static func answerSendLocalList(_ charger: TestCharger, _ status: String = "Accepted") async throws -> JSONValue {
        let call = try await charger.answerCall("SendLocalList", with: #"{"status":"\#(status)"}"#)
        return call[3]
    }

    private static func entries(_ payload: JSONValue) -> [String] {
        guard case .array(let items)? = payload["localAuthorizationList"] else { return [] }
        return items.map { item in
            let tag = item["idTag"]?.stringValue ?? "?"
            guard let info = item["idTagInfo"] else { return tag + ":remove" }
            return tag + ":" + (info["status"]?.stringValue ?? "?") + (info["parentIdTag"]?.stringValue.map { "<" + $0 } ?? "")
        }
    }

    @Test("a full list holds every card (not app tokens); blocking one makes the list stale and the differential sends just it")
    func fullThenDifferential() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let (admin, charger) = try await client.connectStationCP1(dependencies)
            try await client.acceptedTag("CARD-A", token: admin)
            try await client.acceptedTag("CARD-B", parent: "FLEET", token: admin)
            try await client.acceptedTag("FLEET", token: admin)
            _ = try await client.call(.post, "/api/v1/auth/register", json: ["email": "d@example.com", "password": "driver-password-1", "name": "D"])

            let sending = Task { try await client.call(.post, "/api/v1/stations/CP1/local-list", token: admin, json: ["type": "full"]) }
            let full = try await Self.answerSendLocalList(charger)
            let reply = try await sending.value
            #expect(full["updateType"] == .string("Full") && full["listVersion"] == .int(1))
            #expect(Self.entries(full) == ["CARD-A:Accepted", "CARD-B:Accepted<FLEET", "FLEET:Accepted"], "no app token: \(full)")
            let state = try #require(reply["state"] as? [String: Any], "\(reply.object)")
            #expect(state["confirmedVersion"] as? Int == 1 && state["entries"] as? Int == 3 && state["stale"] as? Bool == false)
            #expect((reply["sent"] as? [String: Any])?["status"] as? String == "Accepted")

            _ = try await client.call(.put, "/api/v1/id-tags/CARD-A", token: admin, json: ["status": "Blocked"])
            let stale = try await client.call(.get, "/api/v1/stations/CP1/local-list", token: admin)
            #expect((stale["state"] as? [String: Any])?["stale"] as? Bool == true, "\(stale.object)")

            let updating = Task {
                try await client.call(.post, "/api/v1/stations/CP1/local-list", token: admin, json: ["type": "differential"])
            }
            let differential = try await Self.answerSendLocalList(charger)
            let updated = try await updating.value
            #expect(differential["updateType"] == .string("Differential") && differential["listVersion"] == .int(2))
            #expect(Self.entries(differential) == ["CARD-A:Blocked"])
            #expect((updated["state"] as? [String: Any])?["stale"] as? Bool == false)
            #expect((updated["state"] as? [String: Any])?["confirmedVersion"] as? Int == 2)

            // Nothing changed since: nothing is sent.
            let nothing = try await client.call(.post, "/api/v1/stations/CP1/local-list", token: admin, json: ["type": "differential"])
            #expect(nothing.status == .ok && nothing["sent"] == nil, "\(nothing.object)")
            try await Task.sleep(for: .milliseconds(100))
            #expect(try await charger.channel.readOutbound(as: WebSocketFrame.self) == nil)
            await charger.close()
        }
    }

    @Test("a removed card is sent as a removal by the sync of stale lists; an offline station keeps its mark")
    func syncRemovesDeletedTag() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let (admin, charger) = try await client.connectStationCP1(dependencies)
            try await client.acceptedTag("CARD-A", token: admin)
            try await client.acceptedTag("CARD-B", token: admin)
            let sending = Task { try await dependencies.localLists.send("CP1", type: .full) }
            _ = try await Self.answerSendLocalList(charger)
            _ = try await sending.value
            #expect(try await client.call(.delete, "/api/v1/id-tags/CARD-B", token: admin).status == .noContent)
            #expect(try await dependencies.localLists.repository.staleStations() == ["CP1"])

            let syncing = Task { try await dependencies.localLists.syncStale() }
            let differential = try await Self.answerSendLocalList(charger)
            try await syncing.value
            #expect(Self.entries(differential) == ["CARD-B:remove"])
            #expect(try await dependencies.localLists.repository.confirmedEntries("CP1").map(\.idTag) == ["CARD-A"])
            #expect(try await dependencies.localLists.repository.staleStations().isEmpty)

            // A new card marks every confirmed list; the sync skips a station that is not connected.
            await charger.close()
            #expect(await eventually { dependencies.ocpp.registry.connection("CP1") == nil })
            try await client.acceptedTag("CARD-C", token: admin)
            try await dependencies.localLists.syncStale()
            #expect(try await dependencies.localLists.repository.staleStations() == ["CP1"])
        }
    }

    @Test("a version mismatch makes the next update full; GetLocalListVersion's answer is kept")
    func versionMismatchAndChargerVersion() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let (admin, charger) = try await client.connectStationCP1(dependencies)
            try await client.acceptedTag("CARD-A", token: admin)
            let first = Task { try await dependencies.localLists.send("CP1", type: .full) }
            _ = try await Self.answerSendLocalList(charger)
            _ = try await first.value
            try await client.acceptedTag("CARD-B", token: admin)
            let second = Task { try await dependencies.localLists.send("CP1", type: .differential) }
            _ = try await Self.answerSendLocalList(charger, "VersionMismatch")
            let mismatch = try await second.value
            #expect(mismatch.state?.needsFull == true && mismatch.state?.confirmedVersion == 1 && mismatch.sent?.status == "VersionMismatch")

            let third = Task { try await dependencies.localLists.send("CP1", type: .differential) }
            let payload = try await Self.answerSendLocalList(charger)
            let recovered = try await third.value
            #expect(payload["updateType"] == .string("Full") && Self.entries(payload) == ["CARD-A:Accepted", "CARD-B:Accepted"])
            #expect(recovered.state?.needsFull == false && recovered.state?.confirmedVersion == 3)

            let asking = Task {
                try await client.call(.post, "/api/v1/stations/CP1/commands/get-local-list-version", token: admin)
            }
            try await charger.answerCall("GetLocalListVersion", with: #"{"listVersion":3}"#)
            #expect(try await asking.value.status == .ok)
            #expect(try await dependencies.localLists.repository.state("CP1")?.chargerVersion == 3)

            // The charger lost its list (a reset): the next update must be full, not built on version 3.
            let resetAsk = Task {
                try await client.call(.post, "/api/v1/stations/CP1/commands/get-local-list-version", token: admin)
            }
            try await charger.answerCall("GetLocalListVersion", with: #"{"listVersion":0}"#)
            _ = try await resetAsk.value
            let drifted = try #require(try await dependencies.localLists.repository.state("CP1"))
            #expect(drifted.chargerVersion == 0 && drifted.needsFull && drifted.stale)
            await charger.close()
        }
    }

    @Test("more entries than the charger's SendLocalListMaxLength is refused before sending; the passthrough's list is kept")
    func maximumAndPassthrough() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let (admin, charger) = try await client.connectStationCP1(dependencies)
            for tag in ["CARD-A", "CARD-B", "CARD-C"] { try await client.acceptedTag(tag, token: admin) }
            _ = try await dependencies.stations.update("CP1", expectedVersion: nil, now: Date()) {
                $0.configuration = ["SendLocalListMaxLength": "2"]
            }
            let refused = try await client.call(.post, "/api/v1/stations/CP1/local-list", token: admin, json: ["type": "full"])
            #expect(refused.status == .conflict && (refused["detail"] as? String)?.contains("at most 2") == true, "\(refused.object)")
            #expect(try await client.call(.post, "/api/v1/stations/CP1/local-list", token: admin, json: ["type": "some"]).fieldErrors == ["type"])

            let list = JSONValue.object(
                JSONObject([
                    ("listVersion", .int(40)), ("updateType", .string("Full")),
                    ("localAuthorizationList", .array([.object(JSONObject([("idTag", .string("RAW-1")), ("idTagInfo", .object(JSONObject([("status", .string("Accepted"))])))]))])),
                ]))
            let sending = Task { try await dependencies.ocpp.commands.passthrough("SendLocalList", payload: list, to: "CP1") }
            _ = try await Self.answerSendLocalList(charger)
            _ = try await sending.value
            let state = try #require(try await dependencies.localLists.repository.state("CP1"))
            #expect(state.confirmedVersion == 40 && state.version == 40 && state.entries == 1)
            #expect(state.stale, "the cards the passthrough left out are still due")
            await charger.close()
        }
    }
}
