import Foundation
import InMemoryTracing
import OCPP
import Storage
import Testing
import Tracing

@testable import Server

private func attribute(_ span: FinishedInMemorySpan, _ key: String) -> SpanAttribute? {
    span.attributes[key]?.toSpanAttribute()
}

@Suite("Remote start correlation")
struct RemoteStartCorrelationTests {
    let start = ContinuousClock.now

    @Test("a remembered remote start is found once for its station and id tag")
    func takenOnce() {
        let store = RemoteStartCorrelation<String>()
        store.remember("trace-a", stationID: "CP-1", idTag: "APP1", now: start)
        #expect(store.take(stationID: "CP-2", idTag: "APP1", now: start) == nil)
        #expect(store.take(stationID: "CP-1", idTag: "OTHER", now: start) == nil)
        #expect(store.take(stationID: "CP-1", idTag: "APP1", now: start + .seconds(1)) == "trace-a")
        #expect(store.take(stationID: "CP-1", idTag: "APP1", now: start + .seconds(2)) == nil)
    }

    @Test("a remote start older than the lifetime is forgotten")
    func expires() {
        let store = RemoteStartCorrelation<String>(lifetime: .seconds(300))
        store.remember("trace-a", stationID: "CP-1", idTag: "APP1", now: start)
        #expect(store.take(stationID: "CP-1", idTag: "APP1", now: start + .seconds(300)) == nil)
        store.remember("trace-b", stationID: "CP-1", idTag: "APP1", now: start)
        #expect(store.take(stationID: "CP-1", idTag: "APP1", now: start + .seconds(299)) == "trace-b")
    }

    @Test("a newer remote start for the same station and tag replaces the older one")
    func replaced() {
        let store = RemoteStartCorrelation<String>()
        store.remember("first", stationID: "CP-1", idTag: "APP1", now: start)
        store.remember("second", stationID: "CP-1", idTag: "APP1", now: start + .seconds(1))
        #expect(store.count == 1)
        #expect(store.take(stationID: "CP-1", idTag: "APP1", now: start + .seconds(2)) == "second")
    }

    @Test("at capacity, expired entries go first, then the oldest live one")
    func bounded() {
        let store = RemoteStartCorrelation<String>(lifetime: .seconds(60), capacity: 3)
        store.remember("expired", stationID: "CP-0", idTag: "T", now: start)
        store.remember("a", stationID: "CP-1", idTag: "T", now: start + .seconds(50))
        store.remember("b", stationID: "CP-2", idTag: "T", now: start + .seconds(55))
        store.remember("c", stationID: "CP-3", idTag: "T", now: start + .seconds(70))
        #expect(store.count == 3)
        #expect(store.take(stationID: "CP-0", idTag: "T", now: start + .seconds(70)) == nil)
        store.remember("d", stationID: "CP-4", idTag: "T", now: start + .seconds(71))
        #expect(store.count == 3)
        #expect(store.take(stationID: "CP-1", idTag: "T", now: start + .seconds(71)) == nil)
        #expect(store.take(stationID: "CP-2", idTag: "T", now: start + .seconds(71)) == "b")
        #expect(store.take(stationID: "CP-4", idTag: "T", now: start + .seconds(71)) == "d")
    }
}

@Suite("OCPP spans")
struct OCPPSpanTests {
    @Test("an inbound outcome maps to CALLRESULT, or CALLERROR with its code")
    func inboundOutcome() {
        #expect(OCPPSpanResult(DispatchOutcome.result(.object(JSONObject()), afterReply: nil)) == .callResult)
        let refused = OCPPError(code: .propertyConstraintViolation, description: "bad")
        #expect(OCPPSpanResult(DispatchOutcome.callError(refused)) == .callError(code: "PropertyConstraintViolation"))
        let failed = OCPPError(code: .internalError, description: "oops")
        #expect(OCPPSpanResult(DispatchOutcome.failed(failed, cause: "db")) == .callError(code: "InternalError"))
        #expect(OCPPSpanResult.callResult.name == "CALLRESULT" && !OCPPSpanResult.callResult.isError)
        #expect(OCPPSpanResult.callError(code: "NotSupported").name == "CALLERROR")
        #expect(OCPPSpanResult.callError(code: "NotSupported").errorCode == "NotSupported")
    }

    @Test("an outbound call's answer or failure maps to its result")
    func outboundOutcome() {
        #expect(OCPPSpanResult(CallAnswer.result(JSONObject())) == .callResult)
        #expect(OCPPSpanResult(CallAnswer.error(code: "NotImplemented", description: "")) == .callError(code: "NotImplemented"))
        #expect(OCPPSpanResult(OutboundCallError.timedOut) == .timeout)
        #expect(OCPPSpanResult(OutboundCallError.queueFull) == .queueFull)
        #expect(OCPPSpanResult(OutboundCallError.notConnected) == .notConnected)
        #expect(OCPPSpanResult(OutboundCallError.timedOut).name == "timeout")
        #expect(OCPPSpanResult(OutboundCallError.timedOut).isError)
    }

    @Test("the StartTransaction a remote start caused is a child of the remote start's span, in the same trace")
    func remoteStartTrace() throws {
        let tracer = InMemoryTracer()
        let tracing = OCPPTracing(tracer: tracer)
        let request = tracer.startSpan("POST /api/v1/me/charging/start", context: .topLevel, ofKind: .server)
        let remoteStart = ServiceContext.$current.withValue(request.context) {
            tracing.outbound(
                stationID: "CP-1", action: "RemoteStartTransaction", messageID: "m-1",
                payload: .object(JSONObject([("connectorId", .int(1)), ("idTag", .string("APP1"))])))
        }
        OCPPTracing.finish(remoteStart, .callResult)
        request.end()
        let start = tracing.inbound(
            stationID: "CP-1", action: "StartTransaction", messageID: "c-7",
            payload: JSONObject([("connectorId", .int(1)), ("idTag", .string("APP1")), ("meterStart", .int(0))]))
        OCPPTracing.finish(start, .callResult)
        let unrelated = tracing.inbound(
            stationID: "CP-1", action: "StartTransaction", messageID: "c-8",
            payload: JSONObject([("connectorId", .int(1)), ("idTag", .string("APP1")), ("meterStart", .int(0))]))
        OCPPTracing.finish(unrelated, .callError(code: "InternalError"))

        let spans = tracer.finishedSpans
        let outbound = try #require(spans.first { $0.operationName == "OCPP RemoteStartTransaction" })
        let started = try #require(spans.first { attribute($0, "ocpp.message_id") == .string("c-7") })
        let second = try #require(spans.first { attribute($0, "ocpp.message_id") == .string("c-8") })
        let http = try #require(spans.first { $0.operationName.hasPrefix("POST") })
        #expect(outbound.traceID == http.traceID && outbound.parentSpanID == http.spanID)
        #expect(outbound.kind == .client && attribute(outbound, "ocpp.direction") == .string("out"))
        #expect(started.traceID == http.traceID && started.parentSpanID == outbound.spanID)
        #expect(started.operationName == "OCPP StartTransaction" && started.kind == .server)
        #expect(attribute(started, "ocpp.station_id") == .string("CP-1"))
        #expect(attribute(started, "ocpp.action") == .string("StartTransaction"))
        #expect(attribute(started, "ocpp.result") == .string("CALLRESULT"))
        // A remote start is taken once: a second StartTransaction for the tag starts its own trace.
        #expect(second.traceID != http.traceID && second.parentSpanID == nil)
        #expect(attribute(second, "ocpp.result") == .string("CALLERROR"))
        #expect(attribute(second, "ocpp.error_code") == .string("InternalError"))
        #expect(second.status?.code == .error)
        // No payload value is an attribute: id tags are credentials.
        for span in spans {
            span.attributes.forEach { _, value in #expect(value != .string("APP1")) }
        }
    }
}

@Suite("Database spans")
struct DatabaseSpanTests {
    @Test("the caller's file and function name the span, without arguments")
    func callerName() {
        #expect(DatabaseSpans.caller(file: "Server/Billing/SessionRepository.swift", function: "start(stationID:connectorID:)")
            == "SessionRepository.start")
        #expect(DatabaseSpans.caller(file: "", function: "open()") == "open")
    }

    @Test("reads and writes inside a trace are child spans with kind, caller and batch size; outside a trace, none")
    func spans() async throws {
        let tracer = InMemoryTracer()
        let directory = NSTemporaryDirectory() + "csms-db-spans-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let database = try await Database.open(
            path: directory + "/test.sqlite", migrations: [], options: .init(tracing: DatabaseSpans(tracer: tracer)))
        try await database.write { try $0.execute("CREATE TABLE t (x INTEGER)") }
        #expect(tracer.finishedSpans.isEmpty)

        let parent = tracer.startSpan("OCPP MeterValues", context: .topLevel)
        try await ServiceContext.$current.withValue(parent.context) {
            try await database.write { try $0.run("INSERT INTO t (x) VALUES (?)", 42) }
            _ = try await database.read { try $0.queryFirst("SELECT x FROM t") { try $0.get(0, as: Int.self) } }
        }
        parent.end()
        await database.close()

        let spans = tracer.finishedSpans.filter { $0.operationName.hasPrefix("db.") }
        #expect(spans.count == 2)
        let write = try #require(spans.first { attribute($0, "db.operation") == .string("write") })
        let read = try #require(spans.first { attribute($0, "db.operation") == .string("read") })
        for span in [write, read] {
            #expect(span.traceID == parent.context.inMemorySpanContext?.traceID)
            #expect(span.parentSpanID == parent.context.inMemorySpanContext?.spanID)
            #expect(attribute(span, "db.caller") == .string("TracingTests.spans"))
            #expect(attribute(span, "db.batch_size") == .int64(1))
        }
        #expect(write.operationName == "db.write TracingTests.spans")
        // Bound values never appear.
        write.attributes.forEach { _, value in #expect(value != .int64(42) && value != .string("42")) }
    }
}

@Suite("HTTP spans")
struct HTTPSpanTests {
    @Test("a request's span is named by method and route pattern, with status and the caller's role")
    func requestSpan() async throws {
        let tracer = InMemoryTracer()
        try await withApp(withAdmin, tracer: tracer) { client, _ in
            let token = try await client.adminToken()
            _ = try await client.call(.get, "/api/v1/stations/NOPE-1?token=secret", token: token)
            _ = try await client.call(.get, "/no/such/route")
        }
        let spans = tracer.finishedSpans.filter { $0.kind == .server }
        let station = try #require(spans.first { $0.operationName == "GET /api/v1/stations/{id}" })
        #expect(attribute(station, "http.route") == .string("/api/v1/stations/{id}"))
        #expect(attribute(station, "http.response.status_code") == .int64(404))
        #expect(attribute(station, "http.request.method") == .string("GET"))
        #expect(attribute(station, "enduser.role") == .string("admin"))
        let unmatched = try #require(spans.first { $0.operationName == "GET unmatched" })
        #expect(attribute(unmatched, "enduser.role") == nil)
        for span in spans {
            span.attributes.forEach { _, value in
                if case .string(let text) = value { #expect(!text.contains("secret") && !text.contains("NOPE-1")) }
            }
        }
        // The station lookup ran inside the request's trace.
        let lookup = try #require(tracer.finishedSpans.first { $0.operationName.hasPrefix("db.read") && $0.traceID == station.traceID })
        #expect(lookup.parentSpanID == station.spanID)
    }
}

@Suite("Tracing configuration")
struct TracingConfigurationTests {
    @Test("tracing is off unless an OTLP endpoint is given; the service name defaults to csms")
    func offByDefault() throws {
        let configuration = try AppConfiguration.load(from: ConfigurationSources())
        #expect(!configuration.tracing.enabled)
        #expect(configuration.tracing.serviceName == "csms")
        #expect(try configuration.tracing.makeTracer(logger: .init(label: "test")) == nil)
    }

    @Test("the endpoint is a base URL without a trailing slash, from flag, environment or file")
    func endpoint() throws {
        var sources = ConfigurationSources()
        sources.environment = ["CSMS_OTLP_ENDPOINT": "http://127.0.0.1:4318/", "CSMS_OTEL_SERVICE_NAME": "csms-eu"]
        let configuration = try AppConfiguration.load(from: sources)
        #expect(configuration.tracing.otlpEndpoint == "http://127.0.0.1:4318")
        #expect(configuration.tracing.serviceName == "csms-eu")
        #expect(configuration.tracing.enabled)
    }

    @Test("an endpoint that is not an http(s) URL is refused at startup, naming the key", arguments: [
        "localhost:4318", "ftp://collector:4318", "http://collector:4318/?token=x", "",
    ])
    func invalid(_ value: String) {
        var sources = ConfigurationSources()
        sources.flags = ["otlpEndpoint": value]
        #expect {
            try AppConfiguration.load(from: sources)
        } throws: { error in
            let error = error as? ConfigurationError
            return error?.key == "otlpEndpoint" && error?.allowed.contains("http://127.0.0.1:4318") == true
        }
    }
}
