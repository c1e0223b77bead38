import OCPP
import Tracing

/// Spans for OCPP messages. It exists only when tracing is on (`OCPPService.tracing` and
/// `OutboundCalls.tracing` are nil otherwise), so a message costs one nil check when it is off.
/// Attributes name the station, action, message id and answer, never a payload: payloads carry
/// id tags, passwords and certificates.
final class OCPPTracing: Sendable {
    let tracer: any Tracer
    let remoteStarts: RemoteStartCorrelation<ServiceContext>

    init(tracer: any Tracer, remoteStarts: RemoteStartCorrelation<ServiceContext> = .init()) {
        self.tracer = tracer
        self.remoteStarts = remoteStarts
    }

    /// A charger's CALL, from its turn to be handled until our answer is written. A StartTransaction
    /// for a tag we remote-started at this station continues the remote start's trace, as its child.
    func inbound(stationID: String, action: String, messageID: String, payload: JSONObject) -> any Span {
        var parent = ServiceContext.topLevel
        var continued = false
        if action == "StartTransaction", case .string(let idTag)? = payload["idTag"],
            let remembered = remoteStarts.take(stationID: stationID, idTag: idTag, now: .now)
        {
            parent = remembered
            continued = true
        }
        let span = tracer.startSpan("OCPP \(action)", context: parent, ofKind: .server)
        span.attributes = Self.attributes(stationID: stationID, action: action, messageID: messageID, direction: "in")
        if continued { span.attributes["ocpp.remote_start"] = true }
        return span
    }

    /// Our CALL to a charger, from its queueing until the answer (or the timeout); a child of the
    /// caller's span. A RemoteStartTransaction is remembered for the StartTransaction it causes.
    func outbound(stationID: String, action: String, messageID: String, payload: JSONValue) -> any Span {
        let span = tracer.startSpan("OCPP \(action)", context: ServiceContext.current ?? .topLevel, ofKind: .client)
        span.attributes = Self.attributes(stationID: stationID, action: action, messageID: messageID, direction: "out")
        if action == "RemoteStartTransaction", case .object(let request) = payload, case .string(let idTag)? = request["idTag"] {
            remoteStarts.remember(span.context, stationID: stationID, idTag: idTag, now: .now)
        }
        return span
    }

    static func attributes(stationID: String, action: String, messageID: String, direction: String) -> SpanAttributes {
        var attributes = SpanAttributes()
        attributes["ocpp.station_id"] = stationID
        attributes["ocpp.action"] = action
        attributes["ocpp.message_id"] = messageID
        attributes["ocpp.direction"] = direction
        return attributes
    }

    /// Records how the exchange ended and ends the span.
    static func finish(_ span: any Span, _ result: OCPPSpanResult) {
        span.attributes["ocpp.result"] = result.name
        if let code = result.errorCode { span.attributes["ocpp.error_code"] = code }
        if result.isError { span.setStatus(SpanStatus(code: .error, message: result.errorCode ?? result.name)) }
        span.end()
    }
}

/// How one OCPP exchange ended, as its span says: `CALLRESULT`, or `CALLERROR` with the code, or
/// (our CALLs only) no answer at all.
enum OCPPSpanResult: Equatable, Sendable {
    case callResult
    case callError(code: String)
    case timeout
    case notConnected
    case queueFull
    case invalidRequest
    case invalidResponse

    init(_ outcome: DispatchOutcome) {
        switch outcome {
        case .result: self = .callResult
        case .callError(let error), .failed(let error, _): self = .callError(code: error.code.rawValue)
        }
    }

    init(_ answer: CallAnswer) {
        switch answer {
        case .result: self = .callResult
        case .error(let code, _): self = .callError(code: code)
        }
    }

    init(_ error: any Error) {
        switch error as? OutboundCallError {
        case .timedOut: self = .timeout
        case .queueFull: self = .queueFull
        case .callError(let code, _): self = .callError(code: code)
        case .invalidResponse: self = .invalidResponse
        case .invalidRequest: self = .invalidRequest
        case .notConnected, nil: self = .notConnected
        }
    }

    var name: String {
        switch self {
        case .callResult: "CALLRESULT"
        case .callError: "CALLERROR"
        case .timeout: "timeout"
        case .notConnected: "not_connected"
        case .queueFull: "queue_full"
        case .invalidRequest: "invalid_request"
        case .invalidResponse: "invalid_response"
        }
    }

    var errorCode: String? {
        if case .callError(let code) = self { code } else { nil }
    }

    var isError: Bool { self != .callResult }
}
