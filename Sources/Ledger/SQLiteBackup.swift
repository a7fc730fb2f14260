import Glibc

/// Online, consistent copies of an SQLite ledger, for `tongbao backup` and `tongbao restore`: SQLite's
/// backup API reads one snapshot of the whole database while a gateway goes on writing to it (WAL mode lets
/// the reader and the writer run at once), and writes it into a new file readable by its owner only.
public enum SQLiteBackup {
    /// Copies the database at `source` into a new file at `destination` (which must not exist).
    public static func copy(from source: String, to destination: String) throws(LedgerError) {
        guard access(source, F_OK) == 0 else { throw LedgerError.notFound("no database at \(source)") }
        guard access(destination, F_OK) != 0 else { throw LedgerError.storageFailure("\(destination) exists; a backup never overwrites a file") }
        try SQLiteLedger.ownerOnly(destination)
        do {
            let from = try SQLiteConnection(path: source)
            let to = try SQLiteConnection(path: destination)
            try from.backUp(into: to)
        } catch {
            unlink(destination)
            throw error
        }
        for leftover in [destination + "-wal", destination + "-shm"] { unlink(leftover) }
    }
}
