import Foundation
import HummingbirdTesting
import NIOPosix
import Synchronization
import Testing

@testable import Server

final class TestClock: Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    var now: Date { current.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { current.withLock { $0 += seconds } }
}

@Suite("Service registry")
struct RegistryTests {
    @Test("the in-process services are listed with their health, base path and request metrics")
    func internalServices() async throws {
        try await withApp { client, _ async throws in
            try await client.execute(uri: "/health", method: .get) { _ in }
            try await client.execute(uri: "/api/v1/services", method: .get) { response async throws in
                #expect(response.status == .ok)
                let items = try #require(try response.json()["items"] as? [[String: Any]])
                #expect(items.map { $0["name"] as? String } == ["gateway", "observability", "registry"])
                for item in items {
                    #expect(item["kind"] as? String == "internal")
                    #expect(item["status"] as? String == "healthy")
                    #expect(item["version"] as? String == AppDependencies.version)
                }
                let observability = try #require(items.first { $0["name"] as? String == "observability" })
                #expect(observability["basePath"] as? String == "/health")
                #expect((observability["metrics"] as? [String: Any])?["requests"] as? Int == 1)
            }
            try await client.execute(uri: "/api/v1/services/gateway", method: .get) { response async throws in
                #expect(response.status == .ok)
                #expect(try response.json()["basePath"] as? String == "/api/v1")
            }
            try await client.execute(uri: "/api/v1/services/nope", method: .get) { response async throws in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test("external services register, re-register, renew and deregister")
    func externalLifecycle() async throws {
        try await withApp { client, _ async throws in
            let registration = jsonBody(["name": "billing", "url": "http://127.0.0.1:9", "ttlSeconds": 30, "metadata": ["zone": "a"]])
            try await client.execute(uri: "/api/v1/services", method: .post, headers: jsonHeaders, body: registration) { response async throws in
                #expect(response.status == .created)
                #expect(response.headers[.location] == "/api/v1/services/billing")
                let body = try response.json()
                #expect(body["kind"] as? String == "external")
                #expect(body["status"] as? String == "healthy")
                #expect(body["ttlSeconds"] as? Int == 30)
                #expect((body["metadata"] as? [String: String]) == ["zone": "a"])
            }
            try await client.execute(uri: "/api/v1/services", method: .post, headers: jsonHeaders, body: registration) { response async throws in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/api/v1/services/billing/heartbeat", method: .put) { response async throws in
                #expect(response.status == .ok)
                #expect(try response.json()["lastHeartbeatAt"] is String)
            }
            try await client.execute(uri: "/api/v1/services/ghost/heartbeat", method: .put) { response async throws in
                #expect(response.status == .notFound)
            }
            try await client.execute(
                uri: "/api/v1/services", method: .post, headers: jsonHeaders,
                body: jsonBody(["name": "gateway", "url": "http://x:1"])
            ) { response async throws in
                #expect(response.status == .conflict)
            }
            try await client.execute(uri: "/api/v1/services/gateway", method: .delete) { response async throws in
                #expect(response.status == .conflict)
            }
            try await client.execute(uri: "/api/v1/services/billing", method: .delete) { response async throws in
                #expect(response.status == .noContent)
            }
            try await client.execute(uri: "/api/v1/services/billing", method: .get) { response async throws in
                #expect(response.status == .notFound)
            }
        }
    }

    @Test("a missed TTL makes an external service unhealthy; a heartbeat brings it back")
    func ttlExpiry() async throws {
        let clock = TestClock()
        let registry = ServiceRegistry(
            environment: [:], probe: HTTPHealthProbe(group: MultiThreadedEventLoopGroup.singleton), now: { clock.now })
        _ = try await registry.registerExternal(name: "pricing", url: URL(string: "http://127.0.0.1:9")!, metadata: [:], ttl: .seconds(10))
        clock.advance(10)
        #expect(try await registry.get("pricing").status == .healthy)
        clock.advance(1)
        let expired = try await registry.get("pricing")
        #expect(expired.status == .unhealthy)
        #expect(expired.message.contains("TTL"))
        #expect(await registry.discover("pricing", baseURL: nil) == nil)
        _ = try await registry.heartbeat("pricing")
        #expect(try await registry.get("pricing").status == .healthy)
        #expect(await registry.discover("pricing", baseURL: nil)?.url == "http://127.0.0.1:9")
    }

    @Test("discovery falls back to <NAME>_URL when no healthy instance is registered")
    func discoveryFallback() async throws {
        try await withApp(environment: ["NOTIFICATIONS_URL": "http://notify.internal:7000"]) { client, _ async throws in
            try await client.execute(uri: "/api/v1/services/notifications/discover", method: .get) { response async throws in
                #expect(response.status == .ok)
                let body = try response.json()
                #expect(body["url"] as? String == "http://notify.internal:7000")
                #expect(body["source"] as? String == "environment")
            }
            try await client.execute(uri: "/api/v1/services/payments/discover", method: .get) { response async throws in
                #expect(response.status == .notFound)
                #expect((try response.json()["detail"] as? String)?.contains("PAYMENTS_URL") == true)
            }
            try await client.execute(
                uri: "/api/v1/services", method: .post, headers: jsonHeaders,
                body: jsonBody(["name": "notifications", "url": "http://10.1.1.1:8000"])
            ) { _ in }
            try await client.execute(uri: "/api/v1/services/notifications/discover", method: .get) { response async throws in
                let body = try response.json()
                #expect(body["url"] as? String == "http://10.1.1.1:8000")
                #expect(body["source"] as? String == "registry")
            }
        }
    }

    @Test("the poller marks a service healthy when its /health answers 2xx and unhealthy when it cannot be reached")
    func pollingOverRealHTTP() async throws {
        try await withApp(testing: .live) { client, dependencies async throws in
            let port = try #require(client.port)
            _ = try await dependencies.registry.registerExternal(
                name: "self", url: URL(string: "http://127.0.0.1:\(port)")!, metadata: [:], ttl: .seconds(60))
            _ = try await dependencies.registry.registerExternal(
                name: "gone", url: URL(string: "http://127.0.0.1:1")!, metadata: [:], ttl: .seconds(60))
            await dependencies.registry.pollExternalServices(timeout: .seconds(2))
            try await client.execute(uri: "/api/v1/services/self", method: .get) { response async throws in
                let body = try response.json()
                #expect(body["status"] as? String == "healthy")
                #expect(body["message"] as? String == "GET /health answered 200")
                #expect(body["lastCheckedAt"] is String)
            }
            try await client.execute(uri: "/api/v1/services/gone", method: .get) { response async throws in
                let body = try response.json()
                #expect(body["status"] as? String == "unhealthy")
                #expect((body["message"] as? String)?.hasPrefix("GET /health failed") == true)
            }
        }
    }
}
