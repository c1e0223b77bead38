import Foundation
import NIOCore
import OCPP
import Synchronization

/// A frame from a charger that needs an answer from us, in the order it arrived.
enum InboundMessage: Sendable {
    case call(id: String, action: String, payload: JSONObject, frame: String, receivedAt: Date)
    /// A frame we could not read as OCPP-J: answered with a FormationViolation in its turn.
    case malformed(OCPPFrame.DecodingError, frame: String, receivedAt: Date)
}

/// The CALLs a connection has read but not yet answered, handled one at a time and in order by a
/// consumer task that is started when the first one arrives and ends when none is left — an idle
/// charger costs no task. The task runs on the channel's event loop (see `EventLoopTaskExecutor`).
/// At most `capacity` wait: then the reader stops reading, so a charger that floods us is slowed
/// by TCP, not buffered without end. Beyond `throttle` CALLs per second the next one is handled
/// only when the connection's bucket has a token again: a flood is answered later, never dropped
/// (chargers retry transaction messages until they are answered).
final class InboundCalls: Sendable {
    static let defaultCapacity = 16

    private struct State {
        var queue: [InboundMessage] = []
        var consuming = false
        var finished = false
        var bucket: TokenBucket?
    }

    private let state: Mutex<State>
    private let executor: EventLoopTaskExecutor
    private let throttle: RateLimitRule?
    private let throttled: @Sendable () -> Void
    let capacity: Int

    /// `throttle`: a quota per one-second window; nil: none. `throttled` is told of each delay.
    init(
        capacity: Int, eventLoop: any EventLoop, throttle: RateLimitRule? = nil,
        throttled: @escaping @Sendable () -> Void = {}
    ) {
        self.capacity = max(1, capacity)
        executor = EventLoopTaskExecutor(eventLoop)
        self.throttle = throttle
        self.throttled = throttled
        state = Mutex(State(bucket: throttle.map { TokenBucket(full: $0, now: MonotonicSeconds.now()) }))
    }

    var count: Int { state.withLock { $0.queue.count } }

    /// Queues `message` and starts the consumer if none runs. Returns false when the queue is now
    /// full: the caller stops reading until `handle` says there is room again.
    func put(
        _ message: InboundMessage, handle: @escaping @Sendable (InboundMessage) async -> Void,
        roomAgain: @escaping @Sendable () -> Void
    ) -> Bool {
        let (start, hasRoom) = state.withLock { state -> (Bool, Bool) in
            state.queue.append(message)
            let start = !state.consuming
            state.consuming = true
            return (start, state.queue.count < capacity)
        }
        if start {
            Task(executorPreference: executor) { await self.consume(handle: handle, roomAgain: roomAgain) }
        }
        return hasRoom
    }

    /// The socket closed: nothing more will be put. Messages already read are still handled (a
    /// StopTransaction read just before the close is recorded; the charger retries for its answer).
    func finish() {
        state.withLock { $0.finished = true }
    }

    private func consume(
        handle: @Sendable (InboundMessage) async -> Void, roomAgain: @Sendable () -> Void
    ) async {
        while true {
            let next = state.withLock { state -> (message: InboundMessage, wasFull: Bool, wait: Double?)? in
                guard !state.queue.isEmpty else {
                    state.consuming = false
                    return nil
                }
                let wasFull = state.queue.count >= capacity
                // Taken under the lock the dequeue holds anyway: no extra lock per message.
                let wait = throttle.flatMap { state.bucket?.take($0, now: MonotonicSeconds.now()) }
                return (state.queue.removeFirst(), wasFull, wait)
            }
            guard let next else { return }
            if next.wasFull && !state.withLock({ $0.finished }) { roomAgain() }
            if let wait = next.wait { await waitForToken(sleeping: wait) }
            await handle(next.message)
        }
    }

    /// Sleeps until the connection's bucket has a token again, and takes it.
    private func waitForToken(sleeping first: Double) async {
        guard let throttle else { return }
        throttled()
        var wait: Double? = first
        while let seconds = wait {
            try? await Task.sleep(for: .seconds(seconds))
            wait = state.withLock { $0.bucket?.take(throttle, now: MonotonicSeconds.now()) }
        }
    }
}

/// Runs tasks on one NIO event loop. A charger's CALLs are handled on its channel's loop: the frame
/// was read there and the answer is written there, so a message costs no hop to the cooperative
/// pool and back (two thread wake-ups on a 2-core box, and most of the pool's time under load).
/// Only the handling's CPU work runs on the loop; SQLite calls still go to the database's threads,
/// and the task resumes here when they are done.
final class EventLoopTaskExecutor: TaskExecutor {
    private let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
