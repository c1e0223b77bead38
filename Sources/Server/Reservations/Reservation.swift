import Foundation
import Storage

/// Where a reservation is in its life. `pending` and `active` are open; the rest are final.
enum ReservationStatus: String, Codable, Sendable, CaseIterable {
    /// Stored and sent; the charger has not answered yet.
    case pending
    /// The charger accepted it: the connector is held for the tag until `expiresAt`.
    case active
    /// The charger answered Faulted, Occupied, Rejected or Unavailable (`chargerAnswer`).
    case refused
    /// The call did not reach the charger or got no answer (`failure`).
    case failed
    /// A session started on it (`sessionId`).
    case used
    case expired
    case cancelled

    static let open: [ReservationStatus] = [.pending, .active]
    var isOpen: Bool { Self.open.contains(self) }
}

/// A connector (or, with connector 0, any connector) of a station held for one id tag until a
/// time — OCPP 1.6's ReserveNow, kept with the charger's answer and what became of it.
struct Reservation: TableRecord, Codable {
    var id: String
    var version: Int64 = 0
    var stationId: String
    /// 0: any connector of the station.
    var connectorId: Int
    /// The id the charger knows it by; unique among a station's reservations.
    var reservationId: Int
    var idTag: String
    var parentIdTag: String?
    var driverId: String?
    var expiresAt: Date
    var status: ReservationStatus
    /// ReserveNow's answer: Accepted, Faulted, Occupied, Rejected or Unavailable.
    var chargerAnswer: String?
    /// CancelReservation's answer, once cancelled.
    var cancelAnswer: String?
    /// Why a `failed` reservation did not reach the charger.
    var failure: String?
    var sessionId: String?
    var transactionId: Int?
    /// The user who asked for it (an operator, or the driver through their app).
    var createdBy: String?
    var createdAt: Date
    var updatedAt: Date
    var endedAt: Date?

    static let tableName = "reservations"
    static let columns = [
        "station_id", "connector_id", "reservation_id", "id_tag", "parent_id_tag", "driver_id", "expires_at", "status",
        "charger_answer", "cancel_answer", "failure", "session_id", "transaction_id", "created_by", "created_at",
        "updated_at", "ended_at",
    ]
    static let sortableColumns = ["created_at", "expires_at"]
    static let defaultSort = SortKey("created_at", descending: true)

    var columnValues: [SQLValue] {
        [
            .text(stationId), connectorId.sqlValue, reservationId.sqlValue, .text(idTag), parentIdTag.sqlValue,
            driverId.sqlValue, expiresAt.sqlValue, .text(status.rawValue), chargerAnswer.sqlValue, cancelAnswer.sqlValue,
            failure.sqlValue, sessionId.sqlValue, transactionId.sqlValue, createdBy.sqlValue, createdAt.sqlValue,
            updatedAt.sqlValue, endedAt.sqlValue,
        ]
    }

    init(
        id: String, stationId: String, connectorId: Int, reservationId: Int, idTag: String, parentIdTag: String?,
        driverId: String?, expiresAt: Date, createdBy: String?, now: Date
    ) {
        self.id = id
        self.stationId = stationId
        self.connectorId = connectorId
        self.reservationId = reservationId
        self.idTag = idTag
        self.parentIdTag = parentIdTag
        self.driverId = driverId
        self.expiresAt = expiresAt
        self.status = .pending
        self.createdBy = createdBy
        createdAt = now
        updatedAt = now
    }

    init(row: Row) throws {
        id = try row.get("id")
        version = try row.get("version")
        stationId = try row.get("station_id")
        connectorId = try row.get("connector_id")
        reservationId = try row.get("reservation_id")
        idTag = try row.get("id_tag")
        parentIdTag = try row.get("parent_id_tag")
        driverId = try row.get("driver_id")
        expiresAt = try row.get("expires_at")
        status = try row.decode("status")
        chargerAnswer = try row.get("charger_answer")
        cancelAnswer = try row.get("cancel_answer")
        failure = try row.get("failure")
        sessionId = try row.get("session_id")
        transactionId = try row.get("transaction_id")
        createdBy = try row.get("created_by")
        createdAt = try row.get("created_at")
        updatedAt = try row.get("updated_at")
        endedAt = try row.get("ended_at")
    }
}

/// Filters of the reservation listing.
struct ReservationQuery: Sendable {
    var stationID: String?
    var driverID: String?
    var status: ReservationStatus?

    var filter: QueryFilter {
        var filter = QueryFilter()
        if let stationID { filter.equals("station_id", stationID) }
        if let driverID { filter.equals("driver_id", driverID) }
        if let status { filter.equals("status", status.rawValue) }
        return filter
    }
}
