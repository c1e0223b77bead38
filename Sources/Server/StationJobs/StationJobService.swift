import Foundation
import OCPP

/// Asks chargers for firmware updates and for diagnostics and log uploads, through
/// `ChargePointCommands` (whose effects record the answer, so the passthrough's requests become
/// jobs too). Diagnostics and logs go to our own upload endpoint: a single-use URL whose token
/// only the charger gets (stored as its hash, redacted from the message log).
struct StationJobService: Sendable {
    let repository: StationJobRepository
    let stations: StationRepository
    let commands: ChargePointCommands
    let settings: Settings
    let now: @Sendable () -> Date

    struct Settings: Sendable {
        /// How chargers reach this server, e.g. `https://csms.example.com`; upload URLs start with it.
        var publicURL: String
        /// The data directory's folder for uploaded files.
        var uploadDirectory: String
        var uploadMaxBytes: Int
        /// How long an upload URL may be used.
        var uploadLifetime: TimeInterval = 86_400
    }

    struct Retries: Sendable {
        var retries: Int?
        var retryIntervalSeconds: Int?
    }

    func updateFirmware(
        stationID: String, location: String, retrieveAt: Date, retries: Retries, by userID: String?
    ) async throws -> StationJob {
        try checkLocation(location)
        try checkRetries(retries)
        try await requireConnected(stationID)
        let job = try await repository.insert(
            StationJob(stationId: stationID, kind: .firmware, requestId: nil, location: location, createdBy: userID, now: now()))
        return try await sending(job) {
            _ = try await commands.send(
                OCPP16.UpdateFirmware.self,
                .init(location: location, retries: retries.retries, retrieveDate: OCPPDateTime(retrieveAt), retryInterval: retries.retryIntervalSeconds),
                to: stationID)
        }
    }

    struct SignedFirmware: Sendable {
        var location: String
        var retrieveAt: Date
        var installAt: Date?
        var signingCertificate: String
        var signature: String
    }

    func updateSignedFirmware(stationID: String, firmware: SignedFirmware, retries: Retries, by userID: String?) async throws
        -> StationJob
    {
        try checkLocation(firmware.location)
        try checkRetries(retries)
        try await requireConnected(stationID)
        let job = try await repository.insert(
            StationJob(stationId: stationID, kind: .signedFirmware, requestId: nil, location: firmware.location, createdBy: userID, now: now()),
            assignRequestID: true)
        let requestID = job.requestId ?? 0
        return try await sending(job) {
            _ = try await commands.send(
                OCPP16.SignedUpdateFirmware.self,
                .init(
                    retries: retries.retries, retryInterval: retries.retryIntervalSeconds, requestId: requestID,
                    firmware: .init(
                        location: firmware.location, retrieveDateTime: OCPPDateTime(firmware.retrieveAt),
                        installDateTime: firmware.installAt.map(OCPPDateTime.init), signingCertificate: firmware.signingCertificate,
                        signature: firmware.signature)),
                to: stationID)
        }
    }

    func getDiagnostics(stationID: String, startTime: Date?, stopTime: Date?, retries: Retries, by userID: String?) async throws
        -> StationJob
    {
        try checkRetries(retries)
        if let startTime, let stopTime, startTime >= stopTime {
            throw StationJobError.invalid([FieldError(field: "stopTime", message: "must be after startTime")])
        }
        try await requireConnected(stationID)
        let (job, url) = try await uploadJob(stationID: stationID, kind: .diagnostics, by: userID)
        return try await sending(job) {
            _ = try await commands.send(
                OCPP16.GetDiagnostics.self,
                .init(
                    location: url, retries: retries.retries, retryInterval: retries.retryIntervalSeconds,
                    startTime: startTime.map(OCPPDateTime.init), stopTime: stopTime.map(OCPPDateTime.init)),
                to: stationID)
        }
    }

    func getLog(
        stationID: String, type: OCPP16.GetLog.Request.LogEnumType, oldest: Date?, latest: Date?, retries: Retries,
        by userID: String?
    ) async throws -> StationJob {
        try checkRetries(retries)
        if let oldest, let latest, oldest >= latest {
            throw StationJobError.invalid([FieldError(field: "latestTimestamp", message: "must be after oldestTimestamp")])
        }
        try await requireConnected(stationID)
        let (job, url) = try await uploadJob(stationID: stationID, kind: .log, by: userID)
        let requestID = job.requestId ?? 0
        return try await sending(job) {
            _ = try await commands.send(
                OCPP16.GetLog.self,
                .init(
                    log: .init(remoteLocation: url, oldestTimestamp: oldest.map(OCPPDateTime.init), latestTimestamp: latest.map(OCPPDateTime.init)),
                    logType: type, requestId: requestID, retries: retries.retries, retryInterval: retries.retryIntervalSeconds),
                to: stationID)
        }
    }

    /// A job whose charger uploads to us, and the URL (with its token) the charger gets.
    private func uploadJob(stationID: String, kind: StationJobKind, by userID: String?) async throws -> (StationJob, String) {
        let token = Identifiers.randomToken()
        let url = settings.publicURL + OCPPSecretRedaction.uploadPath + token
        var job = StationJob(
            stationId: stationID, kind: kind, requestId: nil,
            location: OCPPSecretRedaction.urlWithoutUploadToken(url) ?? url, createdBy: userID, now: now())
        job.uploadTokenHash = TokenService.hash(token)
        job.uploadExpiresAt = now().addingTimeInterval(settings.uploadLifetime)
        return (try await repository.insert(job, assignRequestID: kind == .log), url)
    }

    /// Runs the call; a call that fails ends the job failed, with the reason.
    private func sending(_ job: StationJob, _ call: () async throws -> Void) async throws -> StationJob {
        do {
            try await call()
        } catch {
            _ = try await repository.recordStatus(
                stationID: job.stationId, kind: job.kind, requestID: job.requestId, status: StationJob.notSent, at: now())
            throw error
        }
        return try await repository.job(job.id, stationID: job.stationId)
    }

    private func requireConnected(_ stationID: String) async throws {
        guard try await stations.station(stationID) != nil else { throw StationJobError.stationNotFound(stationID) }
        guard commands.connections.connection(stationID) != nil else { throw OutboundCallError.notConnected }
    }

    private func checkLocation(_ location: String) throws {
        let scheme = location.split(separator: ":", maxSplits: 1).first.map { $0.lowercased() } ?? ""
        guard ["http", "https", "ftp", "ftps"].contains(scheme), location.count <= 512, URL(string: location)?.host != nil else {
            throw StationJobError.invalid([
                FieldError(field: "location", message: "must be an http(s) or ftp(s) URL of at most 512 characters")
            ])
        }
    }

    private func checkRetries(_ retries: Retries) throws {
        var problems: [FieldError] = []
        if let count = retries.retries, !(0...100).contains(count) {
            problems.append(FieldError(field: "retries", message: "must be from 0 to 100"))
        }
        if let interval = retries.retryIntervalSeconds, !(0...86_400).contains(interval) {
            problems.append(FieldError(field: "retryIntervalSeconds", message: "must be from 0 to 86400"))
        }
        guard problems.isEmpty else { throw StationJobError.invalid(problems) }
    }
}
