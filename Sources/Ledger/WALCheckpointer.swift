import ThreadParking
import Foundation
import Synchronization

/// Copies the write-ahead log back into the database file on a thread of its own, so that appends do not.
///
/// In WAL mode SQLite's default is for the committing connection to checkpoint whenever the WAL passes
/// 1,000 pages: the commit that crosses it copies every page back and syncs the database file before its
/// caller hears back. Here the writer is told to checkpoint only past ``backstopPages`` (should this thread
/// fall behind), and this thread runs a `PASSIVE` checkpoint on its own connection after every
/// ``commitsPerCheckpoint`` commits. A passive checkpoint never blocks a writer or a reader, and it copies
/// only frames no reader still needs; what it leaves, a later one copies. Durability does not depend on
/// it: a commit is durable once its WAL frames are synced.
final class WALCheckpointer: Sendable {
    /// Commits between two checkpoints: each of intake's batches writes ~150 pages, so the WAL holds a few
    /// thousand pages between checkpoints (a page rewritten by several commits is copied once).
    static let commitsPerCheckpoint = 8
    /// The WAL size, in pages, at which the writer checkpoints itself (SQLite's `wal_autocheckpoint`).
    static let backstopPages = 8_000

    private let commits = Mutex(0)
    private let thread: CheckpointThread

    /// Opens a second connection to the database at `path` and starts the checkpointing thread.
    init(path: String) throws(LedgerError) {
        thread = CheckpointThread(try SQLiteConnection(path: path))
        let thread = thread
        let started = Thread { thread.run() }
        started.name = "tongbao-walckpt"   // at most 15 characters (Linux thread names)
        started.start()
    }

    /// Counts a commit; every ``commitsPerCheckpoint``th wakes the thread.
    func committed() {
        let due = commits.withLock { count in
            count += 1
            guard count >= Self.commitsPerCheckpoint else { return false }
            count = 0
            return true
        }
        if due { thread.wake.wake() }
    }

    /// Tells the thread to stop: it finishes the checkpoint it may be running, closes its connection and
    /// ends. Not waited for (the caller may be on a cooperative thread).
    func stop() {
        thread.stopping.withLock { $0 = true }
        thread.wake.wake()
    }
}

/// The checkpointing thread's state; its connection is used by that thread only.
private final class CheckpointThread: @unchecked Sendable {
    let stopping = Mutex(false)
    let wake = Parking()
    private var connection: SQLiteConnection?

    init(_ connection: SQLiteConnection) {
        self.connection = connection
    }

    func run() {
        while true {
            wake.park()   // on this thread of its own: parking here holds no one else's thread
            if stopping.withLock({ $0 }) { break }
            // SQLITE_BUSY (another process checkpointing) or any failure leaves the work to the next
            // checkpoint, or to the writer's backstop; no committed data depends on it.
            try? connection?.execute("PRAGMA wal_checkpoint(PASSIVE)")
        }
        connection = nil
    }
}
