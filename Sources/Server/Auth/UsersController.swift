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
            let parameters = request.uri.queryParameters
            var validator = Validator()
            let role = validator.parse(parameters["role"].map(String.init), as: Role.self, field: "role")
            let status = validator.parse(parameters["status"].map(String.init), as: UserStatus.self, field: "status")
            try validator.throwIfInvalid()
            let users = try await service.users.list(role: role, status: status, page: try PageRequest(from: parameters))
            return try jsonResponse(ListResponse(items: users.items.map { UserView($0) }, nextCursor: users.nextCursor))
        }
        router.post("/api/v1/users") { request, context in
            let body = try await request.decodeJSON(as: CreateRequest.self)
            var validator = Validator()
            let role = validator.parse(body.role, as: Role.self, field: "role")
            try validator.throwIfInvalid()
            let (user, driver) = try await service.accounts.create(
                email: body.email, password: body.password, name: body.name, role: role!)
            return try jsonResponse(
                UserView(user, driverID: driver?.id), status: .created, headers: [.location: "/api/v1/users/\(user.id)"])
        }
        router.get("/api/v1/users/{id}") { _, context in
            let id = try context.parameters.require("id")
            guard let user = try await service.users.get(id) else { throw AuthError.userNotFound(id) }
            return try jsonResponse(UserView(user))
        }
        router.patch("/api/v1/users/{id}") { request, context in
            let id = try context.parameters.require("id")
            let body = try await request.decodeJSON(as: PatchRequest.self)
            var validator = Validator()
            validator.text(body.name, "name", length: 1...200)
            let role = validator.parse(body.role, as: Role.self, field: "role")
            let status = validator.parse(body.status, as: UserStatus.self, field: "status")
            if let password = body.password { PasswordPolicy.validate(password, into: &validator) }
            try validator.throwIfInvalid()
            let updated = try await service.updateUser(
                id, version: body.version, name: body.name, role: role, status: status, password: body.password)
            return try jsonResponse(UserView(updated))
        }
        router.delete("/api/v1/users/{id}") { _, context in
            try await service.deleteUser(try context.parameters.require("id"))
            return Response(status: .noContent)
        }
    }
}
