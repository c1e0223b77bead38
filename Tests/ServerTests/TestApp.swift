import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
import Tracing

@testable import Server

/// Builds the real application on a fresh temporary data directory, runs `body` against it
/// through the router, and removes the directory.
func withApp<T>(
    _ settings: [String: String] = [:],
    environment: [String: String] = [:],
    testing: TestingSetup = .router,
    now: @escaping @Sendable () -> Date = Date.init,
    dataDirectory: String? = nil,
    tracer: (any Tracer)? = nil,
    _ body: @escaping @Sendable (any TestClientProtocol, AppDependencies) async throws -> T
) async throws -> T {
    let directory = dataDirectory ?? NSTemporaryDirectory() + "csms-server-test-" + UUID().uuidString
    defer { if dataDirectory == nil { try? FileManager.default.removeItem(atPath: directory) } }
    var sources = ConfigurationSources()
    sources.flags = ["data": directory, "port": "0", "bcryptCost": "4"].merging(settings) { $1 }
    let configuration = try AppConfiguration.load(from: sources)
    let dependencies = try await AppDependencies.open(configuration, environment: environment, now: now, tracer: tracer)
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    let app = buildApplication(dependencies, logger: logger)
    return try await app.test(testing) { client async throws in try await body(client, dependencies) }
}

extension TestResponse {
    func json() throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any])
    }

    var text: String { String(buffer: body) }
}

func jsonBody(_ object: Any) -> ByteBuffer {
    ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: object))
}

let jsonHeaders: HTTPFields = [.contentType: "application/json"]

/// A response, read once: status, headers and the JSON body.
struct Reply: @unchecked Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: Any?

    var object: [String: Any] { body as? [String: Any] ?? [:] }
    subscript(key: String) -> Any? { object[key] }
    var items: [[String: Any]] { object["items"] as? [[String: Any]] ?? [] }
    var fieldErrors: [String] { (object["errors"] as? [[String: String]])?.compactMap { $0["field"] } ?? [] }
}

let adminEmail = "admin@example.com"
let adminPassword = "admin-password-1"
/// Settings that create the first admin at startup.
let withAdmin = ["adminEmail": adminEmail, "adminPassword": adminPassword]

extension TestClientProtocol {
    func call(
        _ method: HTTPRequest.Method, _ path: String, token: String? = nil, json: Any? = nil,
        headers: HTTPFields = [:]
    ) async throws -> Reply {
        var headers = headers
        if let token { headers[.authorization] = "Bearer \(token)" }
        if json != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: path, method: method, headers: headers, body: json.map(jsonBody)) { response in
            let body = response.body.readableBytes == 0
                ? nil : try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView), options: [.fragmentsAllowed])
            return Reply(status: response.status, headers: response.headers, body: body)
        }
    }

    /// Logs in and returns the access token.
    func login(_ email: String, _ password: String) async throws -> String {
        let reply = try await call(.post, "/api/v1/auth/login", json: ["email": email, "password": password])
        #expect(reply.status == .ok, "login of \(email) failed: \(reply.object)")
        return try #require(reply["accessToken"] as? String)
    }

    func adminToken() async throws -> String { try await login(adminEmail, adminPassword) }

    /// Creates an account of `role` through the admin API and returns its id and a token.
    func makeUser(_ role: String, email: String, adminToken: String, password: String = "password-123") async throws
        -> (id: String, token: String)
    {
        let reply = try await call(
            .post, "/api/v1/users", token: adminToken,
            json: ["email": email, "password": password, "name": "\(role) user", "role": role])
        #expect(reply.status == .created, "\(reply.object)")
        return (try #require(reply["id"] as? String), try await login(email, password))
    }
}
