import Foundation
import Hummingbird
import Storage

/// `/api/v1/drivers` and `/api/v1/me/driver`. Operators and admins manage every driver; a driver
/// sees and edits only their own profile (another's answers 404, so existence does not leak).
struct DriversController {
    let repository: DriverRepository
    let now: @Sendable () -> Date

    struct CreateRequest: Decodable, Sendable {
        var name: String
        var email: String
        var phone: String?
        var status: String?
        var membership: String?
        var vehicles: [Vehicle]?
        var userId: String?
    }

    struct PatchRequest: Decodable, Sendable {
        var version: Int64?
        var name: String?
        var email: String?
        var phone: FieldUpdate<String>
        var status: String?
        var membership: String?
        var vehicles: [Vehicle]?
        var priority: Int?

        enum CodingKeys: String, CodingKey { case version, name, email, phone, status, membership, vehicles, priority }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            version = try container.decodeIfPresent(Int64.self, forKey: .version)
            name = try container.decodeIfPresent(String.self, forKey: .name)
            email = try container.decodeIfPresent(String.self, forKey: .email)
            phone = try container.update(String.self, forKey: .phone)
            status = try container.decodeIfPresent(String.self, forKey: .status)
            membership = try container.decodeIfPresent(String.self, forKey: .membership)
            vehicles = try container.decodeIfPresent([Vehicle].self, forKey: .vehicles)
            priority = try container.decodeIfPresent(Int.self, forKey: .priority)
        }
    }

    /// A driver's own profile, with the app token the app charges with.
    struct OwnProfile: Encodable, Sendable {
        var driver: Driver
        var idTags: [IdTag]
    }

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("/api/v1/drivers") { request, context in
            let parameters = request.uri.queryParameters
            var validator = Validator()
            let query = DriverQuery(
                text: parameters["q"].map(String.init),
                status: validator.parse(parameters["status"].map(String.init), as: DriverStatus.self, field: "status"),
                membership: validator.parse(
                    parameters["membership"].map(String.init), as: Membership.self, field: "membership"))
            try validator.throwIfInvalid()
            let page = try await repository.list(query, page: try PageRequest(from: parameters))
            return try jsonResponse(ListResponse(items: page.items, nextCursor: page.nextCursor))
        }
        router.post("/api/v1/drivers") { request, context in
            let created = try await create(try await request.decodeJSON(as: CreateRequest.self))
            return try jsonResponse(created, status: .created, headers: [.location: "/api/v1/drivers/\(created.id)"])
        }
        router.get("/api/v1/drivers/{id}") { _, context in
            let driver = try await visibleDriver(try context.parameters.require("id"), context: context)
            return try jsonResponse(driver)
        }
        router.patch("/api/v1/drivers/{id}") { request, context in
            let identity = try context.requireSignedIn()
            let existing = try await visibleDriver(try context.parameters.require("id"), context: context)
            let body = try await request.decodeJSON(as: PatchRequest.self)
            if identity.role == .driver, body.status != nil || body.membership != nil || body.email != nil || body.priority != nil {
                throw APIError.forbidden("drivers may change their name, phone and vehicles only")
            }
            var validator = Validator()
            validator.text(body.name, "name", length: 1...200)
            if let email = body.email { validator.check(EmailAddress.isValid(email), "email", "must be an email address") }
            if case .set(let phone?) = body.phone { validator.text(phone, "phone", length: 3...32) }
            let status = validator.parse(body.status, as: DriverStatus.self, field: "status")
            let membership = validator.parse(body.membership, as: Membership.self, field: "membership")
            Self.validate(body.vehicles, into: &validator)
            if let priority = body.priority { validator.check((-100...100).contains(priority), "priority", "must be from -100 to 100") }
            try validator.throwIfInvalid()
            let updated = try await repository.update(existing.id, expectedVersion: body.version, now: now()) { driver in
                if let name = body.name { driver.name = name }
                if let email = body.email { driver.email = email }
                body.phone.apply(to: &driver.phone)
                if let status { driver.status = status }
                if let membership { driver.membership = membership }
                if let vehicles = body.vehicles { driver.vehicles = vehicles }
                if let priority = body.priority { driver.priority = priority }
            }
            return try jsonResponse(updated)
        }
        router.delete("/api/v1/drivers/{id}") { _, context in
            let id = try context.parameters.require("id")
            guard try await repository.delete(id) else { throw APIError.notFound("no driver \(id)") }
            return Response(status: .noContent)
        }
        router.get("/api/v1/drivers/{id}/id-tags") { request, context in
            let driver = try await visibleDriver(try context.parameters.require("id"), context: context)
            let page = try await repository.idTags(
                status: nil, driverID: driver.id, kind: nil, page: try PageRequest(from: request.uri.queryParameters))
            return try jsonResponse(ListResponse(items: page.items, nextCursor: page.nextCursor))
        }
        router.get("/api/v1/me/driver") { _, context in
            let identity = try context.requireSignedIn()
            guard let driver = try await repository.driver(forUser: identity.userID) else {
                throw APIError.notFound("your account has no driver profile")
            }
            let tags = try await repository.idTags(
                status: nil, driverID: driver.id, kind: nil, page: PageRequest(limit: PageRequest.maximumLimit))
            return try jsonResponse(OwnProfile(driver: driver, idTags: tags.items))
        }
    }

    /// A new driver profile: the API's POST and the dashboard's driver form.
    func create(_ body: CreateRequest) async throws -> Driver {
        var validator = Validator()
        validator.text(body.name, "name", length: 1...200)
        validator.check(EmailAddress.isValid(body.email), "email", "must be an email address")
        validator.text(body.phone, "phone", length: 3...32)
        let status = validator.parse(body.status, as: DriverStatus.self, field: "status")
        let membership = validator.parse(body.membership, as: Membership.self, field: "membership")
        Self.validate(body.vehicles, into: &validator)
        try validator.throwIfInvalid()
        let driver = Driver(
            id: Identifiers.make(), userId: body.userId, name: body.name, email: body.email, phone: body.phone,
            status: status ?? .active, membership: membership ?? .basic, vehicles: body.vehicles ?? [], now: now())
        do {
            return try await repository.create(driver)
        } catch let error as SQLiteError where error.kind == .foreignKeyViolation {
            throw APIError.validation(field: "userId", "no user \(body.userId ?? "")")
        } catch let error as SQLiteError where error.kind == .uniqueViolation {
            throw APIError.conflict("user \(body.userId ?? "") already has a driver profile")
        }
    }

    /// The driver, if the caller may see it: staff see all, a driver only their own.
    private func visibleDriver(_ id: String, context: AppRequestContext) async throws -> Driver {
        let identity = try context.requireSignedIn()
        guard let driver = try await repository.get(id),
            identity.role != .driver || driver.userId == identity.userID
        else { throw APIError.notFound("no driver \(id)") }
        return driver
    }

    private static func validate(_ vehicles: [Vehicle]?, into validator: inout Validator) {
        for (index, vehicle) in (vehicles ?? []).enumerated() {
            validator.text(vehicle.make, "vehicles[\(index)].make", length: 1...100)
            validator.text(vehicle.model, "vehicles[\(index)].model", length: 1...100)
            if let battery = vehicle.batteryKwh {
                validator.check(battery > 0 && battery <= 1000, "vehicles[\(index)].batteryKwh", "must be above 0 and at most 1000")
            }
        }
        validator.check((vehicles?.count ?? 0) <= 20, "vehicles", "at most 20")
    }
}

enum EmailAddress {
    static func isValid(_ email: String) -> Bool {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
            !parts[1].hasPrefix("."), !parts[1].hasSuffix(".")
        else { return false }
        return email.unicodeScalars.allSatisfy { !$0.properties.isWhitespace && $0.value > 0x1F }
    }
}
