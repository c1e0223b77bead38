import Foundation
import Hummingbird
import NIOCore
import NIOPosix
import OCPP

/// Staff: `/api/v1/stations/{id}/firmware`, `…/signed-firmware`, `…/diagnostics`, `…/logs`, the
/// station's jobs and their files, and its security events. Chargers: `PUT|POST
/// /api/v1/uploads/{token}`, the single-use upload URL their GetDiagnostics or GetLog named.
struct StationJobsController {
    let service: StationJobService

    struct FirmwareRequest: Decodable, Sendable {
        var location: String
        var retrieveAt: Date
        var retries: Int?
        var retryIntervalSeconds: Int?
    }

    struct SignedFirmwareRequest: Decodable, Sendable {
        var location: String
        var retrieveAt: Date
        var installAt: Date?
        var signingCertificate: String
        var signature: String
        var retries: Int?
        var retryIntervalSeconds: Int?
    }

    struct DiagnosticsRequest: Decodable, Sendable {
        var startTime: Date?
        var stopTime: Date?
        var retries: Int?
        var retryIntervalSeconds: Int?
    }

    struct LogRequest: Decodable, Sendable {
        var logType: String
        var oldestTimestamp: Date?
        var latestTimestamp: Date?
        var retries: Int?
        var retryIntervalSeconds: Int?
    }

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post("/api/v1/stations/{id}/firmware") { request, context in
            let body = try await request.decodeJSON(as: FirmwareRequest.self)
            return try await started("UpdateFirmware", context) { id in
                try await service.updateFirmware(
                    stationID: id, location: body.location, retrieveAt: body.retrieveAt,
                    retries: .init(retries: body.retries, retryIntervalSeconds: body.retryIntervalSeconds), by: context.identity?.userID)
            }
        }
        router.post("/api/v1/stations/{id}/signed-firmware") { request, context in
            let body = try await request.decodeJSON(as: SignedFirmwareRequest.self)
            var validator = Validator()
            validator.text(body.signingCertificate, "signingCertificate", length: 1...5500)
            validator.text(body.signature, "signature", length: 1...800)
            try validator.throwIfInvalid()
            return try await started("SignedUpdateFirmware", context) { id in
                try await service.updateSignedFirmware(
                    stationID: id,
                    firmware: .init(
                        location: body.location, retrieveAt: body.retrieveAt, installAt: body.installAt,
                        signingCertificate: body.signingCertificate, signature: body.signature),
                    retries: .init(retries: body.retries, retryIntervalSeconds: body.retryIntervalSeconds), by: context.identity?.userID)
            }
        }
        router.post("/api/v1/stations/{id}/diagnostics") { request, context in
            let body = try await request.decodeJSON(as: DiagnosticsRequest.self)
            return try await started("GetDiagnostics", context) { id in
                try await service.getDiagnostics(
                    stationID: id, startTime: body.startTime, stopTime: body.stopTime,
                    retries: .init(retries: body.retries, retryIntervalSeconds: body.retryIntervalSeconds), by: context.identity?.userID)
            }
        }
        router.post("/api/v1/stations/{id}/logs") { request, context in
            let body = try await request.decodeJSON(as: LogRequest.self)
            var validator = Validator()
            let type = validator.parse(body.logType, as: OCPP16.GetLog.Request.LogEnumType.self, field: "logType")
            try validator.throwIfInvalid()
            return try await started("GetLog", context) { id in
                try await service.getLog(
                    stationID: id, type: type!, oldest: body.oldestTimestamp, latest: body.latestTimestamp,
                    retries: .init(retries: body.retries, retryIntervalSeconds: body.retryIntervalSeconds), by: context.identity?.userID)
            }
        }
        router.get("/api/v1/stations/{id}/jobs") { request, context in
            let id = try context.parameters.require("id")
            guard try await service.stations.station(id) != nil else { throw StationJobError.stationNotFound(id) }
            var validator = Validator()
            let kind = validator.parse(request.uri.queryParameters.text("kind"), as: StationJobKind.self, field: "kind")
            try validator.throwIfInvalid()
            return try jsonResponse(["items": try await service.repository.list(stationID: id, kind: kind)])
        }
        router.get("/api/v1/stations/{id}/jobs/{jobId}") { _, context in
            let job = try await service.repository.job(
                try context.parameters.require("jobId"), stationID: try context.parameters.require("id"))
            return try jsonResponse(job)
        }
        router.get("/api/v1/stations/{id}/jobs/{jobId}/file") { _, context in
            try Self.fileResponse(
                try await service.repository.job(try context.parameters.require("jobId"), stationID: try context.parameters.require("id")))
        }
        router.get("/api/v1/stations/{id}/security-events") { request, context in
            let id = try context.parameters.require("id")
            guard try await service.stations.station(id) != nil else { throw StationJobError.stationNotFound(id) }
            var limit = 100
            if let raw = request.uri.queryParameters.text("limit") {
                guard let value = Int(raw), (1...1000).contains(value) else {
                    throw APIError.validation(field: "limit", "must be from 1 to 1000")
                }
                limit = value
            }
            return try jsonResponse(["items": try await service.repository.securityEvents(stationID: id, limit: limit)])
        }
        for method in [HTTPRequest.Method.put, .post] {
            router.on("/api/v1/uploads/{token}", method: method) { request, context in
                try await upload(request, token: try context.parameters.require("token"))
                return Response(status: .created)
            }
        }
    }

    /// Starts a job on the route's station: 201 with it, or the charger's failure as a problem.
    private func started(
        _ action: String, _ context: AppRequestContext, _ start: (String) async throws -> StationJob
    ) async throws -> Response {
        let id = try context.parameters.require("id")
        let job = try await OCPPController.mapCallErrors(station: id, action: action) { try await start(id) }
        return try jsonResponse(job, status: .created)
    }

    /// Writes the body to the upload folder, at most `uploadMaxBytes`; the token is used up only
    /// by an upload that lands (a failed one may be sent again, as chargers retry).
    private func upload(_ request: Request, token: String) async throws {
        let settings = service.settings
        let maximum = settings.uploadMaxBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maximum {
            throw BodyLimitMiddleware.tooLarge(maximum)
        }
        // Ours are 43 URL-safe characters: anything else is not worth a lookup.
        guard token.utf8.count == 43, token.utf8.allSatisfy({ $0 == 0x2D || $0 == 0x5F || ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) }),
            let job = try await service.repository.claimUpload(tokenHash: TokenService.hash(token), at: service.now())
        else {
            throw StationJobError.uploadNotAccepted
        }
        let path = (settings.uploadDirectory as NSString).appendingPathComponent(job.id)
        var written = 0
        do {
            try FileManager.default.createDirectory(
                atPath: settings.uploadDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
                let file = FileHandle(forWritingAtPath: path)
            else { throw StationJobError.uploadNotAccepted }
            defer { try? file.close() }
            // File writes block: they run on NIO's thread pool, not the cooperative pool.
            for try await buffer in request.body {
                written += buffer.readableBytes
                guard written <= maximum else { throw BodyLimitMiddleware.tooLarge(maximum) }
                let data = Data(buffer.readableBytesView)
                try await NIOThreadPool.singleton.runIfActive { try file.write(contentsOf: data) }
            }
            try await NIOThreadPool.singleton.runIfActive { try file.synchronize() }
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            try await service.repository.finishUpload(job.id, path: nil, bytes: nil, at: service.now())
            throw BodyLimitMiddleware.clientError(for: error, maxBytes: maximum)
        }
        try await service.repository.finishUpload(job.id, path: path, bytes: written, at: service.now())
    }

    /// The job's uploaded file as a download; the dashboard serves it the same way.
    static func fileResponse(_ job: StationJob) throws -> Response {
        guard let path = job.uploadPath, let data = FileManager.default.contents(atPath: path) else {
            throw StationJobError.noFile(job.id)
        }
        let name = safeFileName(job.fileName ?? "\(job.kind.rawValue)-\(job.id)")
        return Response(
            status: .ok,
            headers: [.contentType: "application/octet-stream", .contentDisposition: "attachment; filename=\"\(name)\""],
            body: .init(byteBuffer: ByteBuffer(data: data)))
    }

    /// A charger's file name, safe in a Content-Disposition header.
    static func safeFileName(_ name: String) -> String {
        let allowed = name.unicodeScalars.map { scalar -> Character in
            CharacterSet.alphanumerics.contains(scalar) || "._-".unicodeScalars.contains(scalar) ? Character(scalar) : "_"
        }
        return String(String(allowed).prefix(100))
    }
}
