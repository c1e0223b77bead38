import Foundation

/// What a charge point answered to one of our CALLs.
enum CallOutcome: Sendable, Equatable {
    /// The CALLRESULT payload, as JSON text.
    case result(String)
    case error(code: String, description: String)
}

enum OutboundCallError: Error, Sendable, Equatable {
    case queueFull
    case timedOut
    case notConnected
}

/// CSMS→charge point calls of one connection: strictly one CALL in flight, the rest waiting in
/// FIFO order in a bounded queue. An answer is matched by message id to the call in flight only,
/// so a late answer to a timed-out call is dropped, never taken for a newer call's.
actor OutboundCalls {
    private struct Waiting {
        let id: String
        let action: String
        let payload: String
        let continuation: CheckedContinuation<CallOutcome, any Error>
    }

    private struct InFlight {
        let id: String
        let action: String
        let continuation: CheckedContinuation<CallOutcome, any Error>
        let sentAt: ContinuousClock.Instant
        let timeout: Task<Void, Never>
    }

    private var waiting: [Waiting] = []
    private var inFlight: InFlight?
    private var closed = false
    private let capacity: Int
    private let timeout: Duration
    private let send: @Sendable (String) async throws -> Void
    private let observe: @Sendable (_ action: String, _ outcome: String, _ duration: Duration) -> Void

    init(
        capacity: Int, timeout: Duration, send: @escaping @Sendable (String) async throws -> Void,
        observe: @escaping @Sendable (String, String, Duration) -> Void = { _, _, _ in }
    ) {
        self.capacity = capacity
        self.timeout = timeout
        self.send = send
        self.observe = observe
    }

    var depth: Int { waiting.count + (inFlight == nil ? 0 : 1) }

    /// Sends `action` with `payload` (JSON text) when it is this call's turn; returns the answer.
    func call(_ action: String, payload: String) async throws -> CallOutcome {
        guard !closed else { throw OutboundCallError.notConnected }
        guard waiting.count < capacity else { throw OutboundCallError.queueFull }
        return try await withCheckedThrowingContinuation { continuation in
            waiting.append(Waiting(id: UUID().uuidString.lowercased(), action: action, payload: payload, continuation: continuation))
            pump()
        }
    }

    /// A CALLRESULT or CALLERROR arrived; false when it answers nothing in flight (late or unknown).
    func receive(id: String, outcome: CallOutcome) -> Bool {
        guard let current = inFlight, current.id == id else { return false }
        inFlight = nil
        current.timeout.cancel()
        observe(current.action, { if case .result = outcome { "result" } else { "error" } }(), ContinuousClock.now - current.sentAt)
        current.continuation.resume(returning: outcome)
        pump()
        return true
    }

    /// The connection is gone: every waiting caller learns it.
    func close() {
        closed = true
        if let current = inFlight {
            current.timeout.cancel()
            current.continuation.resume(throwing: OutboundCallError.notConnected)
            inFlight = nil
        }
        for call in waiting { call.continuation.resume(throwing: OutboundCallError.notConnected) }
        waiting.removeAll()
    }

    private func pump() {
        guard inFlight == nil, !closed, !waiting.isEmpty else { return }
        let next = waiting.removeFirst()
        let timeout = timeout
        let id = next.id
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            guard !Task.isCancelled else { return }
            await self?.timedOut(id)
        }
        inFlight = InFlight(id: id, action: next.action, continuation: next.continuation, sentAt: .now, timeout: timer)
        let frame = "[2,\(Self.jsonString(id)),\(Self.jsonString(next.action)),\(next.payload)]"
        let send = send
        Task { [weak self] in
            do {
                try await send(frame)
            } catch {
                await self?.failInFlight(id, error: OutboundCallError.notConnected)
            }
        }
    }

    private func timedOut(_ id: String) {
        guard let current = inFlight, current.id == id else { return }
        inFlight = nil
        observe(current.action, "timeout", ContinuousClock.now - current.sentAt)
        current.continuation.resume(throwing: OutboundCallError.timedOut)
        pump()
    }

    private func failInFlight(_ id: String, error: any Error) {
        guard let current = inFlight, current.id == id else { return }
        inFlight = nil
        current.timeout.cancel()
        current.continuation.resume(throwing: error)
        pump()
    }

    static func jsonString(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
        return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
    }
}
