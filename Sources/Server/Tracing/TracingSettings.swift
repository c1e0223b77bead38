import Logging
import OTel
import ServiceLifecycle
import Tracing

/// OpenTelemetry traces: off unless an OTLP endpoint is configured. Spans are batched and sent
/// over OTLP/HTTP with protobuf bodies. The batching honours the standard variables
/// (`OTEL_BSP_SCHEDULE_DELAY` in milliseconds, `OTEL_BSP_MAX_QUEUE_SIZE`, …); other `OTEL_*`
/// variables the OTel SDKs read (such as `OTEL_EXPORTER_OTLP_HEADERS`) apply as well.
struct TracingSettings: Sendable {
    /// The collector's base URL (`http://127.0.0.1:4318`); spans go to `<base>/v1/traces`.
    var otlpEndpoint: String?
    var serviceName: String

    var enabled: Bool { otlpEndpoint != nil }

    /// A short delay by default: spans show up in a second, and a batch is still one request.
    static let defaultScheduleDelay = Duration.seconds(1)

    /// The tracer, and the exporter service that sends its spans (and flushes them at shutdown);
    /// nil when tracing is off. We keep the tracer to ourselves instead of bootstrapping the global
    /// instrumentation system: the exporter's own HTTP client would otherwise trace its exports.
    func makeTracer(logger: Logger) throws -> (tracer: any Tracer, exporter: any Service)? {
        guard let otlpEndpoint else { return nil }
        var configuration = OTel.Configuration.default
        configuration.serviceName = serviceName
        configuration.diagnosticLogger = .custom(logger)
        configuration.diagnosticLogLevel = .warning
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.propagators = [.traceContext]
        configuration.traces.exporter = .otlp
        configuration.traces.otlpExporter.protocol = .httpProtobuf
        configuration.traces.otlpExporter.endpoint = otlpEndpoint + "/v1/traces"
        configuration.traces.batchSpanProcessor.scheduleDelay = Self.defaultScheduleDelay
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        return (backend.factory, backend.service)
    }

    /// Puts the current span's ids on every log line, under the names our JSON lines use.
    static let logMetadata: Logger.MetadataProvider = {
        var keys = OTel.Configuration.LoggingMetadataProviderConfiguration.default
        keys.traceIDKey = "traceId"
        keys.spanIDKey = "spanId"
        keys.traceFlagsKey = "traceFlags"
        return OTel.makeLoggingMetadataProvider(configuration: keys)
    }()
}
