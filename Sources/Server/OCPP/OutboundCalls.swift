import Foundation
import OCPP
import Synchronization
import Tracing

/// What a charge point answered to one of our CALLs.
enum CallAnswer: Sendable, Equatable {
    /// The CALLRESULT payload, not yet checked against the action's response schema.
    case result(JSONObject)
    case error(code: String, description: String)
}

/// Why one of our CALLs got no usable answer. Mapped to HTTP by `OCPPController`.
enum OutboundCallError: Error, Sendable, Equatable {
    case queueFull
    case timedOut
    case notConnected
    /// The charger answered with a CALLERROR.
    case callError(code: String, description: String)
    /// The charger's CALLRESULT breaks the action's response schema.
    case invalidResponse(action: String, OCPPValidationError)
    /// Our own request breaks its schema: a bug of ours, never sent.
    case invalidRequest(action: String, OCPPValidationError)
}

/// One finished exchange we started, for the message log: the CALL as sent and the answer as
/// read (nil when the call timed out or the connection closed).
struct OutboundExchange: Sendable {
    let messageID: String
    let action: String
    let frame: String
    let sentAt: Date
    var answer: (messageType: Int, frame: String, at: Date)?
}

/// CSMS→charge point calls of one connection: strictly one CALL in flight, the rest waiting in
/// FIFO order in a bounded queue. An answer is matched by message id to the call in flight only,
/// so a late answer to a timed-out call is dropped, never taken for a newer call's. `receive` is
/// synchronous so the channel handler can deliver an answer on its event loop the moment it is read.
final class OutboundCalls: Sendable {
    private struct Waiting {
        let id: String
        let action: String
        let frame: String
        let continuation: CheckedContinuation<CallAnswer, any Error>
        /// With tracing on: the call's span, and when it joined the queue.
        var span: (any Span)? = nil
        var queuedAt: ContinuousClock.Instant? = nil
    }

    private struct InFlight {
        let call: Waiting
        let sentAt: ContinuousClock.Instant
        let sentAtDate: Date
        let timeout: Task<Void, Never>
    }

    private struct State {
        var waiting: [Waiting] = []
        var inFlight: InFlight?
        var closed = false
        /// The last calls that timed out, so a late answer is still logged with its action.
        var timedOut: [(id: String, action: String)] = []
    }

    static let rememberedTimeouts = 8

    private let state = Mutex(State())
    private let capacity: Int
    private let timeout: Duration
    private let send: @Sendable (String) -> Void
    private let observe: @Sendable (_ action: String, _ outcome: String, _ duration: Duration) -> Void
    private let finished: @Sendable (OutboundExchange) -> Void
    /// Nil unless tracing is on.
    private let tracing: OCPPTracing?
    private let stationID: String

    /// `send` writes a text frame without waiting; `observe` gets each call's outcome for the
    /// metrics; `finished` each exchange for the message log.
    init(
        capacity: Int, timeout: Duration, send: @escaping @Sendable (String) -> Void,
        observe: @escaping @Sendable (String, String, Duration) -> Void = { _, _, _ in },
        finished: @escaping @Sendable (OutboundExchange) -> Void = { _ in },
        tracing: OCPPTracing? = nil, stationID: String = ""
    ) {
        self.tracing = tracing
        self.stationID = stationID
        self.capacity = capacity
        self.timeout = timeout
        self.send = send
        self.observe = observe
        self.finished = finished
    }

    var depth: Int { state.withLock { $0.waiting.count + ($0.inFlight == nil ? 0 : 1) } }

    /// Sends `action` with `payload` when it is this call's turn; returns the answer.
    func call(_ action: String, payload: JSONValue) async throws -> CallAnswer {
        let id = UUID().uuidString.lowercased()
        let frame = JSONWriter.string(.array([.int(2), .string(id), .string(action), payload]))
        guard let tracing else {
            return try await enqueue(id: id, action: action, frame: frame, span: nil, queuedAt: nil)
        }
        let span = tracing.outbound(stationID: stationID, action: action, messageID: id, payload: payload)
        do {
            let answer = try await enqueue(id: id, action: action, frame: frame, span: span, queuedAt: .now)
            OCPPTracing.finish(span, OCPPSpanResult(answer))
            return answer
        } catch {
            OCPPTracing.finish(span, OCPPSpanResult(error))
            throw error
        }
    }

    private func enqueue(
        id: String, action: String, frame: String, span: (any Span)?, queuedAt: ContinuousClock.Instant?
    ) async throws -> CallAnswer {
        try await withCheckedThrowingContinuation { continuation in
            let waiting = Waiting(
                id: id, action: action, frame: frame, continuation: continuation, span: span, queuedAt: queuedAt)
            let admitted = state.withLock { state -> OutboundCallError? in
                if state.closed { return .notConnected }
                if state.waiting.count >= capacity { return .queueFull }
                state.waiting.append(waiting)
                return nil
            }
            if let admitted {
                continuation.resume(throwing: admitted)
            } else {
                pump()
            }
        }
    }

    /// A CALLRESULT or CALLERROR arrived (`frame` as read, for the log); false when it answers
    /// nothing in flight (late or unknown).
    func receive(id: String, answer: CallAnswer, frame: String, messageType: Int) -> Bool {
        let current = state.withLock { state -> InFlight? in
            guard let current = state.inFlight, current.call.id == id else { return nil }
            state.inFlight = nil
            return current
        }
        guard let current else { return false }
        current.timeout.cancel()
        let outcome = if case .result = answer { "result" } else { "error" }
        observe(current.call.action, outcome, ContinuousClock.now - current.sentAt)
        finished(
            OutboundExchange(
                messageID: id, action: current.call.action, frame: current.call.frame, sentAt: current.sentAtDate,
                answer: (messageType, frame, Date())))
        current.call.continuation.resume(returning: answer)
        pump()
        return true
    }

    /// The action of a recent call that timed out before `id` answered it; nil for an unknown id.
    func lateAction(id: String) -> String? {
        state.withLock { state in state.timedOut.last(where: { $0.id == id })?.action }
    }

    /// The connection is gone: every waiting caller learns it.
    func close() {
        let (current, waiting) = state.withLock { state -> (InFlight?, [Waiting]) in
            state.closed = true
            defer {
                state.inFlight = nil
                state.waiting.removeAll()
            }
            return (state.inFlight, state.waiting)
        }
        if let current {
            current.timeout.cancel()
            finished(unanswered(current))
            current.call.continuation.resume(throwing: OutboundCallError.notConnected)
        }
        for call in waiting { call.continuation.resume(throwing: OutboundCallError.notConnected) }
    }

    private func pump() {
        let next = state.withLock { state -> Waiting? in
            guard state.inFlight == nil, !state.closed, !state.waiting.isEmpty else { return nil }
            let next = state.waiting.removeFirst()
            let id = next.id
            let timeout = timeout
            let timer = Task { [weak self] in
                try? await Task.sleep(for: timeout)
                guard !Task.isCancelled else { return }
                self?.timedOut(id)
            }
            state.inFlight = InFlight(call: next, sentAt: .now, sentAtDate: Date(), timeout: timer)
            return next
        }
        guard let next else { return }
        if let span = next.span, let queuedAt = next.queuedAt {
            span.attributes["ocpp.queue_wait_ms"] = (ContinuousClock.now - queuedAt).milliseconds
        }
        send(next.frame)
    }

    private func timedOut(_ id: String) {
        let current = state.withLock { state -> InFlight? in
            guard let current = state.inFlight, current.call.id == id else { return nil }
            state.inFlight = nil
            state.timedOut.append((id, current.call.action))
            if state.timedOut.count > Self.rememberedTimeouts { state.timedOut.removeFirst() }
            return current
        }
        guard let current else { return }
        observe(current.call.action, "timeout", ContinuousClock.now - current.sentAt)
        finished(unanswered(current))
        current.call.continuation.resume(throwing: OutboundCallError.timedOut)
        pump()
    }

    private func unanswered(_ call: InFlight) -> OutboundExchange {
        OutboundExchange(messageID: call.call.id, action: call.call.action, frame: call.call.frame, sentAt: call.sentAtDate)
    }
}
