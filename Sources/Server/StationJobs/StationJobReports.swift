import Foundation

/// What chargers report about their jobs and security, applied: status notifications move the
/// job (and the station's last firmware and diagnostics status), a failure or a critical security
/// event raises an alert.
struct StationJobReports: Sendable {
    let jobs: StationJobRepository
    let stations: StationRepository
    let monitoring: MonitoringService
    let now: @Sendable () -> Date

    func firmwareStatus(stationID: String, _ status: String, requestID: Int? = nil, signed: Bool = false) async throws {
        let at = now()
        _ = try await stations.update(stationID, expectedVersion: nil, now: at) { $0.firmwareStatus = status }
        let job = try await jobs.recordStatus(
            stationID: stationID, kind: signed ? .signedFirmware : .firmware, requestID: requestID, status: status, at: at)
        if let job, job.failed, job.finishedAt == at {
            try await monitoring.raise(
                Alert(
                    kind: .firmwareFailed, severity: .warning, conditionKey: "firmware:\(stationID):\(job.id)", stationId: stationID,
                    connectorId: nil, message: "\(stationID): firmware update failed (\(status))",
                    details: ["jobId": job.id, "status": status, "location": job.location], at: at))
        }
    }

    func uploadStatus(stationID: String, _ status: String, kind: StationJobKind, requestID: Int? = nil) async throws {
        let at = now()
        if kind == .diagnostics {
            _ = try await stations.update(stationID, expectedVersion: nil, now: at) { $0.diagnosticsStatus = status }
        }
        let job = try await jobs.recordStatus(stationID: stationID, kind: kind, requestID: requestID, status: status, at: at)
        if let job, job.failed, job.finishedAt == at {
            try await monitoring.raise(
                Alert(
                    kind: .uploadFailed, severity: .warning, conditionKey: "upload:\(stationID):\(job.id)", stationId: stationID,
                    connectorId: nil, message: "\(stationID): \(kind.rawValue) upload failed (\(status))",
                    details: ["jobId": job.id, "status": status], at: at))
        }
    }

    /// Stored as reported; a critical type raises an alert.
    func securityEvent(stationID: String, type: String, occurredAt: Date, techInfo: String?) async throws {
        let at = now()
        let critical = SecurityEvent.criticalTypes.contains(type)
        let event = try await jobs.insertSecurityEvent(
            stationID: stationID, type: type, techInfo: techInfo, occurredAt: occurredAt, receivedAt: at, critical: critical)
        guard critical else { return }
        let severe: Set<String> = ["TamperDetectionActivated", "MemoryExhaustion", "SecurityLogWasCleared"]
        var details = ["type": type, "eventId": String(event.id)]
        if let techInfo { details["techInfo"] = String(techInfo.prefix(255)) }
        try await monitoring.raise(
            Alert(
                kind: .securityEvent, severity: severe.contains(type) ? .critical : .warning,
                // One open alert per station and type: a charger repeating an event does not flood alerts.
                conditionKey: "security:\(stationID):\(type)", stationId: stationID, connectorId: nil,
                message: "\(stationID) reported \(type)", details: details, at: at))
    }
}
