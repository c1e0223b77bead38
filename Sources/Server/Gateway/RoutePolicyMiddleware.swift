import Hummingbird

/// Enforces `RoutePolicy` on the matched route: 401 without a valid token, 403 with the wrong
/// role, before the handler runs. A route with no entry is refused (and fails the role tests),
/// so forgetting the check cannot open a route.
struct RoutePolicyMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        // Router middleware runs once the route is resolved; no pattern means no route (404/405).
        guard let pattern = context.endpointPath else { return try await next(request, context) }
        guard let access = RoutePolicy.access(method: request.method.rawValue, pattern: pattern) else {
            throw APIError.forbidden("this route has no declared access policy")
        }
        if access != .anyone {
            guard let identity = context.identity else {
                throw APIError.unauthorized(context.authenticationFailure ?? .missing)
            }
            guard access.allows(identity.role) else { throw APIError.forbidden() }
        }
        return try await next(request, context)
    }
}
