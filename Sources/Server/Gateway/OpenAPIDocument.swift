import Foundation
import HTTPTypes
import Storage

/// The OpenAPI 3.1 description of the whole REST API, served at `GET /openapi.json`. It is
/// written from the operation list in `OpenAPIDocument+Operations.swift`; a test checks that the
/// list names exactly the routes `buildRouter` registers, so a new route cannot go undocumented.
enum OpenAPIDocument {
    /// Who may call an operation; decides its security requirement and its 401/403 answers.
    /// One documented response body.
    enum Body {
        case json(DocumentValue)
        case text(contentType: String)
        case empty
    }

    struct Operation {
        var method: String
        var path: String
        var tag: String
        var summary: String
        var query: [DocumentValue] = []
        var headers: [DocumentValue] = []
        /// The JSON request body's schema; nil when the operation reads no body.
        var body: DocumentValue? = nil
        var bodyRequired = true
        var responses: [Int: Body]
        /// Further failure statuses this operation can answer, beyond those implied by its shape.
        var failures: Set<Int> = []

        /// Who may call it: the route table's entry, so the document cannot disagree with what is enforced.
        var access: RoutePolicy.Access { RoutePolicy.access(method: method, pattern: path) ?? .roles([]) }

        var pathParameters: [String] {
            path.split(separator: "/").compactMap { part in
                part.hasPrefix("{") && part.hasSuffix("}") ? String(part.dropFirst().dropLast()) : nil
            }
        }
    }

    /// The encoded document, built once.
    static let data: Data = {
        // The document is built from literals only, so encoding cannot fail.
        (try? WireFormat.encoder.encode(document)) ?? Data("{}".utf8)
    }()

    static var document: DocumentValue {
        var paths: [String: DocumentValue] = [:]
        for operation in operations {
            let item = paths[operation.path] ?? [:]
            paths[operation.path] = item.merging([operation.method.lowercased(): describe(operation)])
        }
        return [
            "openapi": "3.1.0",
            "info": [
                "title": "CSMS REST API",
                "version": .string(AppDependencies.version),
                "description": .string(
                    "The charging station management system's REST API. Errors are RFC 9457 problem details "
                        + "(application/problem+json). Chargers speak OCPP 1.6J over WebSocket at /ocpp/{stationId} "
                        + "on the same port; that endpoint is not part of this document."),
            ],
            "servers": [["url": "/"]],
            "paths": .object(paths),
            "components": [
                "schemas": .object(schemas),
                "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer", "bearerFormat": "JWT"]],
                "parameters": .object(sharedParameters),
                "responses": .object(problemResponses),
            ],
        ]
    }

    private static func describe(_ operation: Operation) -> DocumentValue {
        var parameters: [DocumentValue] = operation.pathParameters.map { name in
            pathParameter(name, path: operation.path)
        }
        parameters += operation.query + operation.headers
        var responses: [String: DocumentValue] = [:]
        for (status, body) in operation.responses {
            responses[String(status)] = response(body, status: status)
        }
        for status in failureStatuses(of: operation) where responses[String(status)] == nil {
            responses[String(status)] = ["$ref": .string("#/components/responses/Problem\(status)")]
        }
        var result: [String: DocumentValue] = [
            "tags": [.string(operation.tag)],
            "summary": .string(operation.summary),
            "operationId": .string(operationID(operation)),
            "responses": .object(responses),
        ]
        if !parameters.isEmpty { result["parameters"] = .array(parameters) }
        if let body = operation.body {
            result["requestBody"] = [
                "required": .bool(operation.bodyRequired),
                "content": ["application/json": ["schema": body]],
            ]
        }
        switch operation.access {
        case .anyone:
            result["security"] = []
        case .signedIn:
            result["security"] = [["bearer": []]]
        case .roles(let roles):
            result["security"] = [["bearer": []]]
            let names = Role.allCases.filter(roles.contains).map(\.rawValue)
            result["description"] = .string("Roles: \(names.joined(separator: ", ")).")
        }
        return .object(result)
    }

    /// The failures every operation of this shape can meet, whatever its handler does.
    static func failureStatuses(of operation: Operation) -> Set<Int> {
        var statuses = operation.failures
        // A request the HTTP layer cannot read (a bad percent-escape, a broken body) is a 400.
        statuses.insert(400)
        switch operation.access {
        case .anyone: break
        case .signedIn: statuses.insert(401)
        case .roles: statuses.formUnion([401, 403])
        }
        if !operation.pathParameters.isEmpty { statuses.insert(404) }
        if !operation.query.isEmpty || !operation.headers.isEmpty || !operation.pathParameters.isEmpty
            || operation.body != nil
        {
            statuses.insert(422)
        }
        if ["POST", "PUT", "PATCH", "DELETE"].contains(operation.method) {
            // Every write may find the disk full or the writer unavailable, and every body is limited.
            statuses.formUnion([413, 503, 507])
        }
        if let method = HTTPRequest.Method(operation.method),
            RateLimitMiddleware.routeClass(method: method, path: operation.path) != nil
        {
            statuses.insert(429)
        }
        return statuses
    }

    private static func response(_ body: Body, status: Int) -> DocumentValue {
        let description: DocumentValue = .string(HTTPStatusText.reason(status))
        switch body {
        case .json(let schema):
            return ["description": description, "content": ["application/json": ["schema": schema]]]
        case .text(let contentType):
            return ["description": description, "content": [.init(stringLiteral: contentType): ["schema": ["type": "string"]]]]
        case .empty:
            return ["description": description]
        }
    }

    private static func operationID(_ operation: Operation) -> String {
        let words = operation.path.split(separator: "/").filter { $0 != "api" && $0 != "v1" }.map { part in
            part.hasPrefix("{") ? "by-" + part.dropFirst().dropLast() : part
        }
        return ([operation.method.lowercased()] + words.map(String.init)).joined(separator: "-")
            .replacingOccurrences(of: ".", with: "-")
    }

    private static func pathParameter(_ name: String, path: String) -> DocumentValue {
        let schema: DocumentValue
        switch name {
        case "connectorId": schema = JSONSchema.integer(1, 100)
        case "idTag": schema = JSONSchema.idTag
        case "name": schema = JSONSchema.string(1, 64)
        case "command": schema = JSONSchema.oneOf(OCPPController.commands)
        case "action": schema = JSONSchema.oneOf(ChargePointCommands.passthroughActions.keys.sorted())
        // Ids are looked up as given: anything that names no record is a 404.
        default: schema = JSONSchema.string
        }
        return ["name": .string(name), "in": "path", "required": true, "schema": schema]
    }

    /// Problem responses, one per status, all of the same shape.
    static var problemResponses: [String: DocumentValue] {
        var responses: [String: DocumentValue] = [:]
        for status in [400, 401, 403, 404, 409, 413, 422, 429, 502, 503, 504, 507] {
            responses["Problem\(status)"] = [
                "description": .string(HTTPStatusText.reason(status)),
                "content": ["application/problem+json": ["schema": JSONSchema.ref("ProblemDetails")]],
            ]
        }
        return responses
    }

    static var sharedParameters: [String: DocumentValue] {
        [
            "limit": JSONSchema.query("limit", JSONSchema.integer(1, PageRequest.maximumLimit), "Page size (default 50)."),
            "cursor": JSONSchema.query("cursor", JSONSchema.string(1, 1000), "The nextCursor of the previous page."),
        ]
    }
}

/// Reason phrases for the statuses the document names.
enum HTTPStatusText {
    static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 204: "No Content"
        case 400: "Bad request: the request could not be read"
        case 401: "Unauthorized: no valid bearer token"
        case 403: "Forbidden: the caller's role may not do this"
        case 404: "Not found"
        case 409: "Conflict with the current state"
        case 413: "Content too large"
        case 422: "Validation failed; errors names each bad field"
        case 429: "Too many requests; see Retry-After"
        case 502: "The charge point answered with a CALLERROR"
        case 503: "Service unavailable; retry later"
        case 504: "The charge point did not answer in time"
        case 507: "Insufficient storage; nothing was written"
        default: "HTTP \(status)"
        }
    }
}
