import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Observability
import Storage

/// Gives each request an id (the client's `X-Request-ID` if it sent a sane one), puts it in the
/// logger so every line of the request carries it, and echoes it in the response.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        let id = request.headers[.xRequestID].flatMap(Self.acceptable) ?? UUID().uuidString.lowercased()
        context.requestID = id
        context.logger[metadataKey: "hb.request.id"] = .string(id)
        var response = try await next(request, context)
        response.headers[.xRequestID] = id
        return response
    }

    /// Client ids are echoed into logs and headers, so only short printable ones are taken.
    static func acceptable(_ id: String) -> String? {
        guard (1...128).contains(id.utf8.count),
            id.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { return nil }
        return id
    }
}

/// Records every request's status and latency per service and route pattern, and writes the
/// access log line. It sits outside the problem middleware so it sees the final status.
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let metrics: RequestMetrics
    let services: ServiceRouteMap

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let clock = ContinuousClock()
        let start = clock.now
        let response = try await next(request, context)
        let elapsed = clock.now - start
        let route = context.endpointPath.flatMap { $0 == "NotFound" ? nil : $0 } ?? "unmatched"
        let service = services.service(forRoute: route)
        metrics.record(
            service: service, method: request.method.rawValue, route: route, status: response.status.code,
            duration: elapsed)
        context.logger.info(
            "request",
            metadata: [
                "method": .string(request.method.rawValue), "route": .string(route),
                "status": .stringConvertible(response.status.code),
                "durationMs": .string(String(format: "%.2f", elapsed.milliseconds)),
            ])
        return response
    }
}

/// Which in-process service owns a route: the longest registered base path that prefixes it.
struct ServiceRouteMap: Sendable {
    private let prefixes: [(path: String, service: String)]

    init(_ entries: [(basePath: String, service: String)]) {
        prefixes = entries.map { (path: $0.basePath, service: $0.service) }.sorted { $0.path.count > $1.path.count }
    }

    func service(forRoute route: String) -> String {
        for entry in prefixes where route == entry.path || route.hasPrefix(entry.path.hasSuffix("/") ? entry.path : entry.path + "/") {
            return entry.service
        }
        return "gateway"
    }
}

/// Turns every error into an `application/problem+json` response. Client mistakes get their 4xx;
/// anything unexpected is a 500 whose body holds only the request id, and whose cause is logged.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let routes: RouteTable

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            var problem = Self.problem(for: error)
            if problem.status == .notFound, context.endpointPath == "NotFound" {
                let allowed = routes.allowedMethods(forPath: request.uri.path)
                if !allowed.isEmpty {
                    problem = APIError(
                        status: .methodNotAllowed, slug: "method-not-allowed", title: "Method not allowed",
                        detail: "\(request.method.rawValue) is not allowed here; allowed: \(allowed.joined(separator: ", "))")
                    problem.headers[.allow] = allowed.joined(separator: ", ")
                } else {
                    problem.detail = "no route for \(request.method.rawValue) \(request.uri.path)"
                }
            }
            if problem.status.code >= 500 {
                context.logger.error("unexpected error", metadata: ["error": .string(String(reflecting: error))])
            }
            return Self.response(for: problem, requestID: context.requestID, instance: request.uri.path)
        }
    }

    static func response(for problem: APIError, requestID: String, instance: String?) -> Response {
        let body = ProblemDetails(
            type: "/problems/\(problem.slug)", title: problem.title, status: problem.status.code,
            detail: problem.detail, instance: instance, requestId: requestID, errors: problem.errors)
        var headers = problem.headers
        headers[.contentType] = ProblemDetails.contentType
        let data = (try? WireFormat.encoder.encode(body)) ?? Data()
        return Response(status: problem.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The one place where typed errors meet the wire.
    static func problem(for error: any Error) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as any DomainError:
            return problem(for: error)
        case let error as HTTPError:
            return APIError(
                status: error.status, slug: slug(for: error.status), title: error.status.reasonPhrase,
                detail: error.body, headers: error.headers)
        case let error as DecodingError:
            return decodingProblem(error)
        case let error as RecordNotFoundError:
            return .notFound(error.description)
        case let error as VersionConflictError:
            return .conflict(error.description)
        case let error as InvalidCursorError:
            return .validation(field: "cursor", error.description)
        case let error as InvalidSortError:
            return .validation(field: "sort", error.description)
        case let error as SQLiteError where error.kind == .uniqueViolation:
            return .conflict("a record with the same unique value already exists")
        case let error as SQLiteError where error.kind == .foreignKeyViolation:
            return APIError(
                status: .unprocessableContent, slug: "reference-error", title: "Invalid reference",
                detail: "a referenced record does not exist, or this record is still referenced")
        case let error as SQLiteError where error.kind == .full:
            return APIError(
                status: .init(code: 507, reasonPhrase: "Insufficient Storage"), slug: "insufficient-storage",
                title: "Insufficient storage", detail: "the database is full; the write was not saved: retry later")
        default:
            return APIError(
                status: .internalServerError, slug: "internal-error", title: "Internal server error",
                detail: "an unexpected error occurred; quote the request id when reporting it")
        }
    }

    /// Each domain error kind has one status; the error's own description is the detail.
    static func problem(for error: any DomainError) -> APIError {
        switch error.kind {
        case .notFound:
            return .notFound(error.description)
        case .invalid:
            return error.fields.isEmpty
                ? APIError(
                    status: .unprocessableContent, slug: "validation-error", title: "Validation failed",
                    detail: error.description)
                : .validation(error.fields, detail: error.description)
        case .conflict:
            return .conflict(error.description)
        case .forbidden:
            return .forbidden(error.description)
        case .rateLimited(let seconds):
            return APIError(
                status: .tooManyRequests, slug: "too-many-requests", title: "Too many requests",
                detail: error.description, headers: [.retryAfter: String(seconds)])
        case .unavailable:
            return APIError(
                status: .serviceUnavailable, slug: "service-unavailable", title: "Service unavailable",
                detail: error.description)
        case .insufficientStorage:
            return APIError(
                status: .init(code: 507, reasonPhrase: "Insufficient Storage"), slug: "insufficient-storage", title: "Insufficient storage",
                detail: error.description)
        }
    }

    private static func slug(for status: HTTPResponse.Status) -> String {
        switch status {
        case .badRequest: "bad-request"
        case .unauthorized: "unauthorized"
        case .forbidden: "forbidden"
        case .notFound: "not-found"
        case .methodNotAllowed: "method-not-allowed"
        case .conflict: "conflict"
        case .contentTooLarge: "content-too-large"
        case .unprocessableContent: "validation-error"
        case .tooManyRequests: "too-many-requests"
        case .serviceUnavailable: "service-unavailable"
        default: status.code >= 500 ? "internal-error" : "http-\(status.code)"
        }
    }

    private static func decodingProblem(_ error: DecodingError) -> APIError {
        func path(_ codingPath: [any CodingKey], appending key: (any CodingKey)? = nil) -> String {
            let keys = codingPath + (key.map { [$0] } ?? [])
            let text = keys.reduce(into: "") { text, key in
                if let index = key.intValue, key.stringValue.hasPrefix("Index") {
                    text += "[\(index)]"
                } else {
                    text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
                }
            }
            return text.isEmpty ? "body" : text
        }
        switch error {
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return .badRequest("the body is not valid JSON")
        case .dataCorrupted(let context):
            return .validation(field: path(context.codingPath), context.debugDescription)
        case .keyNotFound(let key, let context):
            return .validation(field: path(context.codingPath, appending: key), "is required")
        case .valueNotFound(_, let context):
            return .validation(field: path(context.codingPath), "must not be null")
        case .typeMismatch(let type, let context):
            if context.codingPath.isEmpty { return .badRequest("the body must be a JSON \(jsonTypeName(type))") }
            return .validation(field: path(context.codingPath), "must be \(jsonTypeName(type))")
        @unknown default:
            return .badRequest("the body could not be read")
        }
    }

    private static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "a boolean"
        case is Int.Type, is Int64.Type, is Int32.Type, is UInt64.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is [Any].Type: "an array"
        default: "an object"
        }
    }
}

/// Refuses bodies over the configured limit with 413 before a handler reads them.
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let maxBytes: Int

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        // A charger's upload streams to a file under its own, larger limit.
        if request.uri.path.hasPrefix(OCPPSecretRedaction.uploadPath) { return try await next(request, context) }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBytes {
            throw Self.tooLarge(maxBytes)
        }
        var request = request
        switch request.method {
        case .post, .put, .patch, .delete:
            do {
                _ = try await request.collectBody(upTo: maxBytes)
            } catch {
                throw Self.clientError(for: error, maxBytes: maxBytes)
            }
        default:
            break
        }
        return try await next(request, context)
    }

    /// A body that cannot be read is the client's fault when it is too large — a chunked body has no
    /// Content-Length to refuse up front — or malformed (a bad chunk size): 413 or 400, never a 500.
    static func clientError(for error: any Error, maxBytes: Int) -> any Error {
        switch error {
        case is NIOTooManyBytesError: tooLarge(maxBytes)
        case let error as HTTPError where error.status == .contentTooLarge: tooLarge(maxBytes)
        case let error as HTTPParserError: APIError.badRequest("the request body is malformed (\(error))")
        default: error
        }
    }

    static func tooLarge(_ maxBytes: Int) -> APIError {
        APIError(
            status: .contentTooLarge, slug: "content-too-large", title: "Content too large",
            detail: "the request body is larger than the limit of \(maxBytes) bytes")
    }
}

extension HTTPField.Name {
    static let xRequestID = HTTPField.Name("X-Request-ID")!
}

extension Request {
    /// Decodes the JSON body. Malformed JSON is a 400; well-formed JSON of the wrong shape is a
    /// 422 naming the field (see `ProblemMiddleware`).
    func decodeJSON<T: Decodable>(as type: T.Type = T.self) async throws -> T {
        let buffer: ByteBuffer
        do {
            // `BodyLimitMiddleware` has already read and bounded the body of every method that has one.
            buffer = try await body.collect(upTo: .max)
        } catch {
            throw BodyLimitMiddleware.clientError(for: error, maxBytes: .max)
        }
        guard buffer.readableBytes > 0 else { throw APIError.badRequest("a JSON body is required") }
        return try WireFormat.decoder.decode(T.self, from: Data(buffer.readableBytesView))
    }
}
