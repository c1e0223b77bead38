import HTTPTypes
import Hummingbird
import Tracing

/// A server span for every request, named by method and route pattern (`GET /api/v1/stations/{id}`,
/// never the raw path, whose ids and query may hold tokens). An incoming W3C `traceparent`
/// becomes its parent; the response carries the span's own position in a `traceresponse` header
/// (W3C Trace Context Level 2: `00-<trace id>-<span id>-<flags>`). Outermost, so that the access log
/// line and everything the request does run inside the span. Added only when tracing is on.
struct HTTPTracingMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let tracer: any Tracer

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var parent = ServiceContext.topLevel
        tracer.extract(request.headers, into: &parent, using: HTTPFieldsExtractor())
        let method = request.method.rawValue
        let span = tracer.startSpan(method, context: parent, ofKind: .server)
        defer { span.end() }
        var attributes = SpanAttributes()
        attributes["http.request.method"] = method
        span.attributes = attributes

        var response: Response
        do {
            response = try await ServiceContext.$current.withValue(span.context) {
                try await next(request, context)
            }
        } catch {
            // Errors become problem responses inside; whatever still escapes is answered 500.
            name(span, method: method, context: context, status: 500)
            throw error
        }
        name(span, method: method, context: context, status: Int(response.status.code))
        if let position = Self.traceresponse(span.context, tracer: tracer) {
            response.headers[.traceresponse] = position
        }
        return response
    }

    private func name(_ span: any Span, method: String, context: Context, status: Int) {
        let route = context.endpointPath.flatMap { $0 == "NotFound" ? nil : $0 } ?? "unmatched"
        span.operationName = "\(method) \(route)"
        span.attributes["http.route"] = route
        span.attributes["http.response.status_code"] = status
        if status >= 500 { span.setStatus(SpanStatus(code: .error)) }
    }

    /// The span's `traceparent` as the propagator writes it, sent back as `traceresponse`.
    static func traceresponse(_ context: ServiceContext, tracer: any Tracer) -> String? {
        var carrier: [String: String] = [:]
        tracer.inject(context, into: &carrier, using: DictionaryInjector())
        return carrier["traceparent"]
    }
}

/// The role of the signed-in caller (token or dashboard session) on the request's span. Sits
/// after the authentication middlewares, which is where the role is known.
struct SpanRoleMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let tracer: any Tracer

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if let role = (context.identity ?? context.webSession?.identity)?.role, let current = ServiceContext.current,
            let span = tracer.activeSpan(identifiedBy: current)
        {
            span.attributes["enduser.role"] = role.rawValue
        }
        return try await next(request, context)
    }
}

struct HTTPFieldsExtractor: Extractor {
    func extract(key: String, from carrier: HTTPFields) -> String? {
        HTTPField.Name(key).flatMap { carrier[$0] }
    }
}

struct DictionaryInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
        carrier[key] = value
    }
}

extension HTTPField.Name {
    static let traceresponse = HTTPField.Name("traceresponse")!
}
