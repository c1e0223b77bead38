import CSQLite
import Foundation

/// Copies the WAL back into the database file on a thread and connection of its own.
///
/// SQLite's automatic checkpoint runs inside the commit that crosses the threshold, so the writer —
/// and every write queued behind it — would wait for the copy and its fsyncs. Here the writer's
/// commit only notes the WAL's size (`sqlite3_wal_hook`) and wakes this thread. Checkpoints are
/// PASSIVE: they never wait for or block the writer or readers. Durability does not change: a
/// commit is durable once it is in the WAL, before any checkpoint.
final class Checkpointer: @unchecked Sendable {
    /// WAL frames (pages) after which a checkpoint is started: SQLite's own default.
    static let thresholdFrames: Int32 = 1000
    /// WAL frames at which the writer checkpoints by itself, as SQLite would. A PASSIVE checkpoint
    /// running beside a busy writer may never catch up with it, and the WAL starts over from its
    /// beginning only after a checkpoint caught up: this bounds the WAL's growth (to this, plus what
    /// is written while a checkpoint of this thread is still running).
    static let writerThresholdFrames: Int32 = 4 * thresholdFrames

    private let connection: Connection
    private let condition = NSCondition()
    private var due = false
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
                if frames >= Checkpointer.writerThresholdFrames {
                    // Busy when the checkpointer is at it: the next commit tries again.
                    _ = sqlite3_wal_checkpoint_v2(database, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
                } else if frames >= Checkpointer.thresholdFrames, let context {
                    Unmanaged<Checkpointer>.fromOpaque(context).takeUnretainedValue().schedule()
                }
                return SQLITE_OK
            }, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Asks for a checkpoint; requests made while one is pending or running fold into the next.
    func schedule() {
        condition.lock()
        due = true
        condition.signal()
        condition.unlock()
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
            _ = sqlite3_wal_checkpoint_v2(connection.handle, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
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
