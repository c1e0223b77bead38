import Foundation
import HummingbirdTesting
import Testing

@testable import Server

@Suite("Health and metrics endpoints")
struct SystemEndpointTests {
    @Test("/health answers 200 while serving")
    func liveness() async throws {
        try await withApp { client, _ async throws in
            try await client.execute(uri: "/health", method: .get) { response async throws in
                #expect(response.status == .ok)
                #expect(try response.json()["status"] as? String == "ok")
            }
        }
    }

    @Test("/health/ready runs the database, disk and memory checks and reports healthy")
    func readinessHealthy() async throws {
        try await withApp { client, dependencies async throws in
            try await client.execute(uri: "/health/ready", method: .get) { response async throws in
                #expect(response.status == .ok)
                let body = try response.json()
                #expect(body["status"] as? String == "healthy")
                #expect(body["version"] as? String == AppDependencies.version)
                #expect(body["uptimeSeconds"] is Int)
                let checks = try #require(body["checks"] as? [String: [String: Any]])
                #expect(Set(checks.keys) == ["database", "disk", "memory"])
                for (_, check) in checks {
                    #expect(check["status"] as? String == "pass")
                    #expect(check["responseTimeMs"] is Double)
                    #expect(check["message"] is String)
                }
                let database = try #require(checks["database"]?["metadata"] as? [String: String])
                #expect(database["readLatencyMs"] != nil && database["writeLatencyMs"] != nil)
            }
            // The write probe really wrote.
            #expect(try await dependencies.keyValue.getString("health:write-probe") == "ok")
        }
    }

    @Test("/health/ready is 503 unhealthy when a check fails, 200 degraded when one warns")
    func readinessThresholds() async throws {
        try await withApp(["diskWarnPercent": "1", "diskFailPercent": "1"]) { client, _ async throws in
            try await client.execute(uri: "/health/ready", method: .get) { response async throws in
                #expect(response.status == .serviceUnavailable)
                let body = try response.json()
                #expect(body["status"] as? String == "unhealthy")
                let checks = try #require(body["checks"] as? [String: [String: Any]])
                #expect(checks["disk"]?["status"] as? String == "fail")
            }
        }
        try await withApp(["diskWarnPercent": "1", "diskFailPercent": "100"]) { client, _ async throws in
            try await client.execute(uri: "/health/ready", method: .get) { response async throws in
                #expect(response.status == .ok)
                #expect(try response.json()["status"] as? String == "degraded")
            }
        }
        try await withApp(["memoryLimitBytes": "1048576"]) { client, _ async throws in
            try await client.execute(uri: "/health/ready", method: .get) { response async throws in
                #expect(response.status == .serviceUnavailable)
                let checks = try #require(try response.json()["checks"] as? [String: [String: Any]])
                #expect(checks["memory"]?["status"] as? String == "fail")
            }
        }
    }

    @Test("/metrics counts requests by route pattern, never by raw path")
    func metricsByRoute() async throws {
        try await withApp { client, _ async throws in
            for name in ["alpha", "beta", "gamma"] {
                try await client.execute(uri: "/api/v1/services/\(name)", method: .get) { _ in }
            }
            try await client.execute(uri: "/no/such/page", method: .get) { _ in }
            try await client.execute(uri: "/metrics", method: .get) { response async throws in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                let text = response.text
                #expect(text.contains(#"http_requests_total{service="registry",method="GET",route="/api/v1/services/{name}",status="401"} 3"#))
                #expect(text.contains(#"route="unmatched",status="404"} 1"#))
                #expect(!text.contains("alpha") && !text.contains("/no/such/page"))
                #expect(text.contains("http_request_duration_seconds_bucket"))
            }
        }
    }
}
