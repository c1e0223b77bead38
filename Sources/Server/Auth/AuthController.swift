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
            let (user, driver) = try await service.register(email: body.email, password: body.password, name: body.name)
            return try jsonResponse(UserView(user, driverID: driver.id), status: .created)
        }
        router.post("/api/v1/auth/login") { request, _ in
            let body = try await request.decodeJSON(as: LoginRequest.self)
            do {
                return try jsonResponse(try await service.login(email: body.email, password: body.password))
            } catch AuthError.invalidCredentials {
                throw APIError(
                    status: .unauthorized, slug: "invalid-credentials", title: "Unauthorized",
                    detail: AuthError.invalidCredentials.description, headers: [.wwwAuthenticate: "Bearer"])
            }
        }
        router.post("/api/v1/auth/refresh") { request, _ in
            let body = try await request.decodeJSON(as: RefreshRequest.self)
            do {
                return try jsonResponse(try await service.refresh(body.refreshToken))
            } catch let error as AuthError {
                throw APIError(
                    status: .unauthorized, slug: error == .refreshTokenReused ? "refresh-token-reused" : "unauthorized",
                    title: "Unauthorized", detail: error.description)
            }
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
            guard let (user, driverID) = try await service.users.getWithDriverID(identity.userID) else {
                throw APIError.unauthorized(.revoked)
            }
            return try jsonResponse(UserView(user, driverID: driverID))
        }
    }
}
