import Foundation
import Storage

/// Sites and which stations belong to them (`stations.site_id`).
struct SiteRepository: Sendable {
    let database: Database

    func list(page: PageRequest) async throws -> Page<SiteView> {
        try await database.read { connection in
            let sites = try TableStore<Site>.list(where: .all, sort: nil, page: page, in: connection)
            let members = try Self.stationIDs(of: sites.items.map(\.id), in: connection)
            return sites.map { SiteView(site: $0, stationIds: members[$0.id] ?? []) }
        }
    }

    func site(_ id: String) async throws -> SiteView {
        try await database.read { connection in
            guard let site = try TableStore<Site>.fetch(id, from: connection) else { throw SiteError.notFound(id) }
            return SiteView(site: site, stationIds: try Self.stationIDs(of: [id], in: connection)[id] ?? [])
        }
    }

    func create(_ site: Site) async throws -> SiteView {
        try await database.write { connection in
            SiteView(site: try TableStore<Site>.insert(site, into: connection), stationIds: [])
        }
    }

    /// Reads, changes and stores a site in one transaction; a stale `expectedVersion` is a conflict.
    func update(
        _ id: String, expectedVersion: Int64?, now: Date, _ change: @escaping @Sendable (inout Site) throws -> Void
    ) async throws -> SiteView {
        try await database.write { connection in
            guard var site = try TableStore<Site>.fetch(id, from: connection) else { throw SiteError.notFound(id) }
            let version = expectedVersion ?? site.version
            try change(&site)
            site.updatedAt = now
            let stored = try TableStore<Site>.update(site, expectedVersion: version, in: connection)
            return SiteView(site: stored, stationIds: try Self.stationIDs(of: [id], in: connection)[id] ?? [])
        }
    }

    /// Refused while stations belong to the site.
    func delete(_ id: String) async throws {
        try await database.write { connection in
            let members = try connection.query("SELECT id FROM stations WHERE site_id = ? ORDER BY id LIMIT 5", id) {
                try $0.get(0, as: String.self)
            }
            guard members.isEmpty else { throw SiteError.inUse(stationIDs: members) }
            guard try TableStore<Site>.delete(id, from: connection) else { throw SiteError.notFound(id) }
        }
    }

    static func stationIDs(of siteIDs: [String], in connection: Connection) throws -> [String: [String]] {
        guard !siteIDs.isEmpty else { return [:] }
        let placeholders = Array(repeating: "?", count: siteIDs.count).joined(separator: ", ")
        var members: [String: [String]] = [:]
        _ = try connection.query(
            "SELECT site_id, id FROM stations WHERE site_id IN (\(placeholders)) ORDER BY id",
            bindings: siteIDs.map(SQLValue.text)
        ) { row in
            members[try row.get("site_id", as: String.self), default: []].append(try row.get("id", as: String.self))
        }
        return members
    }
}
