import Foundation
import Hummingbird
import Storage

/// `/api/v1/sites`: staff manage sites; stations join one with `PATCH /stations/{id} {siteId}`.
struct SitesController {
    let sites: SiteRepository
    let now: @Sendable () -> Date

    /// Both the create body and the PATCH body: on PATCH only the given fields change.
    struct SiteInput: Decodable, Sendable {
        var version: Int64?
        var name: String?
        var address: FieldUpdate<String>
        var timeZone: String?
        var maxPowerKw: FieldUpdate<Double>

        enum CodingKeys: String, CodingKey { case version, name, address, timeZone, maxPowerKw }

        init(
            version: Int64? = nil, name: String? = nil, address: FieldUpdate<String> = .unchanged, timeZone: String? = nil,
            maxPowerKw: FieldUpdate<Double> = .unchanged
        ) {
            self.version = version
            self.name = name
            self.address = address
            self.timeZone = timeZone
            self.maxPowerKw = maxPowerKw
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            version = try container.decodeIfPresent(Int64.self, forKey: .version)
            name = try container.decodeIfPresent(String.self, forKey: .name)
            address = try container.update(String.self, forKey: .address)
            timeZone = try container.decodeIfPresent(String.self, forKey: .timeZone)
            maxPowerKw = try container.update(Double.self, forKey: .maxPowerKw)
        }

        func validate() throws {
            var validator = Validator()
            validator.text(name, "name", length: 1...200)
            validator.text(address.newValue ?? nil, "address", length: 0...500)
            if let timeZone {
                validator.check(TimeZone(identifier: timeZone) != nil, "timeZone", "must be an IANA time zone such as Europe/Berlin")
            }
            if case .set(let power?) = maxPowerKw {
                validator.check(Site.plausiblePowerKw.contains(power), "maxPowerKw", "must be from 0.1 to 100000")
            }
            try validator.throwIfInvalid()
        }

        func apply(to site: inout Site) {
            if let name { site.name = name }
            address.apply(to: &site.address)
            if let timeZone { site.timeZone = timeZone }
            maxPowerKw.apply(to: &site.maxPowerKw)
        }
    }

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("/api/v1/sites") { request, _ in
            let listed = try await sites.list(page: try PageRequest(from: request.uri.queryParameters))
            return try jsonResponse(ListResponse(items: listed.items, nextCursor: listed.nextCursor))
        }
        router.get("/api/v1/sites/{id}") { _, context in
            try jsonResponse(try await sites.site(try context.parameters.require("id")))
        }
        router.post("/api/v1/sites") { request, _ in
            let stored = try await create(try await request.decodeJSON(as: SiteInput.self))
            return try jsonResponse(stored, status: .created, headers: [.location: "/api/v1/sites/\(stored.site.id)"])
        }
        router.patch("/api/v1/sites/{id}") { request, context in
            let id = try context.parameters.require("id")
            return try jsonResponse(try await update(id, try await request.decodeJSON(as: SiteInput.self)))
        }
        router.delete("/api/v1/sites/{id}") { _, context in
            try await sites.delete(try context.parameters.require("id"))
            return Response(status: .noContent)
        }
    }

    // MARK: Writes shared with the dashboard

    func create(_ input: SiteInput) async throws -> SiteView {
        var missing = Validator()
        missing.check(input.name != nil, "name", "is required")
        try missing.throwIfInvalid()
        try input.validate()
        var site = Site(id: Identifiers.make(), name: input.name!, timeZone: input.timeZone ?? "UTC", now: now())
        input.apply(to: &site)
        return try await sites.create(site)
    }

    func update(_ id: String, _ input: SiteInput) async throws -> SiteView {
        try input.validate()
        return try await sites.update(id, expectedVersion: input.version, now: now()) { input.apply(to: &$0) }
    }
}
