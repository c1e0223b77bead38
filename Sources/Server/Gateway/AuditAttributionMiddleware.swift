import Foundation
import Hummingbird
import Tracing

/// Puts the signed-in person of a state-changing request on every database write it makes, so the
/// audit triggers record who, from where and through which route (`AuditAttribution`). Runs after
/// authentication — the bearer token's or, for `/ui`, the dashboard session's identity — and after
/// the route policy, so a refused request never reaches it. Reads (GET, HEAD) change nothing and
/// go through untouched; so do requests without a person (login, a charger's upload).
struct AuditAttributionMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let tracer: (any Tracer)?
    let now: @Sendable () -> Date

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard request.method != .get, request.method != .head, let identity = context.identity else {
            return try await next(request, context)
        }
        let attribution = AuditAttribution(
            userId: identity.userID, role: identity.role.rawValue, address: context.clientAddress,
            userAgent: request.headers[.userAgent], requestId: context.requestID,
            traceId: AuditAttribution.traceID(request.headers, tracer: tracer),
            route: "\(request.method.rawValue) \(context.endpointPath ?? request.uri.path)", at: now())
        return try await attribution.bound { try await next(request, context) }
    }
}
