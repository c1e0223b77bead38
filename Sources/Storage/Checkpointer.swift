import CSQLite
import Foundation

/// Copies the WAL back into the database file on a thread and connection of its own.
///
/// SQLite's automatic checkpoint runs inside the commit that crosses the threshold, so the writer —
/// and every write queued behind it — would wait for the copy and its fsyncs. Here the writer's
/// commit only notes the WAL's size (`sqlite3_wal_hook`) and wakes this thread. Checkpoints are
/// PASSIVE: they never wait for the writer or readers, nor block them — only past
/// `writerThresholdFrames`, when this thread cannot keep up, does the writer checkpoint itself, as
/// SQLite would have. Durability does not change: a commit is durable once it is in the WAL.
final class Checkpointer: @unchecked Sendable {
    /// WAL frames (pages) after which a checkpoint is started: SQLite's own default.
    static let thresholdFrames: Int32 = 1000
    /// WAL frames at which the writer checkpoints by itself, as SQLite would. A PASSIVE checkpoint
    /// running beside a busy writer may never catch up with it, and the WAL starts over from its
    /// beginning only after a checkpoint caught up: this bounds the WAL's growth.
    static let writerThresholdFrames: Int32 = 4 * thresholdFrames

    private let connection: Connection
    private let condition = NSCondition()
    /// Held for each checkpoint, so the writer's own waits for this thread's instead of failing.
    private let passLock = NSLock()
    private var due = false
    private var framesAtLastRequest: Int32 = 0
    private var stopped = false
    private let finished = DispatchSemaphore(value: 0)
    private var completedCount = 0

    init(path: String, busyTimeoutMilliseconds: Int32) throws {
        connection = try Connection(path: path, mode: .readWrite, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        let thread = Thread { [self] in
            csqlite_name_current_thread("sqlite-checkpoint")
            runLoop()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Replaces `writer`'s automatic checkpoint with this one. The hook holds this object unretained:
    /// `Database` keeps both and stops this one only after the writer's last commit.
    func take(over writer: Connection) {
        sqlite3_wal_hook(
            writer.handle,
            { context, database, _, frames in
                guard let context else { return SQLITE_OK }
                let checkpointer = Unmanaged<Checkpointer>.fromOpaque(context).takeUnretainedValue()
                if frames >= Checkpointer.writerThresholdFrames {
                    checkpointer.checkpoint(writer: database)
                } else {
                    checkpointer.walGrew(to: frames)
                }
                return SQLITE_OK
            }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Asks for a checkpoint once per `thresholdFrames` new frames: passes back to back would copy
    /// the same hot pages again and again, each with its fsyncs, while the writer keeps writing.
    /// Called after every commit; an uncontended lock costs little next to the commit itself.
    func walGrew(to frames: Int32) {
        condition.lock()
        defer { condition.unlock() }
        // Fewer frames than at the last request: the WAL started over from its beginning.
        if frames < framesAtLastRequest { framesAtLastRequest = 0 }
        guard frames - framesAtLastRequest >= Self.thresholdFrames else { return }
        framesAtLastRequest = frames
        due = true
        condition.signal()
    }

    /// The writer's own checkpoint, when the WAL outgrew what this thread keeps up with. It waits for
    /// a pass of this thread to end first: SQLite lets one checkpoint run at a time and would answer
    /// SQLITE_BUSY without waiting, and the WAL would keep growing.
    func checkpoint(writer: OpaquePointer?) {
        passLock.lock()
        defer { passLock.unlock() }
        _ = sqlite3_wal_checkpoint_v2(writer, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
    }

    private func runLoop() {
        while true {
            condition.lock()
            while !due && !stopped { condition.wait() }
            let stop = stopped
            due = false
            condition.unlock()
            if stop { break }
            // Busy (a reader pins old frames) or an I/O error: the WAL only grows until the next try.
            passLock.lock()
            _ = sqlite3_wal_checkpoint_v2(connection.handle, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            passLock.unlock()
            condition.lock()
            completedCount += 1
            condition.unlock()
        }
        finished.signal()
    }

    /// Checkpoints run so far (tests use it to see that the work left the writer).
    var checkpointsCompleted: Int {
        condition.lock()
        defer { condition.unlock() }
        return completedCount
    }

    /// Stops the thread after the checkpoint in progress, if any, and closes the connection. Blocks.
    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
        finished.wait()
        connection.close()
    }
}
