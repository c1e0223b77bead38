import Hummingbird

/// Reads `Authorization: Bearer …` and, when the token is valid, puts the caller in the context.
/// It refuses nothing itself: `RoutePolicyMiddleware` refuses by the route table, with a refused
/// token's reason (kept here) as its 401's detail.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let tokens: TokenService

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let header = request.headers[.authorization] else { return try await next(request, context) }
        var context = context
        let parts = header.split(separator: " ", maxSplits: 1)
        if parts.count == 2, parts[0].lowercased() == "bearer" {
            switch await tokens.verify(accessToken: String(parts[1])) {
            case .success(let identity):
                context.identity = identity
                context.logger[metadataKey: "userId"] = .string(identity.userID)
            case .failure(let failure):
                context.authenticationFailure = failure
            }
        } else {
            context.authenticationFailure = .malformed
        }
        return try await next(request, context)
    }
}
