import Foundation
import Storage

/// What a job asks of a charger.
enum StationJobKind: String, Codable, Sendable, CaseIterable {
    /// UpdateFirmware.
    case firmware
    /// SignedUpdateFirmware (security extension).
    case signedFirmware = "signed-firmware"
    /// GetDiagnostics, uploaded to our upload endpoint.
    case diagnostics
    /// GetLog (security extension), uploaded to our upload endpoint.
    case log

    /// Whether the charger uploads a file to us.
    var uploads: Bool { self == .diagnostics || self == .log }
}

/// A long-running request to a charger — a firmware update, a diagnostics or log upload — and
/// the statuses it went through (the charger's answer, then its status notifications).
struct StationJob: TableRecord, Encodable {
    struct Step: Codable, Sendable, Equatable {
        var status: String
        var at: Date
    }

    var id: String
    var version: Int64 = 0
    var stationId: String
    var kind: StationJobKind
    /// The requestId of GetLog and SignedUpdateFirmware, which their notifications name.
    var requestId: Int?
    /// Where the charger fetches the firmware from, or uploads to (our upload URL, without its token).
    var location: String
    var status: String
    var history: [Step]
    /// The charger's answer to the request (Accepted, Rejected, …; GetDiagnostics answers none).
    var chargerAnswer: String?
    /// The file name the charger announced for its upload.
    var fileName: String?
    var failed: Bool
    var uploadTokenHash: String?
    var uploadExpiresAt: Date?
    var uploadPath: String?
    var uploadBytes: Int?
    var uploadedAt: Date?
    var createdBy: String?
    var createdAt: Date
    var updatedAt: Date
    var finishedAt: Date?

    static let tableName = "station_jobs"
    static let columns = [
        "station_id", "kind", "request_id", "location", "status", "history", "charger_answer", "file_name", "failed",
        "upload_token_hash", "upload_expires_at", "upload_path", "upload_bytes", "uploaded_at", "created_by", "created_at",
        "updated_at", "finished_at",
    ]
    static let sortableColumns = ["created_at"]
    static let defaultSort = SortKey("created_at", descending: true)

    var columnValues: [SQLValue] {
        [
            .text(stationId), .text(kind.rawValue), requestId.sqlValue, .text(location), .text(status), .json(history),
            chargerAnswer.sqlValue, fileName.sqlValue, failed.sqlValue, uploadTokenHash.sqlValue, uploadExpiresAt.sqlValue,
            uploadPath.sqlValue, uploadBytes.sqlValue, uploadedAt.sqlValue, createdBy.sqlValue, createdAt.sqlValue,
            updatedAt.sqlValue, finishedAt.sqlValue,
        ]
    }

    init(stationId: String, kind: StationJobKind, requestId: Int?, location: String, createdBy: String?, now: Date) {
        id = Identifiers.make()
        self.stationId = stationId
        self.kind = kind
        self.requestId = requestId
        self.location = location
        status = "Requested"
        history = [Step(status: "Requested", at: now)]
        failed = false
        self.createdBy = createdBy
        createdAt = now
        updatedAt = now
    }

    init(row: Row) throws {
        id = try row.get("id")
        version = try row.get("version")
        stationId = try row.get("station_id")
        kind = try row.decode("kind")
        requestId = try row.get("request_id")
        location = try row.get("location")
        status = try row.get("status")
        history = try JSONDecoder().decode([Step].self, from: Data(try row.get("history", as: String.self).utf8))
        chargerAnswer = try row.get("charger_answer")
        fileName = try row.get("file_name")
        failed = try row.get("failed")
        uploadTokenHash = try row.get("upload_token_hash")
        uploadExpiresAt = try row.get("upload_expires_at")
        uploadPath = try row.get("upload_path")
        uploadBytes = try row.get("upload_bytes")
        uploadedAt = try row.get("uploaded_at")
        createdBy = try row.get("created_by")
        createdAt = try row.get("created_at")
        updatedAt = try row.get("updated_at")
        finishedAt = try row.get("finished_at")
    }

    /// Steps kept per job: a charger repeating a status must not grow its row without end.
    static let maximumHistory = 50

    /// Moves to `status`, kept in the history (a repeat of the last status is not); a final status
    /// finishes the job.
    mutating func move(to status: String, at: Date) {
        let repeated = self.status == status
        self.status = status
        if !repeated {
            history.append(Step(status: status, at: at))
            if history.count > Self.maximumHistory { history.removeFirst(history.count - Self.maximumHistory) }
        }
        updatedAt = at
        if let outcome = Self.outcome(of: status) {
            failed = !outcome
            finishedAt = finishedAt ?? at
        }
    }

    /// The status of a job whose request never got an answer (not connected, timeout, CALLERROR).
    static let notSent = "NotSent"

    /// true: the status ends the job well; false: it ends it failed; nil: not final.
    static func outcome(of status: String) -> Bool? {
        switch status {
        case "Installed", "Uploaded": true
        case "DownloadFailed", "InstallationFailed", "InstallVerificationFailed", "InvalidSignature", "UploadFailed",
            "UploadFailure", "BadMessage", "NotSupportedOperation", "PermissionDenied", "Rejected", "InvalidCertificate",
            "RevokedCertificate", "AcceptedCanceled", notSent:
            false
        default: nil
        }
    }

    /// Never on the wire: the upload token's hash and where the file lies on our disk.
    private enum CodingKeys: String, CodingKey {
        case id, version, stationId, kind, requestId, location, status, history, chargerAnswer, fileName, failed
        case uploadExpiresAt, uploadBytes, uploadedAt, createdBy, createdAt, updatedAt, finishedAt
    }
}

/// A SecurityEventNotification as received.
struct SecurityEvent: Codable, Sendable {
    var id: Int64
    var stationId: String
    var type: String
    var techInfo: String?
    var occurredAt: Date
    var receivedAt: Date
    var critical: Bool

    /// The security extension's critical events (its appendix): each raises an alert.
    static let criticalTypes: Set<String> = [
        "FirmwareUpdated", "SettingSystemTime", "StartupOfTheDevice", "ResetOrReboot", "SecurityLogWasCleared",
        "MemoryExhaustion", "TamperDetectionActivated",
    ]
}
