import Foundation
import HummingbirdTesting
import NIOCore
import OCPP
import Testing

@testable import Server

private func isoTime(_ seconds: TimeInterval = 0) -> String { WireFormat.formatDate(Date().addingTimeInterval(seconds)) }

@Suite("Firmware, diagnostics and logs: jobs that follow the charger's notifications, uploads to our own URL")
struct StationJobTests {
    /// Sends a status notification from the charger and reads its answer.
    private static func notify(_ charger: TestCharger, _ action: String, _ payload: String) async throws {
        try await charger.send(#"[2,"n-\#(UUID().uuidString.prefix(8))","\#(action)",\#(payload)]"#)
        let reply = try await charger.next()
        #expect(reply.first == .int(3), "\(action) answered \(reply)")
    }

    @Test("an update goes Downloading → Installed and finishes well; a failed one raises an alert")
    func firmware() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let (admin, charger) = try await client.connectStationCP1(dependencies)
            let retrieveAt = isoTime(60)
            let answering = Task { try await charger.answerCall("UpdateFirmware", with: "{}") }
            let created = try await client.call(
                .post, "/api/v1/stations/CP1/firmware", token: admin,
                json: ["location": "https://files.example.com/fw-2.1.bin", "retrieveAt": retrieveAt, "retries": 3])
            let call = try await answering.value
            #expect(created.status == .created && created["status"] as? String == "Sent", "\(created.object)")
            #expect(call[3]["location"] == .string("https://files.example.com/fw-2.1.bin") && call[3]["retries"] == .int(3))
            let id = try #require(created["id"] as? String)
            for status in ["Downloading", "Downloaded", "Installing", "Installed"] {
                try await Self.notify(charger, "FirmwareStatusNotification", #"{"status":"\#(status)"}"#)
            }
            let job = try await client.call(.get, "/api/v1/stations/CP1/jobs/\(id)", token: admin)
            #expect(job["status"] as? String == "Installed" && job["failed"] as? Bool == false && job["finishedAt"] != nil)
            #expect((job["history"] as? [[String: Any]])?.compactMap { $0["status"] as? String } == [
                "Requested", "Sent", "Downloading", "Downloaded", "Installing", "Installed",
            ])
            #expect(try await dependencies.stations.station("CP1")?.firmwareStatus == "Installed")

            let again = Task { try await charger.answerCall("UpdateFirmware", with: "{}") }
            _ = try await client.call(
                .post, "/api/v1/stations/CP1/firmware", token: admin,
                json: ["location": "ftp://files.example.com/fw-2.2.bin", "retrieveAt": retrieveAt])
            _ = try await again.value
            try await Self.notify(charger, "FirmwareStatusNotification", #"{"status":"DownloadFailed"}"#)
            let alerts = try await client.call(.get, "/api/v1/alerts?stationId=CP1", token: admin)
            #expect(alerts.items.contains { $0["kind"] as? String == "firmware_failed" }, "\(alerts.object)")
            let refused = try await client.call(
                .post, "/api/v1/stations/CP1/firmware", token: admin, json: ["location": "file:///etc/passwd", "retrieveAt": retrieveAt])
            #expect(refused.fieldErrors == ["location"])
            await charger.close()
        }
    }

    @Test("diagnostics upload once to a URL whose token never reaches the log, land in the data directory, and download")
    func diagnosticsUpload() async throws {
        try await withApp(withAdmin.merging(["uploadMaxMegabytes": "1", "publicUrl": "https://csms.example.com/"]) { $1 }) {
            client, dependencies async throws in
            let (admin, charger) = try await client.connectStationCP1(dependencies)
            let answering = Task { try await charger.answerCall("GetDiagnostics", with: #"{"fileName":"diag-CP1.tar.gz"}"#) }
            let created = try await client.call(.post, "/api/v1/stations/CP1/diagnostics", token: admin, json: ["retries": 1])
            let call = try await answering.value
            #expect(created.status == .created && created["fileName"] as? String == "diag-CP1.tar.gz", "\(created.object)")
            let url = try #require(call[3]["location"]?.stringValue)
            #expect(url.hasPrefix("https://csms.example.com/api/v1/uploads/") && url.count > 50, "\(url)")
            let path = String(url.dropFirst("https://csms.example.com".count))
            let token = String(path.dropFirst("/api/v1/uploads/".count))
            #expect(created["location"] as? String == "https://csms.example.com/api/v1/uploads/[redacted]")

            let log = try await dependencies.ocpp.recorder.recent(stationID: "CP1", limit: 10)
            #expect(!log.contains { $0.payload.contains(token) }, "the token is kept out of the message log")

            // Too large: refused, and the URL may be used again.
            let big = ByteBuffer(repeating: 0x41, count: (1 << 20) + 1)
            let tooLarge = try await client.execute(uri: path, method: .put, headers: [:], body: big) { $0.status }
            #expect(tooLarge == .contentTooLarge)
            let content = "log line 1\nlog line 2\n"
            let uploaded = try await client.execute(uri: path, method: .put, headers: [:], body: ByteBuffer(string: content)) { $0.status }
            #expect(uploaded == .created)
            let twice = try await client.execute(uri: path, method: .post, headers: [:], body: ByteBuffer(string: "again")) { $0.status }
            #expect(twice == .notFound, "single use")
            #expect(try await client.execute(uri: "/api/v1/uploads/nope", method: .put, headers: [:], body: ByteBuffer(string: "x")) { $0.status } == .notFound)

            let id = try #require(created["id"] as? String)
            let stored = try await dependencies.jobs.repository.job(id, stationID: "CP1")
            let file = try #require(stored.uploadPath)
            #expect(file.hasPrefix(dependencies.configuration.dataDirectory) && stored.uploadBytes == content.utf8.count)
            #expect(FileManager.default.contents(atPath: file) == Data(content.utf8))
            let permissions = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
            #expect(permissions == 0o600)
            let download = try await client.execute(
                uri: "/api/v1/stations/CP1/jobs/\(id)/file", method: .get, headers: [.authorization: "Bearer \(admin)"]
            ) { ($0.status, String(buffer: $0.body), $0.headers[.contentDisposition]) }
            #expect(download.0 == .ok && download.1 == content && download.2?.contains("diag-CP1.tar.gz") == true)

            try await Self.notify(charger, "DiagnosticsStatusNotification", #"{"status":"Uploaded"}"#)
            let done = try await dependencies.jobs.repository.job(id, stationID: "CP1")
            #expect(done.status == "Uploaded" && !done.failed && done.finishedAt != nil)
            await charger.close()
        }
    }

    @Test("an upload URL expires unused")
    func uploadExpiry() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let (admin, charger) = try await client.connectStationCP1(dependencies)
            let answering = Task { try await charger.answerCall("GetDiagnostics", with: "{}") }
            _ = try await client.call(.post, "/api/v1/stations/CP1/diagnostics", token: admin, json: [:])
            let call = try await answering.value
            let token = String(try #require(call[3]["location"]?.stringValue).split(separator: "/").last!)
            let later = Date().addingTimeInterval(dependencies.jobs.settings.uploadLifetime + 60)
            #expect(try await dependencies.jobs.repository.claimUpload(tokenHash: TokenService.hash(token), at: later) == nil)
            #expect(try await dependencies.jobs.repository.claimUpload(tokenHash: TokenService.hash(token), at: Date()) != nil)
            await charger.close()
        }
    }

    @Test("GetLog and SignedUpdateFirmware carry request ids their notifications name; the passthrough starts jobs too")
    func requestIDsAndPassthrough() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let (admin, charger) = try await client.connectStationCP1(dependencies)
            let logging = Task { try await charger.answerCall("GetLog", with: #"{"status":"Accepted","filename":"security.log"}"#) }
            let log = try await client.call(
                .post, "/api/v1/stations/CP1/logs", token: admin, json: ["logType": "SecurityLog", "oldestTimestamp": isoTime(-3600)])
            let logCall = try await logging.value
            #expect(log["requestId"] as? Int == 1 && log["status"] as? String == "Accepted" && log["fileName"] as? String == "security.log")
            #expect(logCall[3]["requestId"] == .int(1) && logCall[3]["logType"] == .string("SecurityLog"))

            let signing = Task { try await charger.answerCall("SignedUpdateFirmware", with: #"{"status":"Accepted"}"#) }
            let signed = try await client.call(
                .post, "/api/v1/stations/CP1/signed-firmware", token: admin,
                json: [
                    "location": "https://files.example.com/fw.bin", "retrieveAt": isoTime(), "signingCertificate": "-----BEGIN CERTIFICATE-----",
                    "signature": "c2lnbmF0dXJl",
                ])
            _ = try await signing.value
            #expect(signed["requestId"] as? Int == 2 && signed["kind"] as? String == "signed-firmware", "\(signed.object)")

            try await Self.notify(charger, "LogStatusNotification", #"{"status":"UploadFailure","requestId":1}"#)
            try await Self.notify(charger, "SignedFirmwareStatusNotification", #"{"status":"InvalidSignature","requestId":2}"#)
            let jobs = try await dependencies.jobs.repository.list(stationID: "CP1", kind: nil)
            #expect(jobs.first { $0.kind == .log }?.status == "UploadFailure" && jobs.first { $0.kind == .log }?.failed == true)
            #expect(jobs.first { $0.kind == .signedFirmware }?.status == "InvalidSignature")

            let raw = JSONValue.object(JSONObject([("location", .string("https://files.example.com/raw.bin")), ("retrieveDate", .string(isoTime()))]))
            let sending = Task { try await dependencies.ocpp.commands.passthrough("UpdateFirmware", payload: raw, to: "CP1") }
            try await charger.answerCall("UpdateFirmware", with: "{}")
            _ = try await sending.value
            let firmware = try await dependencies.jobs.repository.list(stationID: "CP1", kind: .firmware)
            #expect(firmware.map(\.location) == ["https://files.example.com/raw.bin"] && firmware.first?.status == "Sent")
            await charger.close()
        }
    }

    @Test("security events are stored as reported; the critical ones raise an alert")
    func securityEvents() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let (admin, charger) = try await client.connectStationCP1(dependencies)
            try await Self.notify(
                charger, "SecurityEventNotification", #"{"type":"TamperDetectionActivated","timestamp":"\#(isoTime())","techInfo":"lid open"}"#)
            try await Self.notify(charger, "SecurityEventNotification", #"{"type":"InvalidMessages","timestamp":"\#(isoTime())"}"#)
            let events = try await client.call(.get, "/api/v1/stations/CP1/security-events", token: admin)
            #expect(events.items.map { $0["type"] as? String } == ["InvalidMessages", "TamperDetectionActivated"])
            #expect(events.items.map { $0["critical"] as? Bool } == [false, true])
            let alerts = try await client.call(.get, "/api/v1/alerts?stationId=CP1", token: admin)
            let security = alerts.items.filter { $0["kind"] as? String == "security_event" }
            #expect(security.count == 1 && security.first?["severity"] as? String == "critical", "\(alerts.object)")
            await charger.close()
        }
    }
}

@Suite("AuthorizationKey rotation")
struct AuthorizationKeyRotationTests {
    @Test("a random 40-hex key is sent; the stored password switches only when the charger accepts")
    func rotation() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let (admin, charger) = try await client.connectStationCP1(dependencies)
            _ = try await client.call(.put, "/api/v1/stations/CP1/credentials", token: admin, json: ["password": "old-password-0123456"])
            let before = try #require(try await dependencies.stations.station("CP1")?.passwordHash)

            let refusing = Task { try await charger.answerCall("ChangeConfiguration", with: #"{"status":"Rejected"}"#) }
            let refused = try await client.call(.post, "/api/v1/stations/CP1/credentials/rotate", token: admin)
            _ = try await refusing.value
            #expect(refused["status"] as? String == "Rejected" && refused["rotated"] as? Bool == false)
            #expect(try await dependencies.stations.station("CP1")?.passwordHash == before)

            let accepting = Task { try await charger.answerCall("ChangeConfiguration", with: #"{"status":"Accepted"}"#) }
            let rotated = try await client.call(.post, "/api/v1/stations/CP1/credentials/rotate", token: admin)
            let call = try await accepting.value
            let key = try #require(call[3]["value"]?.stringValue)
            #expect(call[3]["key"] == .string("AuthorizationKey"))
            #expect(key.count == 40 && key.allSatisfy(\.isHexDigit), "\(key.count) characters")
            #expect(rotated["rotated"] as? Bool == true && rotated.object.count == 2, "the key is never returned: \(rotated.object)")
            let after = try #require(try await dependencies.stations.station("CP1")?.passwordHash)
            #expect(ChargePointPassword.verify(key, against: after) && !ChargePointPassword.verify("old-password-0123456", against: after))
            let log = try await dependencies.ocpp.recorder.recent(stationID: "CP1", limit: 5)
            #expect(!log.contains { $0.payload.contains(key) }, "the key is redacted from the log")
            await charger.close()
        }
    }
}

@Suite("Hostile repeats and interrupted uploads")
struct StationJobRobustnessTests {
    @Test("a repeated status is not kept twice, and the history keeps at most its last steps")
    func boundedHistory() {
        var job = StationJob(stationId: "CP1", kind: .firmware, requestId: nil, location: "https://x.example/fw", createdBy: nil, now: Date())
        for _ in 0..<500 { job.move(to: "Downloading", at: Date()) }
        #expect(job.history.map(\.status) == ["Requested", "Downloading"])
        for index in 0..<200 { job.move(to: "Step\(index)", at: Date()) }
        #expect(job.history.count == StationJob.maximumHistory && job.history.last?.status == "Step199")
    }

    @Test("an upload cut short by a crash frees its URL after the lease; a finished one never does")
    func uploadLease() async throws {
        try await withApp(withAdmin) { client, dependencies async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.post, "/api/v1/stations", token: admin, json: stationBody("CP1"))
            var job = StationJob(stationId: "CP1", kind: .diagnostics, requestId: nil, location: "x", createdBy: nil, now: Date())
            job.uploadTokenHash = TokenService.hash("token")
            job.uploadExpiresAt = Date().addingTimeInterval(86_400)
            let stored = try await dependencies.jobs.repository.insert(job)
            let repository = dependencies.jobs.repository
            #expect(try await repository.claimUpload(tokenHash: TokenService.hash("token"), at: Date()) != nil)
            // Claimed, then the process died: no path was written.
            #expect(try await repository.claimUpload(tokenHash: TokenService.hash("token"), at: Date()) == nil, "held by the first")
            let later = Date().addingTimeInterval(StationJobRepository.uploadLease + 1)
            #expect(try await repository.claimUpload(tokenHash: TokenService.hash("token"), at: later) != nil, "free after the lease")
            try await repository.finishUpload(stored.id, path: "/tmp/x", bytes: 1, at: later)
            #expect(try await repository.claimUpload(tokenHash: TokenService.hash("token"), at: later.addingTimeInterval(3600)) == nil)
        }
    }
}
