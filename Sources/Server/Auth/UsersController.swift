import Foundation
import Hummingbird
import Storage

/// `/api/v1/users`: account administration, admins only.
struct UsersController {
    let service: AuthService

    struct CreateRequest: Decodable, Sendable {
        var email: String
        var password: String
        var name: String
        var role: String
    }

    struct PatchRequest: Decodable, Sendable {
        var version: Int64?
        var name: String?
        var role: String?
        var status: String?
        var password: String?
    }

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("/api/v1/users") { request, context in
            try context.require(.admin)
            let parameters = request.uri.queryParameters
            var validator = Validator()
            var filter = QueryFilter()
            if let role = validator.parse(parameters["role"].map(String.init), as: Role.self, field: "role") {
                filter.equals("role", role.rawValue)
            }
            if let status = validator.parse(parameters["status"].map(String.init), as: UserStatus.self, field: "status") {
                filter.equals("status", status.rawValue)
            }
            try validator.throwIfInvalid()
            let page = try PageRequest(from: parameters)
            let query = filter
            let users = try await service.database.read {
                try TableStore<User>.list(where: query, sort: nil, page: page, in: $0)
            }
            return try jsonResponse(ListResponse(items: users.items.map { UserView($0) }, nextCursor: users.nextCursor))
        }
        router.post("/api/v1/users") { request, context in
            try context.require(.admin)
            let body = try await request.decodeJSON(as: CreateRequest.self)
            var validator = Validator()
            let role = validator.parse(body.role, as: Role.self, field: "role")
            try validator.throwIfInvalid()
            try Self.validateAccount(email: body.email, password: body.password, name: body.name)
            let (user, driverID) = try await service.createUser(
                email: body.email, password: body.password, name: body.name, role: role!)
            return try jsonResponse(
                UserView(user, driverID: driverID), status: .created, headers: [.location: "/api/v1/users/\(user.id)"])
        }
        router.get("/api/v1/users/{id}") { _, context in
            try context.require(.admin)
            let id = try context.parameters.require("id")
            guard let user = try await service.database.read({ try TableStore<User>.fetch(id, from: $0) }) else {
                throw APIError.notFound("no user \(id)")
            }
            return try jsonResponse(UserView(user))
        }
        router.patch("/api/v1/users/{id}") { request, context in
            try context.require(.admin)
            let id = try context.parameters.require("id")
            let body = try await request.decodeJSON(as: PatchRequest.self)
            var validator = Validator()
            validator.text(body.name, "name", length: 1...200)
            let role = validator.parse(body.role, as: Role.self, field: "role")
            let status = validator.parse(body.status, as: UserStatus.self, field: "status")
            if let password = body.password {
                validator.check(password.count >= PasswordHasher.minimumLength, "password", "must be at least 8 characters")
            }
            try validator.throwIfInvalid()
            let newHash = try await body.password.asyncFlatMap { try await service.hasher.hash($0) }
            let now = service.now()
            let updated = try await service.database.write { connection in
                guard var user = try TableStore<User>.fetch(id, from: connection) else {
                    throw APIError.notFound("no user \(id)")
                }
                let version = body.version ?? user.version
                let losesAdmin = user.role == .admin && ((role != nil && role != .admin) || status == .disabled)
                if losesAdmin, try Self.activeAdmins(in: connection) <= 1 {
                    throw APIError.conflict("this is the last active admin; create another admin first")
                }
                // A role change, a disable or a new password ends the sessions the user had.
                let endsSessions =
                    (role != nil && role != user.role) || (status == .disabled && user.status != .disabled)
                    || newHash != nil
                let reenabled = status == .active && user.status == .disabled
                if let name = body.name { user.name = name }
                if let role { user.role = role }
                if let status { user.status = status }
                if let newHash { user.passwordHash = newHash }
                user.updatedAt = now
                if endsSessions || reenabled {
                    user.tokensValidAfter = now
                }
                let saved = try TableStore<User>.update(user, expectedVersion: version, in: connection)
                if endsSessions {
                    try connection.run(
                        "UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", now, id)
                }
                return saved
            }
            service.tokens.revocations.setValidAfter(
                updated.status == .disabled ? .distantFuture : updated.tokensValidAfter, for: id)
            return try jsonResponse(UserView(updated))
        }
        router.delete("/api/v1/users/{id}") { _, context in
            try context.require(.admin)
            let id = try context.parameters.require("id")
            try await service.database.write { connection in
                guard let user = try TableStore<User>.fetch(id, from: connection) else {
                    throw APIError.notFound("no user \(id)")
                }
                if user.role == .admin, user.status == .active, try Self.activeAdmins(in: connection) <= 1 {
                    throw APIError.conflict("this is the last active admin; create another admin first")
                }
                _ = try TableStore<User>.delete(id, from: connection)
            }
            service.tokens.revocations.setValidAfter(.distantFuture, for: id)
            return Response(status: .noContent)
        }
    }

    private static func activeAdmins(in connection: Connection) throws -> Int {
        try connection.queryFirst("SELECT count(*) FROM users WHERE role = 'admin' AND status = 'active'") {
            try $0.get(0, as: Int.self)
        } ?? 0
    }

    static func validateAccount(email: String, password: String, name: String) throws {
        var validator = Validator()
        validator.check(EmailAddress.isValid(email), "email", "must be an email address")
        validator.check(
            password.count >= PasswordHasher.minimumLength, "password",
            "must be at least \(PasswordHasher.minimumLength) characters")
        validator.check(password.utf8.count <= 72, "password", "must be at most 72 bytes (bcrypt's limit)")
        validator.text(name, "name", length: 1...200)
        try validator.throwIfInvalid()
    }
}
