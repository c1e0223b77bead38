/// Lets the server trace database work without Storage depending on a tracing library: the
/// server implements it with spans, Storage only says when a job is queued, starts and ends.
public protocol DatabaseTracing: Sendable {
    /// Called in the caller's task before the job is queued, where the caller's trace context is
    /// still at hand. Nil: this job is not traced (for instance, no trace is active).
    func job(_ kind: DatabaseJobKind, file: StaticString, function: StaticString) -> (any DatabaseJobTrace)?
}

public enum DatabaseJobKind: String, Sendable {
    case read, write
}

/// One traced job. Made in the caller, then used only on the connection's thread.
/// `started` may be called again when a batch is run a second time (each write in a savepoint
/// after one failed); `finished` may be called more than once and counts the first time only.
public protocol DatabaseJobTrace: AnyObject, Sendable {
    /// `batchSize`: the writes committed together in this transaction (1 for a read).
    func started(batchSize: Int)
    func finished(_ error: (any Error)?)
}
