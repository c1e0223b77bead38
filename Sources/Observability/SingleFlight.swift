import Synchronization

/// Runs an operation at most once at a time: callers arriving while it runs share its result
/// instead of starting (or queueing) one each.
public final class SingleFlight<Value: Sendable>: Sendable {
    private let running = Mutex<Task<Value, any Error>?>(nil)

    public init() {}

    /// `operation`'s result, or the result of the run already in flight.
    public func run(_ operation: @escaping @Sendable () async throws -> Value) async throws -> Value {
        let task = running.withLock { running in
            if let task = running { return task }
            let task = Task {
                defer { self.running.withLock { $0 = nil } }
                return try await operation()
            }
            running = task
            return task
        }
        return try await task.value
    }
}
