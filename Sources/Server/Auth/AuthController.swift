import Foundation
import Hummingbird
import Storage

/// `/api/v1/auth`: register, login, refresh, logout, me.
struct AuthController {
    let service: AuthService

    struct RegisterRequest: Decodable, Sendable {
        var email: String
        var password: String
        var name: String
    }

    struct LoginRequest: Decodable, Sendable {
        var email: String
        var password: String
    }

    struct RefreshRequest: Decodable, Sendable {
        var refreshToken: String
    }

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.post("/api/v1/auth/register") { request, _ in
            let body = try await request.decodeJSON(as: RegisterRequest.self)
            try UsersController.validateAccount(email: body.email, password: body.password, name: body.name)
            let (user, driver) = try await service.register(email: body.email, password: body.password, name: body.name)
            return try jsonResponse(UserView(user, driverID: driver.id), status: .created)
        }
        router.post("/api/v1/auth/login") { request, _ in
            let body = try await request.decodeJSON(as: LoginRequest.self)
            do {
                return try jsonResponse(try await service.login(email: body.email, password: body.password))
            } catch AuthService.Failure.invalidCredentials {
                throw APIError(
                    status: .unauthorized, slug: "invalid-credentials", title: "Unauthorized",
                    detail: "the email or password is wrong", headers: [.wwwAuthenticate: "Bearer"])
            } catch AuthService.Failure.throttled(let seconds) {
                throw APIError(
                    status: .tooManyRequests, slug: "too-many-requests", title: "Too many requests",
                    detail: "too many failed logins for this email; try again in \(seconds) s",
                    headers: [.retryAfter: String(seconds)])
            }
        }
        router.post("/api/v1/auth/refresh") { request, _ in
            let body = try await request.decodeJSON(as: RefreshRequest.self)
            return try jsonResponse(try await service.refresh(body.refreshToken))
        }
        router.post("/api/v1/auth/logout") { request, _ in
            let body = try await request.decodeJSON(as: RefreshRequest.self)
            _ = try await service.tokens.revokeFamily(of: body.refreshToken)
            // Unknown tokens get the same answer: logging out is idempotent and reveals nothing.
            return Response(status: .noContent)
        }
        router.post("/api/v1/auth/logout-all") { _, context in
            let identity = try context.requireSignedIn()
            try await service.logoutEverywhere(identity.userID)
            return Response(status: .noContent)
        }
        router.get("/api/v1/auth/me") { _, context in
            let identity = try context.requireSignedIn()
            let (user, driverID) = try await service.database.read { connection in
                (
                    try TableStore<User>.fetch(identity.userID, from: connection),
                    try connection.queryFirst("SELECT id FROM drivers WHERE user_id = ?", identity.userID) {
                        try $0.get(0, as: String.self)
                    }
                )
            }
            guard let user else { throw APIError.unauthorized(.revoked) }
            return try jsonResponse(UserView(user, driverID: driverID))
        }
    }
}
