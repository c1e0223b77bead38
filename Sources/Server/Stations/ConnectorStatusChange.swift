import Foundation

/// A connector's status changed — set by hand through the API, or reported by the charger.
struct ConnectorStatusChange: Sendable, Equatable {
    enum Source: String, Sendable, Codable {
        case api, ocpp
    }

    let stationID: String
    let connectorID: Int
    let previous: ConnectorStatus?
    let current: ConnectorStatus
    let errorCode: String?
    let info: String?
    let vendorErrorCode: String?
    let at: Date
    let source: Source
}

/// Who hears about status changes: the monitoring service keeps the history and raises alerts.
protocol ConnectorStatusRecording: Sendable {
    func connectorStatusChanged(_ change: ConnectorStatusChange) async throws
}
