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
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            _ = try await client.call(.get, "/health")
            let list = try await client.call(.get, "/api/v1/services", token: admin)
            #expect(list.status == .ok)
            #expect(
                list.items.map { $0["name"] as? String }
                    == [
                        "analytics", "auth", "drivers", "gateway", "id-tags", "invoices", "monitoring", "observability",
                        "ocpp", "registry", "reservations", "sessions", "sites", "stations", "tariffs", "users",
                    ])
            for item in list.items {
                #expect(item["kind"] as? String == "internal")
                #expect(item["status"] as? String == "healthy")
                #expect(item["version"] as? String == AppDependencies.version)
            }
            let observability = try #require(list.items.first { $0["name"] as? String == "observability" })
            #expect(observability["basePath"] as? String == "/health")
            #expect((observability["metrics"] as? [String: Any])?["requests"] as? Int == 1)
            let auth = try #require(list.items.first { $0["name"] as? String == "auth" })
            #expect((auth["metrics"] as? [String: Any])?["requests"] as? Int == 1)

            let gateway = try await client.call(.get, "/api/v1/services/gateway", token: admin)
            #expect(gateway["basePath"] as? String == "/api/v1")
            #expect(try await client.call(.get, "/api/v1/services/nope", token: admin).status == .notFound)
        }
    }

    @Test("external services register, re-register, renew and deregister")
    func externalLifecycle() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            let admin = try await client.adminToken()
            let registration: [String: Any] = ["name": "billing", "url": "http://127.0.0.1:9", "ttlSeconds": 30, "metadata": ["zone": "a"]]
            let created = try await client.call(.post, "/api/v1/services", token: admin, json: registration)
            #expect(created.status == .created)
            #expect(created.headers[.location] == "/api/v1/services/billing")
            #expect(created["kind"] as? String == "external")
            #expect(created["status"] as? String == "healthy")
            #expect(created["ttlSeconds"] as? Int == 30)
            #expect((created["metadata"] as? [String: String]) == ["zone": "a"])
            #expect(try await client.call(.post, "/api/v1/services", token: admin, json: registration).status == .ok)

            let beat = try await client.call(.put, "/api/v1/services/billing/heartbeat", token: admin)
            #expect(beat.status == .ok)
            #expect(beat["lastHeartbeatAt"] is String)
            #expect(try await client.call(.put, "/api/v1/services/ghost/heartbeat", token: admin).status == .notFound)
            let clash = try await client.call(.post, "/api/v1/services", token: admin, json: ["name": "gateway", "url": "http://x:1"])
            #expect(clash.status == .conflict)
            #expect(try await client.call(.delete, "/api/v1/services/gateway", token: admin).status == .conflict)
            #expect(try await client.call(.delete, "/api/v1/services/billing", token: admin).status == .noContent)
            #expect(try await client.call(.get, "/api/v1/services/billing", token: admin).status == .notFound)
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
        try await withApp(withAdmin, environment: ["NOTIFICATIONS_URL": "http://notify.internal:7000"]) { client, _ async throws in
            let admin = try await client.adminToken()
            let fallback = try await client.call(.get, "/api/v1/services/notifications/discover", token: admin)
            #expect(fallback.status == .ok)
            #expect(fallback["url"] as? String == "http://notify.internal:7000")
            #expect(fallback["source"] as? String == "environment")
            let missing = try await client.call(.get, "/api/v1/services/payments/discover", token: admin)
            #expect(missing.status == .notFound)
            #expect((missing["detail"] as? String)?.contains("PAYMENTS_URL") == true)
            _ = try await client.call(.post, "/api/v1/services", token: admin, json: ["name": "notifications", "url": "http://10.1.1.1:8000"])
            let registered = try await client.call(.get, "/api/v1/services/notifications/discover", token: admin)
            #expect(registered["url"] as? String == "http://10.1.1.1:8000")
            #expect(registered["source"] as? String == "registry")
        }
    }

    @Test("the poller marks a service healthy when its /health answers 2xx and unhealthy when it cannot be reached")
    func pollingOverRealHTTP() async throws {
        try await withApp(withAdmin, testing: .live) { client, dependencies async throws in
            let admin = try await client.adminToken()
            let port = try #require(client.port)
            _ = try await dependencies.registry.registerExternal(
                name: "self", url: URL(string: "http://127.0.0.1:\(port)")!, metadata: [:], ttl: .seconds(60))
            _ = try await dependencies.registry.registerExternal(
                name: "gone", url: URL(string: "http://127.0.0.1:1")!, metadata: [:], ttl: .seconds(60))
            await dependencies.registry.pollExternalServices(timeout: .seconds(2))
            let healthy = try await client.call(.get, "/api/v1/services/self", token: admin)
            #expect(healthy["status"] as? String == "healthy")
            #expect(healthy["message"] as? String == "GET /health answered 200")
            #expect(healthy["lastCheckedAt"] is String)
            let gone = try await client.call(.get, "/api/v1/services/gone", token: admin)
            #expect(gone["status"] as? String == "unhealthy")
            #expect((gone["message"] as? String)?.hasPrefix("GET /health failed") == true)
        }
    }
}
