import Hummingbird
import Observability

/// `/health` (liveness), `/health/ready` (every check), `/metrics` (Prometheus text) and
/// `/openapi.json` (the API's description).
struct SystemController {
    let health: HealthMonitor
    let metrics: RequestMetrics

    func addRoutes(to router: some RouterMethods<AppRequestContext>) {
        router.get("/health") { _, _ in
            // Liveness stays cheap: answering at all is the signal.
            try jsonResponse(["status": "ok"])
        }
        router.get("/health/ready") { _, _ in
            let report = await health.report()
            return try jsonResponse(report, status: report.status == .unhealthy ? .serviceUnavailable : .ok)
        }
        router.get("/metrics") { _, _ in
            let buffer = ByteBuffer(bytes: metrics.registry.emitToBuffer())
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: buffer))
        }
        router.get("/openapi.json") { _, _ in
            JSONReply(status: .ok, headers: [:], data: OpenAPIDocument.data).response
        }
    }
}
