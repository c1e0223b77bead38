import Foundation

/// A station as a driver sees it: where it is, whether it is usable, its connectors and tariff.
/// No OCPP payloads, connection internals, hardware identifiers (ICCID, IMSI, serial numbers) or
/// charger configuration — those are for operators and admins (`StationView`).
struct PublicStationView: Encodable, Sendable {
    struct PublicConnector: Encodable, Sendable {
        var connectorId: Int
        var type: ConnectorType
        var maxPowerKw: Double
        var status: ConnectorStatus
    }

    var id: String
    var name: String
    var operatorId: String?
    var address: String?
    var latitude: Double?
    var longitude: Double?
    var status: StationStatus
    var online: Bool
    var tariffId: String?
    var connectors: [PublicConnector]
    var distanceKm: Double?

    init(_ view: StationView) {
        let station = view.station
        id = station.id
        name = station.name
        operatorId = station.operatorId
        address = station.address
        latitude = station.latitude
        longitude = station.longitude
        status = station.status
        online = station.online
        tariffId = station.tariffId
        connectors = view.connectors.map {
            PublicConnector(connectorId: $0.connectorId, type: $0.type, maxPowerKw: $0.maxPowerKw, status: $0.status)
        }
        distanceKm = view.distanceKm
    }
}
