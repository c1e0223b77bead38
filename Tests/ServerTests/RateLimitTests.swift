import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import OCPP
import Testing

@testable import Server

@Suite("Rate limits: token buckets per client and route class, 429 with the draft's fields, the OCPP throttle")
struct RateLimitTests {
    @Test("a bucket gives its quota at once, then one token per window/quota seconds, never more than the quota")
    func refillAndBurst() {
        let rule = RateLimitRule(quota: 3, windowSeconds: 6)  // one token every 2 s
        let limiter = RateLimiter(rules: [.reads: rule])
        for remaining in [2, 1, 0] { #expect(limiter.take("a", .reads, now: 100) == .allowed(remaining: remaining)) }
        #expect(limiter.take("a", .reads, now: 100) == .refused(retryAfterSeconds: 2))
        #expect(limiter.take("a", .reads, now: 101) == .refused(retryAfterSeconds: 1))
        #expect(limiter.take("a", .reads, now: 102) == .allowed(remaining: 0))
        // A long pause refills to the quota, not beyond it.
        for remaining in [2, 1, 0] { #expect(limiter.take("a", .reads, now: 10_000) == .allowed(remaining: remaining)) }
        #expect(limiter.take("a", .reads, now: 10_000) == .refused(retryAfterSeconds: 2))
    }

    @Test("clients and route classes have separate buckets; a class without a rule is not limited")
    func separateBuckets() {
        let limiter = RateLimiter(rules: [.reads: RateLimitRule(quota: 1, windowSeconds: 60), .auth: RateLimitRule(quota: 1, windowSeconds: 60)])
        #expect(limiter.take("a", .reads, now: 0) == .allowed(remaining: 0))
        #expect(limiter.take("a", .reads, now: 0) == .refused(retryAfterSeconds: 60))
        #expect(limiter.take("b", .reads, now: 0) == .allowed(remaining: 0))
        #expect(limiter.take("a", .auth, now: 0) == .allowed(remaining: 0))
        #expect(limiter.take("a", .writes, now: 0) == .allowed(remaining: .max))
    }

    @Test("memory is bounded: refilled buckets are swept, and a flood of clients evicts instead of growing")
    func eviction() {
        let limiter = RateLimiter(rules: [.reads: RateLimitRule(quota: 2, windowSeconds: 2)], maximumBuckets: 100)
        for client in 0..<1000 { _ = limiter.take("client-\(client)", .reads, now: Double(client) / 1000) }
        #expect(limiter.count <= 100)
        // The newest client still has its bucket: eviction takes the longest idle first.
        #expect(limiter.take("client-999", .reads, now: 1) == .allowed(remaining: 0))
        limiter.sweep(now: 1000)
        #expect(limiter.count == 0)
    }

    @Test("X-Forwarded-For counts only from a trusted proxy, and only its nearest untrusted hop")
    func trustedProxies() {
        let proxies: Set<String> = ["10.0.0.2", "10.0.0.3"]
        // Straight from a client: the header is the client's invention.
        #expect(ClientAddressMiddleware.clientAddress(peer: "203.0.113.9", forwardedFor: ["1.2.3.4"], trustedProxies: proxies) == "203.0.113.9")
        // Through one proxy: the hop it added.
        #expect(ClientAddressMiddleware.clientAddress(peer: "10.0.0.2", forwardedFor: ["198.51.100.7"], trustedProxies: proxies) == "198.51.100.7")
        // A client that prepends a fake hop does not get it believed.
        #expect(
            ClientAddressMiddleware.clientAddress(peer: "10.0.0.2", forwardedFor: ["6.6.6.6, 198.51.100.7, 10.0.0.3"], trustedProxies: proxies)
                == "198.51.100.7")
        // Two header lines read as one list.
        #expect(
            ClientAddressMiddleware.clientAddress(peer: "10.0.0.2", forwardedFor: ["6.6.6.6", "198.51.100.7"], trustedProxies: proxies)
                == "198.51.100.7")
        #expect(ClientAddressMiddleware.clientAddress(peer: "10.0.0.2", forwardedFor: [], trustedProxies: proxies) == "10.0.0.2")
        // A hostile header: thousands of trusted hops, or one absurdly long one, is read no further
        // than 32 hops and never yields more than 64 bytes.
        let flood = Array(repeating: "10.0.0.3", count: 10_000).joined(separator: ",")
        #expect(ClientAddressMiddleware.clientAddress(peer: "10.0.0.2", forwardedFor: ["1.2.3.4," + flood], trustedProxies: proxies) == "10.0.0.3")
        let long = String(repeating: "9", count: 10_000)
        #expect(ClientAddressMiddleware.clientAddress(peer: "10.0.0.2", forwardedFor: [long], trustedProxies: proxies) == "10.0.0.2")
    }

    @Test("each route counts against the class a user expects", arguments: [
        (HTTPRequest.Method.post, "/api/v1/auth/login", RouteClass?.some(.auth)),
        (.post, "/api/v1/auth/refresh", .auth),
        (.post, "/ui/login", .auth),
        (.post, "/api/v1/auth/logout-all", .writes),
        (.get, "/api/v1/stations", .reads),
        (.get, "/ui/stations/CP1", .reads),
        (.get, "/api/v1/sessions/export.csv", .exports),
        (.get, "/api/v1/stations/CP1/jobs/j1/file", .exports),
        (.patch, "/api/v1/tariffs/t1", .writes),
        (.post, "/api/v1/stations/CP1/commands/reset", .commands),
        (.post, "/api/v1/stations/CP1/ocpp/DataTransfer", .commands),
        (.post, "/api/v1/stations/CP1/credentials/rotate", .commands),
        (.put, "/api/v1/stations/CP1/credentials", .writes),
        (.post, "/api/v1/me/charging/start", .commands),
        (.post, "/api/v1/me/reservations", .commands),
        (.post, "/ui/stations/CP1/commands/unlock", .commands),
        (.get, "/health/ready", nil),
        (.get, "/metrics", nil),
        (.get, "/ui/assets/dashboard.css", nil),
        (.put, "/api/v1/uploads/token", nil),
    ])
    func classification(method: HTTPRequest.Method, path: String, expected: RouteClass?) {
        #expect(RateLimitMiddleware.routeClass(method: method, path: path) == expected)
    }

    @Test("rules parse as QUOTA/WINDOWs; anything else is refused at startup; off lifts a limit")
    func configuration() throws {
        #expect(RateLimitRule("600/60s") == RateLimitRule(quota: 600, windowSeconds: 60))
        for bad in ["600", "600/60", "0/60s", "-1/60s", "600/0s", "x/60s", "600/60m"] { #expect(RateLimitRule(bad) == nil, "\(bad)") }
        let defaults = try AppConfiguration.load(from: ConfigurationSources())
        #expect(defaults.rateLimits.rules == RateLimitSettings.defaultRules)
        #expect(defaults.ocpp.maxMessagesPerSecond == 50)
        let custom = try AppConfiguration.load(
            from: ConfigurationSources(environment: [
                "CSMS_RATE_LIMIT_READS": "10/1s", "CSMS_RATE_LIMIT_EXPORTS": "off", "CSMS_TRUSTED_PROXIES": "10.0.0.2, ::1",
                "CSMS_OCPP_MAX_MESSAGES_PER_SECOND": "0",
            ]))
        #expect(custom.rateLimits.rules[.reads] == RateLimitRule(quota: 10, windowSeconds: 1))
        #expect(custom.rateLimits.rules[.exports] == nil)
        #expect(custom.trustedProxies == ["10.0.0.2", "::1"])
        #expect(custom.ocpp.maxMessagesPerSecond == nil)
        let error = #expect(throws: ConfigurationError.self) {
            try AppConfiguration.load(from: ConfigurationSources(flags: ["rateLimitWrites": "lots"]))
        }
        #expect(error?.key == "rateLimitWrites")
        #expect(throws: ConfigurationError.self) {
            try AppConfiguration.load(from: ConfigurationSources(flags: ["trustedProxies": "proxy.example.com"]))
        }
    }

    @Test("a driver over the read limit gets 429 problem+json with Retry-After and the draft's fields; others are unaffected")
    func readLimitPerUser() async throws {
        // A long window: on a loaded machine seconds pass between these requests, and no token may
        // come back meanwhile (one per 200 s).
        try await withApp(withAdmin.merging(["rateLimitReads": "3/600s"]) { $1 }) { client, _ in
            let admin = try await client.adminToken()
            let driver = try await client.makeUser("driver", email: "d1@example.com", adminToken: admin)
            let other = try await client.makeUser("driver", email: "d2@example.com", adminToken: admin)
            for remaining in [2, 1, 0] {
                let reply = try await client.call(.get, "/api/v1/auth/me", token: driver.token)
                #expect(reply.status == .ok)
                #expect(reply.headers[RateLimitMiddleware.policyField] == "\"reads\";q=3;w=600")
                #expect(reply.headers[RateLimitMiddleware.stateField] == "\"reads\";r=\(remaining);t=0")
            }
            let refused = try await client.call(.get, "/api/v1/auth/me", token: driver.token)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers[.contentType] == ProblemDetails.contentType)
            #expect(refused["type"] as? String == "/problems/rate-limited")
            // The next token is due 200 s after the first request, less the time these took.
            let retryAfter = try #require(refused.headers[.retryAfter].flatMap { Int($0) })
            #expect((150...200).contains(retryAfter), "\(retryAfter)")
            #expect(refused.headers[RateLimitMiddleware.stateField] == "\"reads\";r=0;t=\(retryAfter)")
            // Another driver, and the same driver's writes, have buckets of their own.
            #expect(try await client.call(.get, "/api/v1/auth/me", token: other.token).status == .ok)
            #expect(try await client.metric("http_rate_limited_total{class=\"reads\"}") == 1)
        }
    }

    @Test("sign-ins count per address, apart from the signed-in user's own limits")
    func loginLimitIsSeparate() async throws {
        try await withApp(withAdmin.merging(["rateLimitAuth": "2/600s", "rateLimitReads": "100/60s"]) { $1 }) { client, _ in
            let admin = try await client.adminToken()
            let wrong = try await client.call(.post, "/api/v1/auth/login", json: ["email": adminEmail, "password": "wrong-password"])
            #expect(wrong.status == .unauthorized)
            let refused = try await client.call(.post, "/api/v1/auth/login", json: ["email": adminEmail, "password": adminPassword])
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers[RateLimitMiddleware.policyField] == "\"auth\";q=2;w=600")
            // The signed-in admin still reads: its reads are its own bucket.
            #expect(try await client.call(.get, "/api/v1/stations", token: admin).status == .ok)
            #expect(try await client.metric("http_rate_limited_total{class=\"auth\"}") == 1)
        }
    }

    @Test("a charger flooding CALLs is answered later, never dropped, and the delay is counted")
    func ocppThrottle() async throws {
        try await withApp(withAdmin.merging(["ocppMaxMessagesPerSecond": "5"]) { $1 }) { client, dependencies in
            let (_, charger) = try await client.connectStationCP1(dependencies)
            let clock = ContinuousClock()
            let start = clock.now
            // Fifteen at once: five from the full bucket, ten more at five a second.
            for index in 0..<15 { try await charger.send("[2, \"hb-\(index)\", \"Heartbeat\", {}]") }
            var answered: [String] = []
            for _ in 0..<15 {
                let message = try await charger.next()
                #expect(message.first == .int(3))
                if case .string(let id) = message[1] { answered.append(id) }
            }
            #expect(answered == (0..<15).map { "hb-\($0)" })
            #expect(clock.now - start >= .milliseconds(1500))
            #expect((try await client.metric("ocpp_throttled_calls_total") ?? 0) >= 1)
        }
    }
}
