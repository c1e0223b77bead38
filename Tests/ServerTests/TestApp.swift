import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

@testable import Server

/// Builds the real application on a fresh temporary data directory, runs `body` against it
/// through the router, and removes the directory.
func withApp<T>(
    _ settings: [String: String] = [:],
    environment: [String: String] = [:],
    testing: TestingSetup = .router,
    _ body: @escaping @Sendable (any TestClientProtocol, AppDependencies) async throws -> T
) async throws -> T {
    let directory = NSTemporaryDirectory() + "csms-server-test-" + UUID().uuidString
    defer { try? FileManager.default.removeItem(atPath: directory) }
    var sources = ConfigurationSources()
    sources.flags = ["data": directory, "port": "0"].merging(settings) { $1 }
    let configuration = try AppConfiguration.load(from: sources)
    let dependencies = try await AppDependencies.open(configuration, environment: environment)
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
