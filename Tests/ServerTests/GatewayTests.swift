import Foundation
import Hummingbird
import HummingbirdTesting
import Observability
import Prometheus
import Storage
import Testing

@testable import Server

@Suite("Gateway: errors, request ids, limits")
struct GatewayTests {
    @Test("an unknown route is a problem+json 404 naming the path")
    func unknownRoute() async throws {
        try await withApp { client, _ async throws in
            try await client.execute(uri: "/api/v1/nothing-here", method: .get) { response async throws in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/problem+json")
                let body = try response.json()
                #expect(body["status"] as? Int == 404)
                #expect(body["type"] as? String == "/problems/not-found")
                #expect((body["detail"] as? String)?.contains("/api/v1/nothing-here") == true)
                #expect(body["requestId"] as? String == response.headers[.xRequestID])
            }
        }
    }

    @Test("a known path with the wrong method is 405 with Allow")
    func wrongMethod() async throws {
        try await withApp { client, _ async throws in
            try await client.execute(uri: "/api/v1/services/some-name", method: .post) { response async throws in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "DELETE, GET")
                #expect(try response.json()["type"] as? String == "/problems/method-not-allowed")
            }
            try await client.execute(uri: "/metrics", method: .delete) { response async throws in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET")
            }
        }
    }

    @Test("malformed JSON is 400; well-formed JSON of the wrong shape is 422 naming each field")
    func badBodies() async throws {
        try await withApp(withAdmin) { client, _ async throws in
            var jsonHeaders = jsonHeaders
            jsonHeaders[.authorization] = "Bearer " + (try await client.adminToken())
            try await client.execute(
                uri: "/api/v1/services", method: .post, headers: jsonHeaders, body: ByteBuffer(string: "{\"name\": ")
            ) { response async throws in
                #expect(response.status == .badRequest)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(try response.json()["detail"] as? String == "the body is not valid JSON")
            }
            try await client.execute(
                uri: "/api/v1/services", method: .post, headers: jsonHeaders, body: jsonBody(["name": "x"])
            ) { response async throws in
                #expect(response.status == .unprocessableContent)
                let errors = try #require(try response.json()["errors"] as? [[String: String]])
                #expect(errors == [["field": "url", "message": "is required"]])
            }
            try await client.execute(
                uri: "/api/v1/services", method: .post, headers: jsonHeaders,
                body: jsonBody(["name": "x", "url": "http://a", "ttlSeconds": "soon"])
            ) { response async throws in
                #expect(response.status == .unprocessableContent)
                let errors = try #require(try response.json()["errors"] as? [[String: String]])
                #expect(errors == [["field": "ttlSeconds", "message": "must be an integer"]])
            }
            try await client.execute(uri: "/api/v1/services", method: .post, headers: jsonHeaders) { response async throws in
                #expect(response.status == .badRequest)
                #expect(try response.json()["detail"] as? String == "a JSON body is required")
            }
        }
    }

    @Test("a body over the configured limit is 413, whether or not it declares its length")
    func bodyLimit() async throws {
        try await withApp(withAdmin.merging(["maxBodyBytes": "64"]) { $1 }) { client, _ async throws in
            var jsonHeaders = jsonHeaders
            jsonHeaders[.authorization] = "Bearer " + (try await client.adminToken())
            let big = ByteBuffer(string: "{\"name\":\"" + String(repeating: "a", count: 100) + "\"}")
            try await client.execute(uri: "/api/v1/services", method: .post, headers: jsonHeaders, body: big) { response async throws in
                #expect(response.status == .contentTooLarge)
                let body = try response.json()
                #expect(body["type"] as? String == "/problems/content-too-large")
                #expect((body["detail"] as? String)?.contains("64 bytes") == true)
            }
            // Within the limit, the same route works.
            try await client.execute(
                uri: "/api/v1/services", method: .post, headers: jsonHeaders,
                body: jsonBody(["name": "tiny", "url": "http://h:1"])
            ) { response async throws in
                #expect(response.status == .created)
            }
        }
    }

    @Test("the client's X-Request-ID is echoed; without one, a fresh id is made per request")
    func requestIDs() async throws {
        try await withApp { client, _ async throws in
            try await client.execute(uri: "/health", method: .get, headers: [.xRequestID: "trace-abc-123"]) { response async throws in
                #expect(response.headers[.xRequestID] == "trace-abc-123")
            }
            var seen: Set<String> = []
            for _ in 0..<3 {
                try await client.execute(uri: "/health", method: .get) { response async throws in
                    let id = try #require(response.headers[.xRequestID])
                    #expect(id.count == 36)
                    seen.insert(id)
                }
            }
            #expect(seen.count == 3)
            // An id that could forge log lines is replaced rather than echoed.
            try await client.execute(uri: "/health", method: .get, headers: [.xRequestID: "a b"]) { response async throws in
                #expect(response.headers[.xRequestID] != "a b")
            }
        }
    }

    @Test("an unexpected error is a 500 problem with a request id and no internals")
    func unexpectedError() async throws {
        struct SecretInternalFailure: Error {}
        let router = Router(context: AppRequestContext.self)
        let table = RouteTable()
        router.add(middleware: RequestIDMiddleware())
        router.add(middleware: ProblemMiddleware(routes: table))
        router.get("/explode") { _, _ -> String in throw SecretInternalFailure() }
        router.get("/conflict") { _, _ -> String in
            throw VersionConflictError(table: "stations", id: "s1", expectedVersion: 1, currentVersion: 3)
        }
        let app = Application(router: router)
        try await app.test(.router) { client async throws in
            try await client.execute(uri: "/explode", method: .get) { response async throws in
                #expect(response.status == .internalServerError)
                let body = try response.json()
                #expect(body["type"] as? String == "/problems/internal-error")
                #expect(body["requestId"] as? String == response.headers[.xRequestID])
                #expect(!response.text.contains("SecretInternalFailure"))
            }
            try await client.execute(uri: "/conflict", method: .get) { response async throws in
                #expect(response.status == .conflict)
                #expect((try response.json()["detail"] as? String)?.contains("version 3") == true)
            }
        }
    }

    @Test("storage errors map to the status a client can act on")
    func storageErrorMapping() {
        #expect(ProblemMiddleware.problem(for: SQLiteError(code: 19, extendedCode: 2067, message: "UNIQUE")).status == .conflict)
        #expect(ProblemMiddleware.problem(for: SQLiteError(code: 19, extendedCode: 787, message: "FK")).status == .unprocessableContent)
        #expect(ProblemMiddleware.problem(for: SQLiteError(code: 1, message: "syntax")).status == .internalServerError)
        #expect(ProblemMiddleware.problem(for: RecordNotFoundError(table: "t", id: "1")).status == .notFound)
        #expect(ProblemMiddleware.problem(for: InvalidCursorError()).errors?.first?.field == "cursor")
    }

    @Test(
        "timestamps: 0–9 fractional digits, Z, offsets, or no offset (taken as UTC)",
        arguments: [
            ("2026-03-01T10:15:53.123456Z", 1_772_360_153.123456),
            ("2026-03-01T10:15:53Z", 1_772_360_153),
            ("2026-03-01T10:15:53+02:00", 1_772_352_953),
            ("2026-03-01T10:15:53-0130", 1_772_365_553),
            ("2026-03-01T10:15:53", 1_772_360_153),
            ("2026-03-01T10:15:53.123456789Z", 1_772_360_153.123456789),
            ("2024-02-29T00:00:00Z", 1_709_164_800),
        ])
    func timestampParsing(text: String, epochSeconds: Double) throws {
        let date = try #require(ISO8601Timestamp.parse(text))
        #expect(abs(date.timeIntervalSince1970 - epochSeconds) < 0.000_001)
    }

    @Test(
        "malformed timestamps are refused",
        arguments: [
            "2026-03-01", "2026-03-01T10:15", "2026-13-01T10:15:53Z", "2026-02-30T10:15:53Z", "2026-03-01T10:15:53.Z",
            "2026-03-01T10:15:53.1234567890Z", "2026-03-01T10:15:53+2", "2026-03-01 10:15:53Z", "x", "",
            "2026-03-01T10:15:53Zjunk",
        ])
    func badTimestamps(text: String) {
        #expect(ISO8601Timestamp.parse(text) == nil)
    }

    @Test("dates go out in UTC with milliseconds and Z")
    func dateOutput() {
        #expect(WireFormat.formatDate(Date(timeIntervalSince1970: 1_772_360_153.5)) == "2026-03-01T10:15:53.500Z")
    }
}
