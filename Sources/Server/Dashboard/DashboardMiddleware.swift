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

    /// Whether `path` is the dashboard's, read as the router reads it: empty segments do not count,
    /// so `//ui/…` is the dashboard too and cannot slip past this edge.
    static func dashboardPath(_ path: String) -> String? {
        let normalized = "/" + path.split(separator: "/").joined(separator: "/")
        return normalized == "/" || normalized == "/ui" || normalized.hasPrefix("/ui/") ? normalized : nil
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let path = Self.dashboardPath(request.uri.path) else { return try await next(request, context) }
        var context = context
        context.identity = nil
        context.authenticationFailure = nil
        var response: Response
        do {
            // Assets are the same for everyone: no session read for them.
            if !path.hasPrefix("/ui/assets/"), let token = WebSessionService.token(in: request), let session = try await sessions.validate(token) {
                context.webSession = session
                context.identity = session.identity
                context.logger[metadataKey: "userId"] = .string(session.identity.userID)
            }
            if request.method == .post {
                // Browsers say where a form came from; one posted from another site is refused,
                // the sign-in form included (login CSRF: signing a victim in as someone else).
                guard Self.isSameOrigin(request) else {
                    throw APIError(
                        status: .forbidden, slug: "cross-site", title: "Cross-site form refused",
                        detail: "this form was not posted from this site")
                }
                var request = request
                let body = try await request.collectBody(upTo: .max)
                context.form = FormFields(urlEncoded: String(buffer: body))
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
                // Read from the raw query: a GET form sends a space as '+', which the router's
                // query parameters keep as '+'.
                context.form = FormFields(urlEncoded: request.uri.query ?? "")
                response = try await next(request, context)
            }
        } catch {
            response = Self.page(for: error, request: request, context: context)
        }
        Self.secure(&response.headers)
        return response
    }

    /// False when the browser says the request came from another site (`Sec-Fetch-Site`) or
    /// names another origin (`Origin`); a client that sends neither is not a browser form.
    /// `Sec-Fetch-Site` is the browser's own verdict, right behind a proxy that rewrites `Host`;
    /// `Origin` is compared with the host only for browsers that do not send it.
    static func isSameOrigin(_ request: Request) -> Bool {
        if let site = request.headers[.secFetchSite] { return site == "same-origin" || site == "none" }
        guard let origin = request.headers[.origin] else { return true }
        guard let host = request.head.authority else { return false }
        let stripped = origin.split(separator: "/", omittingEmptySubsequences: true)
        // "http://host:port" splits into ["http:", "host:port"].
        return stripped.count == 2 && stripped[1].lowercased() == host.lowercased()
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
        for field in problem.headers
        where [.retryAfter, RateLimitMiddleware.policyField, RateLimitMiddleware.stateField].contains(field.name) {
            response.headers.append(field)
        }
        return response
    }

    static func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
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
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
}
