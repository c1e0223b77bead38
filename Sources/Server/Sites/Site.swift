import Foundation
import Storage

/// A place whose stations share an address, a time zone and — optionally — a grid connection of
/// `maxPowerKw` that their sessions must not exceed together. Stations work without one.
struct Site: TableRecord, Codable {
    var id: String
    var version: Int64 = 0
    var name: String
    var address: String?
    /// An IANA zone ("Europe/Berlin"): the site's local day for analytics and schedules.
    var timeZone: String
    var maxPowerKw: Double?
    var createdAt: Date
    var updatedAt: Date

    static let tableName = "sites"
    static let columns = ["name", "address", "time_zone", "max_power_kw", "created_at", "updated_at"]
    static let sortableColumns = ["name", "created_at"]
    static let defaultSort = SortKey("name")

    var columnValues: [SQLValue] {
        [.text(name), address.sqlValue, .text(timeZone), maxPowerKw.sqlValue, createdAt.sqlValue, updatedAt.sqlValue]
    }

    init(id: String, name: String, timeZone: String, now: Date) {
        self.id = id
        self.name = name
        self.timeZone = timeZone
        createdAt = now
        updatedAt = now
    }

    init(row: Row) throws {
        id = try row.get("id")
        version = try row.get("version")
        name = try row.get("name")
        address = try row.get("address")
        timeZone = try row.get("time_zone")
        maxPowerKw = try row.get("max_power_kw")
        createdAt = try row.get("created_at")
        updatedAt = try row.get("updated_at")
    }

    /// A site's grid connection, in kW: above 0 and at most 100 MW.
    static let plausiblePowerKw: ClosedRange<Double> = 0.1...100_000
}

/// A site as the API shows it: with the stations assigned to it.
struct SiteView: Encodable, Sendable {
    var site: Site
    var stationIds: [String]

    func encode(to encoder: any Encoder) throws {
        try site.encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(stationIds, forKey: .stationIds)
    }

    private enum Keys: String, CodingKey { case stationIds }
}
