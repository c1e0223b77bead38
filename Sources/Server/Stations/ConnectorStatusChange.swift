import Foundation
import Storage

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

/// A change written to the history, with what to announce once its transaction has committed.
struct RecordedConnectorStatus: Sendable {
    let change: ConnectorStatusChange
    let raised: Alert?
    let resolved: [Alert]
}

/// Who hears about status changes: the monitoring service keeps the history and raises alerts.
protocol ConnectorStatusRecording: Sendable {
    func connectorStatusChanged(_ change: ConnectorStatusChange) async throws
    /// Writes the history row and alerts inside the caller's transaction, so that a connector and
    /// its history never disagree; nil when the change repeats the last recorded status.
    func record(_ change: ConnectorStatusChange, in connection: Connection) throws -> RecordedConnectorStatus?
    /// Announces a recorded change; call only after its transaction committed.
    func publish(_ recorded: RecordedConnectorStatus)
}

/// How `StationRepository.updateConnector` records the status change it makes, in its transaction.
struct ConnectorStatusHistory: Sendable {
    let recorder: any ConnectorStatusRecording
    /// The change to record for a connector before and after the update; nil when none.
    let describe: @Sendable (_ before: Connector, _ after: Connector) -> ConnectorStatusChange?
}
