import CSQLite
import Foundation

/// A thread that owns one SQLite connection and runs jobs on it. SQLite calls block, so they run
/// here rather than on the Swift cooperative pool or a NIO event loop, which have one thread per core.
final class ConnectionWorker<Job>: @unchecked Sendable {
    private let queue: JobQueue<Job>
    private let connection: Connection
    private let finished = DispatchSemaphore(value: 0)
    private let maximumBatch: Int
    private let process: (Connection, [Job]) -> Void

    /// - Parameter maximumBatch: how many queued jobs one call of `process` receives.
    init(
        name: String, connection: Connection, queue: JobQueue<Job>, maximumBatch: Int,
        process: @escaping (Connection, [Job]) -> Void
    ) {
        self.connection = connection
        self.queue = queue
        self.maximumBatch = maximumBatch
        self.process = process
        let thread = Thread { [self] in
            // A new thread inherits its creator's name; name it so `top -H` tells the workers apart.
            csqlite_name_current_thread(name)
            self.runLoop()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    private func runLoop() {
        while let jobs = queue.take(maximum: maximumBatch) {
            process(connection, jobs)
        }
        finished.signal()
    }

    /// Blocks until the loop has drained the closed queue, runs `body` on the connection, then
    /// closes it.
    func finish(_ body: (Connection) -> Void) {
        finished.wait()
        body(connection)
        connection.close()
    }
}

/// A blocking FIFO shared by one or more workers, with a background lane: each take returns the
/// waiting foreground jobs and one background job — more when that lane has fallen behind — so bulk
/// record-keeping makes a request wait behind one chunk normally, and is never starved.
final class JobQueue<Job>: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var head = 0
    private var background: [Job] = []
    private var backgroundHead = 0
    private var closed = false

    /// False when the queue is closed and the job was not accepted.
    func push(_ job: Job, background isBackground: Bool = false) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return false }
        if isBackground { background.append(job) } else { jobs.append(job) }
        condition.signal()
        return true
    }

    /// Blocks until jobs are available; nil once the queue is closed and drained.
    func take(maximum: Int) -> [Job]? {
        condition.lock()
        defer { condition.unlock() }
        while head == jobs.count && backgroundHead == background.count {
            if closed { return nil }
            condition.wait()
        }
        let end = min(jobs.count, head + maximum)
        var taken = Array(jobs[head..<end])
        head = end
        if head == jobs.count {
            jobs.removeAll(keepingCapacity: true)
            head = 0
        }
        // One background job per batch while that lane keeps up. When it falls behind, a share of
        // its backlog, so a steady stream of requests cannot starve it (its producers wait for
        // it): a sixteenth while requests share the batch — each chunk makes them wait longer,
        // and a quarter of a flush's backlog once held requests for 20–40 ms — and a quarter when
        // none do.
        var backgroundTaken = 0
        let backlog = background.count - backgroundHead
        let backgroundShare = 1 + backlog / (taken.isEmpty ? 4 : 16)
        while taken.count < maximum, backgroundTaken < backgroundShare, backgroundHead < background.count {
            taken.append(background[backgroundHead])
            backgroundHead += 1
            backgroundTaken += 1
        }
        if backgroundHead == background.count {
            background.removeAll(keepingCapacity: true)
            backgroundHead = 0
        }
        return taken
    }

    /// Jobs waiting to be taken.
    var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return jobs.count - head + background.count - backgroundHead
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}
