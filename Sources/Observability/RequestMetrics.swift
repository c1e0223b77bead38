import Foundation
import Prometheus
import Synchronization

/// Request statistics per service and in total (the numbers each service of the old design
/// reported), plus Prometheus series labelled by route pattern — never by raw path, which would
/// create a series per station id.
public final class RequestMetrics: Sendable {
    public struct Stats: Sendable, Codable, Equatable {
        public var requests: Int = 0
        public var clientErrors: Int = 0
        public var serverErrors: Int = 0
        public var averageResponseTimeMs: Double = 0
        public var lastResponseTimeMs: Double = 0
        public var uptimeSeconds: Int = 0
    }

    private struct Accumulator {
        var requests = 0
        var clientErrors = 0
        var serverErrors = 0
        var totalMilliseconds: Double = 0
        var lastMilliseconds: Double = 0

        mutating func add(status: Int, milliseconds: Double) {
            requests += 1
            if (400..<500).contains(status) { clientErrors += 1 }
            if status >= 500 { serverErrors += 1 }
            totalMilliseconds += milliseconds
            lastMilliseconds = milliseconds
        }
    }

    private struct SeriesKey: Hashable {
        let service: String
        let method: String
        let route: String
        let status: Int
    }

    private struct State {
        var total = Accumulator()
        var services: [String: Accumulator] = [:]
        var counters: [SeriesKey: Counter] = [:]
        var histograms: [SeriesKey: DurationHistogram] = [:]
    }

    public static let latencyBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
        .seconds(10),
    ]

    private static var requestsDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
        namespace: "http", metricName: "requests", unitName: "total",
        helpText: "HTTP requests by service, method, route pattern and status")
    }
    private static var durationDescriptor: MetricNameDescriptor {
        MetricNameDescriptor(
        namespace: "http", metricName: "request_duration", unitName: "seconds",
        helpText: "HTTP request latency by service, method and route pattern")
    }

    public let registry: PrometheusCollectorRegistry
    private let state = Mutex(State())
    private let startedAt: ContinuousClock.Instant

    public init(registry: PrometheusCollectorRegistry, startedAt: ContinuousClock.Instant = .now) {
        self.registry = registry
        self.startedAt = startedAt
    }

    /// A client may send any method token; only the standard ones become label values, so that
    /// invented methods cannot create series without bound.
    public static let labelledMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    public func record(service: String, method: String, route: String, status: Int, duration: Duration) {
        let method = Self.labelledMethods.contains(method) ? method : "OTHER"
        let status = (100...599).contains(status) ? status : 0
        let milliseconds = duration.milliseconds
        let counterKey = SeriesKey(service: service, method: method, route: route, status: status)
        let histogramKey = SeriesKey(service: service, method: method, route: route, status: 0)
        let (counter, histogram) = state.withLock { state in
            state.total.add(status: status, milliseconds: milliseconds)
            state.services[service, default: Accumulator()].add(status: status, milliseconds: milliseconds)
            // Series are looked up once and kept: the registry's own lookup takes a lock and builds labels.
            let counter =
                state.counters[counterKey]
                ?? {
                    let made = registry.makeCounter(
                        descriptor: Self.requestsDescriptor,
                        labels: [("service", service), ("method", method), ("route", route), ("status", String(status))])
                    state.counters[counterKey] = made
                    return made
                }()
            let histogram =
                state.histograms[histogramKey]
                ?? {
                    let made = registry.makeDurationHistogram(
                        descriptor: Self.durationDescriptor,
                        labels: [("service", service), ("method", method), ("route", route)],
                        buckets: Self.latencyBuckets)
                    state.histograms[histogramKey] = made
                    return made
                }()
            return (counter, histogram)
        }
        counter.increment()
        histogram.recordNanoseconds(Int64(milliseconds * 1_000_000))
    }

    public func total() -> Stats {
        state.withLock { stats(from: $0.total) }
    }

    public func service(_ name: String) -> Stats {
        state.withLock { stats(from: $0.services[name] ?? Accumulator()) }
    }

    private func stats(from accumulator: Accumulator) -> Stats {
        Stats(
            requests: accumulator.requests, clientErrors: accumulator.clientErrors,
            serverErrors: accumulator.serverErrors,
            averageResponseTimeMs: accumulator.requests == 0
                ? 0 : accumulator.totalMilliseconds / Double(accumulator.requests),
            lastResponseTimeMs: accumulator.lastMilliseconds,
            uptimeSeconds: Int((ContinuousClock.now - startedAt).components.seconds))
    }
}
