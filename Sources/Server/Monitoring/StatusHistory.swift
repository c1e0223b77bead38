import Foundation
import Storage

/// Keeps every connector status change and station online/offline transition.
struct StatusHistory: ConnectorStatusRecording {
    let database: Database

    func connectorStatusChanged(_ change: ConnectorStatusChange) async {
        _ = try? await database.write { connection in
            try Self.record(change, in: connection)
        }
    }

    static func record(_ change: ConnectorStatusChange, in connection: Connection) throws {
        try connection.run(
            """
            INSERT INTO status_history
                (station_id, connector_id, kind, previous, current, error_code, info, vendor_error_code, source, at)
            VALUES (?, ?, 'connector', ?, ?, ?, ?, ?, ?, ?)
            """, change.stationID, change.connectorID, change.previous?.rawValue, change.current.rawValue,
            change.errorCode, change.info, change.vendorErrorCode, change.source.rawValue, change.at)
    }
}
