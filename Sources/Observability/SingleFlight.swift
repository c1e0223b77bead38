import Synchronization

/// Runs an operation at most once at a time: callers arriving while it runs share its result.
final class SingleFlight<Value: Sendable>: Sendable {
    private let operation: @Sendable () async throws -> Value
    private let running = Mutex<Task<Value, any Error>?>(nil)

    init(_ operation: @escaping @Sendable () async throws -> Value) {
        self.operation = operation
    }

    func run() async throws -> Value {
        let task = running.withLock { running in
            if let task = running { return task }
            let task = Task { [operation] in
                defer { self.running.withLock { $0 = nil } }
                return try await operation()
            }
            running = task
            return task
        }
        return try await task.value
    }
}
