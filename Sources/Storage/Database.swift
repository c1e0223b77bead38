import CSQLite
import Foundation
import Synchronization

/// The application's database: one serialized writer connection and a pool of read-only reader
/// connections, each on a thread of its own.
///
/// Writes are group-committed: the writer takes every write waiting in its queue, runs them in one
/// `BEGIN IMMEDIATE` transaction and commits once, so a burst of writes costs one commit. A write's
/// caller resumes only after that commit, so an acknowledged write is durable. A write that throws
/// is undone alone; the others in the batch still commit (see `commitTransaction`).
/// WAL checkpoints run on a thread of their own (`Checkpointer`), not inside the writer's commits.
public final class Database: Sendable {
    public struct Options: Sendable {
        public var readerCount: Int
        public var busyTimeoutMilliseconds: Int32
        /// The most writes one commit carries.
        public var maximumWriteBatch: Int
        /// A limit on the database's size in pages (SQLite's `max_page_count`); writes beyond it
        /// fail with `SQLITE_FULL` as on a full disk. Nil: only the disk limits it.
        public var maximumPageCount: Int?
        /// Traces each read and write; nil (tracing off) costs one nil check per job.
        public var tracing: (any DatabaseTracing)?

        public init(
            readerCount: Int = 2, busyTimeoutMilliseconds: Int32 = 5_000, maximumWriteBatch: Int = 512,
            maximumPageCount: Int? = nil, tracing: (any DatabaseTracing)? = nil
        ) {
            self.readerCount = readerCount
            self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
            self.maximumWriteBatch = maximumWriteBatch
            self.maximumPageCount = maximumPageCount
            self.tracing = tracing
        }
    }

    public let path: String
    private let writeQueue = JobQueue<WriteJob>()
    private let readQueue = JobQueue<ReadJob>()
    private let writer: ConnectionWorker<WriteJob>
    private let readers: [ConnectionWorker<ReadJob>]
    private let checkpointer: Checkpointer
    private let isOpen = Mutex(true)
    private let tracing: (any DatabaseTracing)?

    private init(
        path: String, writerConnection: Connection, readerConnections: [Connection], checkpointer: Checkpointer,
        options: Options
    ) {
        self.path = path
        self.checkpointer = checkpointer
        self.tracing = options.tracing
        checkpointer.take(over: writerConnection)
        let readQueue = self.readQueue
        writer = ConnectionWorker(
            name: "sqlite-writer", connection: writerConnection, queue: writeQueue,
            maximumBatch: options.maximumWriteBatch, process: { connection, jobs in Database.commitBatch(connection, jobs[...]) })
        readers = readerConnections.enumerated().map { index, connection in
            ConnectionWorker(
                name: "sqlite-reader-\(index)", connection: connection, queue: readQueue,
                maximumBatch: 1, process: { connection, jobs in jobs.forEach { $0(connection) } })
        }
    }

    /// Opens (creating if needed) the database at `path` and applies `migrations`; with
    /// `migrate: false` it only refuses a schema newer than `migrations` know. `prepareWriter` then
    /// sets up what lives on the writer connection alone (TEMP triggers). The blocking work runs on
    /// a thread of its own.
    public static func open(
        path: String, migrations: [Migration], migrate: Bool = true, options: Options = Options(),
        prepareWriter: @escaping @Sendable (Connection) throws -> Void = { _ in }
    ) async throws -> Database {
        try await runOnOwnThread {
            let writer = try Connection(
                path: path, mode: .readWrite, busyTimeoutMilliseconds: options.busyTimeoutMilliseconds)
            if let maximumPageCount = options.maximumPageCount {
                try writer.execute("PRAGMA max_page_count = \(maximumPageCount)")
            }
            let migrator = Migrator(migrations: migrations)
            if migrate {
                try migrator.migrate(writer)
            } else {
                try migrator.refuseNewerSchema(writer)
            }
            try prepareWriter(writer)
            let readers = try (0..<max(1, options.readerCount)).map { _ in
                try Connection(
                    path: path, mode: .readOnly, busyTimeoutMilliseconds: options.busyTimeoutMilliseconds)
            }
            let checkpointer = try Checkpointer(path: path, busyTimeoutMilliseconds: options.busyTimeoutMilliseconds)
            return UncheckedBox(
                Database(
                    path: path, writerConnection: writer, readerConnections: readers, checkpointer: checkpointer,
                    options: options))
        }.value
    }

    /// Runs `body` in the write transaction. It may nest `connection.transaction` (savepoints).
    /// Returns after the transaction carrying it has committed. A `background` write (bulk
    /// record-keeping) joins a commit only one at a time, behind the foreground writes waiting.
    @discardableResult
    public func write<T: Sendable>(
        background: Bool = false, file: StaticString = #fileID, function: StaticString = #function,
        _ body: @escaping @Sendable (Connection) throws -> T
    ) async throws -> T {
        // Read here, in the caller's task (its task-locals, its trace context); the writer's
        // thread has neither.
        let attribution = WriteAttribution.current
        let trace = tracing?.job(.write, file: file, function: function)
        return try await withCheckedThrowingContinuation { continuation in
            let job = WriteJob(
                run: { connection, isolated in
                    do {
                        let value = try connection.attributed(attribution) {
                            try isolated ? connection.savepoint { try body(connection) } : body(connection)
                        }
                        return .ran { commitError in
                            if let commitError {
                                continuation.resume(throwing: commitError)
                            } else {
                                continuation.resume(returning: value)
                            }
                        }
                    } catch {
                        continuation.resume(throwing: error)
                        return .failed(error)
                    }
                },
                fail: { continuation.resume(throwing: $0) }, trace: trace)
            if !writeQueue.push(job, background: background) {
                trace?.finished(DatabaseClosedError())
                continuation.resume(throwing: DatabaseClosedError())
            }
        }
    }

    /// How much room the page limit leaves, measured on the writer, where the limit is set.
    /// Goes through the write queue like any write, so it also tells whether writes get through.
    /// Queues every body as its own write, in order, and returns when all have committed (the
    /// first error, if any): bulk record-keeping in chunks that the writer may take several at a
    /// time, instead of one chunk per commit round trip.
    public func writeAll(background: Bool = false, _ bodies: [@Sendable (Connection) throws -> Void]) async throws {
        guard !bodies.isEmpty else { return }
        let attribution = WriteAttribution.current
        let progress = Mutex((remaining: bodies.count, error: (any Error)?.none))
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            @Sendable func finished(_ error: (any Error)?) {
                let done = progress.withLock { state -> (Bool, (any Error)?) in
                    state.remaining -= 1
                    if state.error == nil { state.error = error }
                    return (state.remaining == 0, state.error)
                }
                guard done.0 else { return }
                if let error = done.1 { continuation.resume(throwing: error) } else { continuation.resume() }
            }
            for body in bodies {
                let job = WriteJob(
                    run: { connection, isolated in
                        do {
                            try connection.attributed(attribution) {
                                try isolated ? connection.savepoint { try body(connection) } : body(connection)
                            }
                            return .ran { finished($0) }
                        } catch {
                            finished(error)
                            return .failed(error)
                        }
                    },
                    fail: { finished($0) })
                if !writeQueue.push(job, background: background) { finished(DatabaseClosedError()) }
            }
        }
    }

    public func pageBudget() async throws -> PageBudget {
        try await write { connection in try PageBudget.measure(connection) }
    }

    /// Checkpoints the checkpointer thread has run (tests use it).
    var checkpointsCompleted: Int { checkpointer.checkpointsCompleted }

    /// Writes waiting for the writer (tests use it to line writes up in one batch).
    var queuedWriteCount: Int { writeQueue.count }

    /// Runs `body` on a reader connection inside one read transaction: a consistent snapshot.
    public func read<T: Sendable>(
        file: StaticString = #fileID, function: StaticString = #function,
        _ body: @escaping @Sendable (Connection) throws -> T
    ) async throws -> T {
        let trace = tracing?.job(.read, file: file, function: function)
        return try await withCheckedThrowingContinuation { continuation in
            let accepted = readQueue.push { connection in
                trace?.started(batchSize: 1)
                let result = Result { try connection.transaction(.deferred) { try body(connection) } }
                if let trace {
                    if case .failure(let error) = result { trace.finished(error) } else { trace.finished(nil) }
                }
                continuation.resume(with: result)
            }
            if !accepted {
                trace?.finished(DatabaseClosedError())
                continuation.resume(throwing: DatabaseClosedError())
            }
        }
    }

    /// A consistent copy of the live database at `destination`; writers are not blocked.
    public func backup(to destination: String) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let accepted = readQueue.push { connection in
                continuation.resume(with: Result { try connection.backup(to: destination) })
            }
            if !accepted { continuation.resume(throwing: DatabaseClosedError()) }
        }
    }

    public func integrityCheck() async throws -> IntegrityReport {
        try await read { connection in try IntegrityReport.check(connection) }
    }

    /// Finishes queued work, checkpoints the WAL into the main file and closes every connection.
    /// Later calls return at once.
    public func close() async {
        guard isOpen.withLock({ open in defer { open = false }; return open }) else { return }
        writeQueue.close()
        readQueue.close()
        _ = try? await Database.runOnOwnThread { [writer, readers, checkpointer] in
            readers.forEach { $0.finish { _ in } }
            writer.finish { connection in
                checkpointer.stop()
                _ = try? connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            }
        }
    }

    // MARK: Internals

    private typealias ReadJob = (Connection) -> Void

    /// `run` executes the write inside the batch transaction — in a savepoint of its own when
    /// `isolated` — and says whether it ran (with what to call once the commit's outcome is known)
    /// or failed (and was already answered).
    private struct WriteJob {
        let run: (_ connection: Connection, _ isolated: Bool) -> WriteOutcome
        let fail: (any Error) -> Void
        var trace: (any DatabaseJobTrace)? = nil
    }

    private enum WriteOutcome {
        case ran(((any Error)?) -> Void)
        case failed(any Error)
    }

    private static func commitBatch(_ connection: Connection, _ jobs: ArraySlice<WriteJob>) {
        var remaining = jobs
        var isolated = false
        while !remaining.isEmpty {
            (remaining, isolated) = commitTransaction(connection, remaining, isolated: isolated)
        }
    }

    /// Runs `jobs` in one transaction and commits it; returns the jobs still to run, and whether
    /// they must each run in a savepoint.
    ///
    /// A batch first runs without savepoints: two statements per write are most of a small write's
    /// cost, and writes rarely throw. When one throws, the whole transaction is rolled back, that
    /// write keeps its error as its answer, and the others run again, each in a savepoint — the
    /// same outcome as if every write had had its own (write bodies touch nothing but the
    /// connection, so running one again is safe). The same happens to the writes SQLite itself
    /// rolls back with a failed one (SQLITE_FULL, IOERR, NOMEM roll back the whole transaction).
    private static func commitTransaction(
        _ connection: Connection, _ jobs: ArraySlice<WriteJob>, isolated: Bool
    ) -> (remaining: ArraySlice<WriteJob>, isolated: Bool) {
        // A transaction left open by a failure before must not swallow this one.
        if connection.isInTransaction { try? connection.control("ROLLBACK") }
        do {
            try connection.control("BEGIN IMMEDIATE")
        } catch {
            jobs.forEach { job in
                job.trace?.finished(error)
                job.fail(error)
            }
            return ([], isolated)
        }
        var completions: [((any Error)?) -> Void] = []
        completions.reserveCapacity(jobs.count)
        var traced = false
        for index in jobs.indices {
            if let trace = jobs[index].trace {
                traced = true
                trace.started(batchSize: jobs.count)
            }
            switch jobs[index].run(connection, isolated) {
            case .ran(let completion):
                completions.append(completion)
            case .failed(let error):
                jobs[index].trace?.finished(error)
                // Isolated, the failed write was rolled back to its savepoint alone — unless SQLite
                // rolled back the whole transaction. Then, as after an optimistic failure, the
                // writes before this one are gone and run again.
                guard !isolated || !connection.isInTransaction else { continue }
                if connection.isInTransaction { try? connection.control("ROLLBACK") }
                return (jobs[jobs.startIndex..<index] + jobs[jobs.index(after: index)...], true)
            }
        }
        var commitError: (any Error)?
        do {
            try connection.control("COMMIT")
        } catch {
            commitError = error
            if connection.isInTransaction { try? connection.control("ROLLBACK") }
        }
        // A write's span ends with the commit that made it durable (or failed it).
        if traced {
            for job in jobs { job.trace?.finished(commitError) }
        }
        completions.forEach { $0(commitError) }
        return ([], isolated)
    }

    private static func runOnOwnThread<T>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<UncheckedBox<T>, any Error>) in
            Thread {
                continuation.resume(with: Result { UncheckedBox(try body()) })
            }.start()
        }.value
    }
}

/// Moves a value that is not `Sendable` across a thread hop where only one side ever uses it.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

public struct DatabaseClosedError: Error, CustomStringConvertible {
    public var description: String { "the database is closed" }
}

public struct IntegrityReport: Sendable, Codable, Equatable {
    public var ok: Bool { problems.isEmpty }
    public var problems: [String]

    static func check(_ connection: Connection) throws -> IntegrityReport {
        var problems = try connection.query("PRAGMA integrity_check") { try $0.get(0, as: String.self) }
            .filter { $0 != "ok" }
        problems += try connection.query("PRAGMA foreign_key_check") { row in
            let table = try row.get(0, as: String.self)
            let rowid = try row.get(1, as: Int64?.self)
            let parent = try row.get(2, as: String.self)
            return "foreign key violation: \(table) row \(rowid.map(String.init) ?? "?") references missing \(parent)"
        }
        return IntegrityReport(problems: problems)
    }
}
