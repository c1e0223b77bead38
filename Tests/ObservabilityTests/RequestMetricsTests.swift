import Foundation
import Observability
import Prometheus
import Testing

@Suite("Request metrics")
struct RequestMetricsTests {
    @Test("counts, error classes, average and last latency per service and in total")
    func arithmetic() {
        let metrics = RequestMetrics(registry: PrometheusCollectorRegistry())
        metrics.record(service: "stations", method: "GET", route: "/s/{id}", status: 200, duration: .milliseconds(10))
        metrics.record(service: "stations", method: "GET", route: "/s/{id}", status: 404, duration: .milliseconds(20))
        metrics.record(service: "stations", method: "POST", route: "/s", status: 503, duration: .milliseconds(60))
        metrics.record(service: "auth", method: "POST", route: "/login", status: 429, duration: .milliseconds(2))

        let stations = metrics.service("stations")
        #expect(stations.requests == 3)
        #expect(stations.clientErrors == 1)
        #expect(stations.serverErrors == 1)
        #expect(abs(stations.averageResponseTimeMs - 30) < 0.001)
        #expect(abs(stations.lastResponseTimeMs - 60) < 0.001)

        let total = metrics.total()
        #expect(total.requests == 4)
        #expect(total.clientErrors == 2)
        #expect(total.serverErrors == 1)
        #expect(abs(total.averageResponseTimeMs - 23) < 0.001)
        #expect(abs(total.lastResponseTimeMs - 2) < 0.001)

        let unknown = metrics.service("unknown")
        #expect(unknown.requests == 0 && unknown.averageResponseTimeMs == 0 && unknown.lastResponseTimeMs == 0)
    }

    @Test("Prometheus series are labelled by route pattern, with a latency histogram")
    func prometheusExposition() {
        let registry = PrometheusCollectorRegistry()
        let metrics = RequestMetrics(registry: registry)
        for _ in 0..<3 {
            metrics.record(service: "stations", method: "GET", route: "/api/v1/stations/{id}", status: 200, duration: .milliseconds(3))
        }
        metrics.record(service: "stations", method: "GET", route: "/api/v1/stations/{id}", status: 404, duration: .milliseconds(700))
        let text = registry.emitToString()
        #expect(text.contains(#"http_requests_total{service="stations",method="GET",route="/api/v1/stations/{id}",status="200"} 3"#))
        #expect(text.contains(#"http_requests_total{service="stations",method="GET",route="/api/v1/stations/{id}",status="404"} 1"#))
        #expect(text.contains(#"http_request_duration_seconds_bucket{service="stations",method="GET",route="/api/v1/stations/{id}",le="0.005"} 3"#))
        #expect(text.contains(#"http_request_duration_seconds_count{service="stations",method="GET",route="/api/v1/stations/{id}"} 4"#))
    }

    @Test("invented methods share one series, so a client cannot grow /metrics without bound")
    func methodLabelsAreBounded() {
        let registry = PrometheusCollectorRegistry()
        let metrics = RequestMetrics(registry: registry)
        for index in 0..<500 {
            metrics.record(service: "gateway", method: "X\(index)", route: "unmatched", status: 405, duration: .milliseconds(1))
        }
        let text = registry.emitToString()
        #expect(text.contains(#"http_requests_total{service="gateway",method="OTHER",route="unmatched",status="405"} 500"#))
        #expect(!text.contains(#"method="X1""#))
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("http_requests_total{") }.count == 1)
    }
}
