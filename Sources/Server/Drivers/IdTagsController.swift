import Foundation
import Hummingbird
import Storage

/// `/api/v1/id-tags`: RFID cards and app tokens, and the authorizer for operators.
struct IdTagsController {
    let repository: DriverRepository
    let authorizer: IdTagAuthorizer
    let now: @Sendable () -> Date

    struct PutRequest: Decodable, Sendable {
        var status: String
        var driverId: String?
        var expiresAt: Date?
        var parentIdTag: String?
        var maxActiveTransactions: Int?
    }

    struct AuthorizeRequest: Decodable, Sendable {
        var forStartTransaction: Bool?
    }

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.put("/api/v1/id-tags/{idTag}") { request, context in
            let (stored, created) = try await put(try Self.tag(context), try await request.decodeJSON(as: PutRequest.self))
            return try jsonResponse(stored, status: created ? .created : .ok)
        }
        router.get("/api/v1/id-tags/{idTag}") { _, context in
            let identity = try context.requireSignedIn()
            let tag = try Self.tag(context)
            guard let idTag = try await repository.idTag(tag) else { throw APIError.notFound("no id tag \(tag)") }
            if identity.role == .driver {
                let own = try await idTag.driverId.asyncFlatMap { try await repository.get($0) }
                guard own?.userId == identity.userID else { throw APIError.notFound("no id tag \(tag)") }
            }
            return try jsonResponse(idTag)
        }
        router.get("/api/v1/id-tags") { request, context in
            let parameters = request.uri.queryParameters
            var validator = Validator()
            let status = validator.parse(parameters["status"].map(String.init), as: IdTagStatus.self, field: "status")
            let kind: IdTagKind? = parameters["kind"].flatMap { IdTagKind(rawValue: String($0)) }
            validator.check(parameters["kind"] == nil || kind != nil, "kind", "must be one of rfid, app")
            try validator.throwIfInvalid()
            let page = try await repository.idTags(
                status: status, driverID: parameters["driverId"].map(String.init), kind: kind,
                page: try PageRequest(from: parameters))
            return try jsonResponse(ListResponse(items: page.items, nextCursor: page.nextCursor))
        }
        router.delete("/api/v1/id-tags/{idTag}") { _, context in
            let tag = try Self.tag(context)
            guard try await repository.deleteIdTag(tag) else { throw APIError.notFound("no id tag \(tag)") }
            return Response(status: .noContent)
        }
        router.post("/api/v1/id-tags/{idTag}/authorize") { request, context in
            let tag = try Self.tag(context)
            let buffer = try await request.body.collect(upTo: .max)
            let body = buffer.readableBytes == 0 ? AuthorizeRequest() : try await request.decodeJSON(as: AuthorizeRequest.self)
            let info = try await authorizer.authorize(tag, forStartTransaction: body.forStartTransaction ?? false)
            return try jsonResponse(["idTagInfo": info])
        }
    }

    /// Creates or replaces a tag: the API's PUT and the dashboard's tag form. Returns whether it is new.
    func put(_ tag: String, _ body: PutRequest) async throws -> (IdTag, created: Bool) {
        var validator = Validator()
        let status = validator.parse(body.status, as: IdTagStatus.self, field: "status")
        if let parent = body.parentIdTag {
            validator.check(IdTag.isValid(parent), "parentIdTag", "must be 1–20 printable ASCII characters")
        }
        if let limit = body.maxActiveTransactions {
            validator.check(limit >= 1 && limit <= 100, "maxActiveTransactions", "must be from 1 to 100")
        }
        try validator.throwIfInvalid()
        let idTag = IdTag(
            id: tag, status: status!, kind: .rfid, driverId: body.driverId, expiresAt: body.expiresAt,
            parentIdTag: body.parentIdTag, maxActiveTransactions: body.maxActiveTransactions, now: now())
        return try await repository.upsert(idTag)
    }

    private static func tag(_ context: AppRequestContext) throws -> String {
        let tag = try context.parameters.require("idTag")
        guard IdTag.isValid(tag) else {
            throw APIError.validation(field: "idTag", "must be 1–20 printable ASCII characters")
        }
        return tag
    }
}

extension Optional {
    func asyncFlatMap<T>(_ transform: (Wrapped) async throws -> T?) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
