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
/// by TCP, not buffered without end.
final class InboundCalls: Sendable {
    static let defaultCapacity = 16

    private struct State {
        var queue: [InboundMessage] = []
        var consuming = false
        var finished = false
    }

    private let state = Mutex(State())
    private let executor: EventLoopTaskExecutor
    let capacity: Int

    init(capacity: Int, eventLoop: any EventLoop) {
        self.capacity = max(1, capacity)
        executor = EventLoopTaskExecutor(eventLoop)
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
            let next = state.withLock { state -> (message: InboundMessage, wasFull: Bool)? in
                guard !state.queue.isEmpty else {
                    state.consuming = false
                    return nil
                }
                let wasFull = state.queue.count >= capacity
                return (state.queue.removeFirst(), wasFull)
            }
            guard let next else { return }
            if next.wasFull && !state.withLock({ $0.finished }) { roomAgain() }
            await handle(next.message)
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
