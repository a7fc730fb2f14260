import Glibc
import Synchronization

/// Keeps a committed, receipted entry from being lost with SQLite's write-ahead log (gateway.md §4a).
///
/// A commit is durable once its frames are synced to `DB-wal`; until a checkpoint copies them into the
/// database file, that file alone holds them. Removed or replaced while the gateway runs, and then the
/// process killed, the WAL would take receipted entries with it, and a database whose log simply ends
/// earlier would open without complaint. So:
/// - while running, before every transaction, the WAL must still be the file opened (same device and
///   inode); when it is not, what the open connection still sees of it is checkpointed into the database
///   at once (nothing committed is lost), and the store refuses every further write until it is reopened;
/// - after every commit that appended, the log's head position is written to `DB-head` (no `fsync`: it
///   must survive the process, not the machine); at open, a log that ends before that position was
///   truncated by a lost WAL, and is refused, naming the first missing position.
final class WriteAheadLogGuard: Sendable {
    private let walPath: String
    private let markerPath: String
    private let marker: Int32
    /// The WAL's device and inode, once seen.
    private let identity = Mutex<(device: UInt64, inode: UInt64)?>(nil)
    /// Why the store refuses writes, once the WAL was found removed or replaced.
    let failure = Mutex<String?>(nil)

    /// The guard of the database at `path`; creates its head marker (owner-only) when there is none.
    init(databasePath path: String) throws(LedgerError) {
        walPath = path + "-wal"
        markerPath = path + "-head"
        marker = open(markerPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard marker >= 0 else {
            throw LedgerError.storageFailure("cannot open \(markerPath): \(String(cString: strerror(errno)))")
        }
    }

    deinit {
        close(marker)
    }

    /// The head position recorded after the last commit (0 when none was).
    var recordedHead: Int {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = pread(marker, &buffer, buffer.count, 0)
        guard count > 0 else { return 0 }
        let text = String(decoding: buffer.prefix(count).prefix { $0 != 0x0A && $0 != 0 }, as: UTF8.self)
        return Int(text.dropFirst("position ".count)) ?? 0
    }

    /// Records the head position after a commit.
    func record(head: Int) {
        var line = Array("position \(head)\n".utf8)
        line += [UInt8](repeating: 0x20, count: max(0, 32 - line.count))
        _ = pwrite(marker, line, line.count, 0)
    }

    /// Throws when the log ends before the recorded head: entries committed (and receipted) were lost.
    func checkOpened(head: Int) throws(LedgerError) {
        let recorded = recordedHead
        guard head >= recorded else {
            throw LedgerError.logIntegrity(position: head + 1, "the log ends at position \(head), but entries up to \(recorded) were committed and receipted (\(markerPath)): the write-ahead log \(walPath) was removed or replaced; restore a backup or recover the WAL")
        }
    }

    /// What is wrong with the WAL now, or nil: it must be the file first seen.
    func problem() -> String? {
        var status = stat()
        guard stat(walPath, &status) == 0 else {
            return identity.withLock { $0 } == nil ? nil : "the write-ahead log \(walPath) was removed"
        }
        let seen = (device: UInt64(status.st_dev), inode: UInt64(status.st_ino))
        return identity.withLock { known in
            guard let known else {
                known = seen
                return nil
            }
            return known == seen ? nil : "the write-ahead log \(walPath) was replaced"
        }
    }
}
