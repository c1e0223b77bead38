import Foundation
import HTTPTypes
import Hummingbird

enum Role: String, Codable, Sendable, CaseIterable {
    case admin, `operator`, driver
}

/// Who is calling, from a verified access token.
struct Identity: Sendable, Equatable {
    let userID: String
    let role: Role
}

/// Why a presented bearer token was not accepted; the 401's detail.
enum AuthenticationFailure: Error, Sendable, Equatable {
    case missing
    case malformed
    case invalid
    case expired
    case revoked

    var detail: String {
        switch self {
        case .missing: "this endpoint needs a bearer access token"
        case .malformed: "the Authorization header must be 'Bearer <token>'"
        case .invalid: "the access token is not valid"
        case .expired: "the access token has expired; refresh it"
        case .revoked: "the access token was revoked; log in again"
        }
    }
}

extension APIError {
    static func unauthorized(_ failure: AuthenticationFailure) -> APIError {
        APIError(
            status: .unauthorized, slug: "unauthorized", title: "Unauthorized", detail: failure.detail,
            headers: [.wwwAuthenticate: failure == .missing ? "Bearer" : "Bearer error=\"invalid_token\""])
    }

    static func forbidden(_ detail: String = "your role may not do this") -> APIError {
        APIError(status: .forbidden, slug: "forbidden", title: "Forbidden", detail: detail)
    }
}

extension AppRequestContext {
    /// The signed-in caller, for handlers that decide what the caller sees (whether the caller may
    /// call the route at all is `RoutePolicy`'s, enforced before the handler runs).
    @discardableResult
    func requireSignedIn() throws -> Identity {
        guard let identity else { throw APIError.unauthorized(authenticationFailure ?? .missing) }
        return identity
    }
}
