import Foundation
import Hummingbird
import HTTPTypes
import Logging

/// The edge of the dashboard (`/ui`), as `ProblemMiddleware` is the API's:
/// - signs the caller in from the session cookie only: a bearer token does not open the UI, and
///   the cookie opens nothing else (its path is `/ui`), so the API never rides on a cookie;
/// - parses form posts and refuses one without the session's CSRF token;
/// - turns errors into pages: 401 into a redirect to the sign-in page, the rest into an error page;
/// - sets the security headers on every response.
struct DashboardMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let sessions: WebSessionService

    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    static func isDashboard(_ path: String) -> Bool { path == "/ui" || path.hasPrefix("/ui/") || path == "/" }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        guard Self.isDashboard(path) else { return try await next(request, context) }
        var context = context
        context.identity = nil
        context.authenticationFailure = nil
        var response: Response
        do {
            if let token = Self.cookie(WebSessionService.cookieName, in: request), let session = try await sessions.validate(token) {
                context.webSession = session
                context.identity = session.identity
                context.logger[metadataKey: "userId"] = .string(session.identity.userID)
            }
            if request.method == .post {
                var request = request
                let body = try await request.collectBody(upTo: .max)
                context.form = FormFields(urlEncoded: String(buffer: body))
                // Signing in has no session yet; SameSite=Strict and form-action 'self' cover it.
                if path != "/ui/login" {
                    guard let session = context.webSession else { throw APIError.unauthorized(.missing) }
                    guard let presented = context.form["_csrf"], WebSessionService.constantTimeEquals(presented, session.csrfToken)
                    else {
                        throw APIError(
                            status: .forbidden, slug: "csrf", title: "The form has expired",
                            detail: "reload the page and submit the form again")
                    }
                }
                response = try await next(request, context)
            } else {
                response = try await next(request, context)
            }
        } catch {
            response = Self.page(for: error, request: request, context: context)
        }
        Self.secure(&response.headers)
        return response
    }

    static func secure(_ headers: inout HTTPFields) {
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.xFrameOptions] = "DENY"
        headers[.xContentTypeOptions] = "nosniff"
        headers[.referrerPolicy] = "same-origin"
        if headers[.cacheControl] == nil { headers[.cacheControl] = "no-store" }
    }

    private static func page(for error: any Error, request: Request, context: Context) -> Response {
        let problem = ProblemMiddleware.problem(for: error)
        if problem.status == .unauthorized {
            let next = request.method == .get ? request.uri.description : "/ui"
            return redirect(to: "/ui/login?next=" + (next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/ui"))
        }
        if problem.status.code >= 500 {
            context.logger.error("unexpected error", metadata: ["error": .string(String(reflecting: error))])
        }
        let body = DashboardLayout.errorPage(problem, requestID: context.requestID, session: context.webSession)
        var response = DashboardLayout.response(body, status: problem.status)
        for field in problem.headers where field.name == .retryAfter { response.headers.append(field) }
        return response
    }

    static func redirect(to location: String, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }

    static func cookie(_ name: String, in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name {
                    return parts[1].trimmingCharacters(in: .whitespaces)
                }
            }
        }
        return nil
    }
}

/// The fields of an `application/x-www-form-urlencoded` body. A repeated name keeps its first
/// value; at most `limit` fields are read (the body limit bounds the rest).
struct FormFields: Sendable {
    static let limit = 200
    private var values: [String: String] = [:]

    init() {}

    init(urlEncoded text: String) {
        for pair in text.split(separator: "&").prefix(Self.limit) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]), !name.isEmpty else { continue }
            let value = parts.count == 2 ? Self.decode(parts[1]) ?? "" : ""
            if values[name] == nil { values[name] = value }
        }
    }

    subscript(name: String) -> String? { values[name] }

    /// The field trimmed, nil when missing or empty.
    func text(_ name: String) -> String? {
        guard let value = values[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    private static func decode(_ part: Substring) -> String? {
        part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}

extension HTTPField.Name {
    static let contentSecurityPolicy = HTTPField.Name("Content-Security-Policy")!
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
    static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
}
