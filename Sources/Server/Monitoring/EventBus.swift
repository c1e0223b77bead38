import Foundation
import NIOCore
import Synchronization
import Tracing

/// One live event for `/api/v1/events`. Its JSON is made on first use, once, and shared by every
/// subscriber: most events (a session update per MeterValues) are published with nobody listening.
final class LiveEvent: Sendable {
    let id: Int64
    let type: String
    let stationID: String?
    private let payload: any Encodable & Sendable
    private let encoded = Mutex<String?>(nil)

    init(id: Int64, type: String, stationID: String?, payload: any Encodable & Sendable) {
        self.id = id
        self.type = type
        self.stationID = stationID
        self.payload = payload
    }

    /// The event's JSON payload.
    var data: String {
        encoded.withLock { encoded in
            if let encoded { return encoded }
            let text = (try? WireFormat.encoder.encode(payload)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            encoded = text
            return text
        }
    }
}

/// Fans events out to live subscribers and keeps the last ones so a client that reconnects with
/// `Last-Event-ID` misses nothing that is still in the buffer. Publishing never waits for a
/// subscriber: each has its own bounded buffer that drops the oldest when it falls behind.
final class EventBus: Sendable {
    static let bufferCapacity = 1000

    private struct State {
        var nextID: Int64 = 1
        /// A ring: dropping the oldest of a full buffer moves nothing.
        var recent = CircularBuffer<LiveEvent>(initialCapacity: EventBus.bufferCapacity)
        var subscribers: [UUID: AsyncStream<LiveEvent>.Continuation] = [:]
    }

    private let state = Mutex(State())
    /// Nil unless tracing is on: then a publish inside a trace is a span of it.
    private let tracer: (any Tracer)?

    init(tracer: (any Tracer)? = nil) {
        self.tracer = tracer
    }

    /// `payload` is a value, encoded only when a subscriber first reads the event.
    func publish(_ type: String, stationID: String?, payload: some Encodable & Sendable) {
        let span: (any Span)? =
            if let tracer, let parent = ServiceContext.current {
                tracer.startSpan("event.publish \(type)", context: parent, ofKind: .producer)
            } else {
                nil
            }
        defer { span?.end() }
        let subscribers = state.withLock { state in
            let event = LiveEvent(id: state.nextID, type: type, stationID: stationID, payload: payload)
            state.nextID += 1
            if state.recent.count >= Self.bufferCapacity { state.recent.removeFirst() }
            state.recent.append(event)
            return (event, state.subscribers.isEmpty ? [] : Array(state.subscribers.values))
        }
        for continuation in subscribers.1 { continuation.yield(subscribers.0) }
        if let span {
            span.attributes["event.type"] = type
            span.attributes["event.id"] = Int(subscribers.0.id)
            span.attributes["event.subscribers"] = subscribers.1.count
            if let stationID { span.attributes["ocpp.station_id"] = stationID }
        }
    }

    /// The buffered events after `lastEventID` and a stream of what comes next, taken
    /// atomically so nothing falls between the two.
    func subscribe(after lastEventID: Int64?) -> (backlog: [LiveEvent], events: AsyncStream<LiveEvent>) {
        let (stream, continuation) = AsyncStream.makeStream(of: LiveEvent.self, bufferingPolicy: .bufferingNewest(Self.bufferCapacity))
        let id = UUID()
        let backlog = state.withLock { state in
            state.subscribers[id] = continuation
            guard let lastEventID else { return [LiveEvent]() }
            return state.recent.filter { $0.id > lastEventID }
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return (backlog, stream)
    }

    var subscriberCount: Int { state.withLock { $0.subscribers.count } }
}
