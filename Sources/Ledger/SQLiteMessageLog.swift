import Synchronization
import Trust

/// The message log in SQLite (the embedded default): one file, WAL, `synchronous=FULL`; one writer at a time.
/// The WAL is copied back into the database file by a ``WALCheckpointer`` on its own thread.
public final class SQLiteMessageLog: MessageLog {
    let connection: Mutex<SQLiteConnectionBox>
    private let checkpointer: WALCheckpointer

    /// Opens or creates the log in the database file at `path`, migrating an older layout in place.
    public init(path: String) throws(LedgerError) {
        let connection = try SQLiteConnection(path: path)
        try SQLiteSchema.migrate(connection)
        try connection.execute("PRAGMA wal_autocheckpoint=\(WALCheckpointer.backstopPages)")
        self.connection = Mutex(SQLiteConnectionBox(connection))
        checkpointer = try WALCheckpointer(path: path)
    }

    deinit {
        checkpointer.stop()
    }

    public func append(batch: [BatchedAppend], catchingUpFrom known: Int) throws -> BatchedCommit {
        let commit = try connection.withLock { (box) throws -> BatchedCommit in
            // BEGIN IMMEDIATE takes SQLite's write lock: the append lock across processes too.
            try box.connection.transactionWithAnyError { () throws -> BatchedCommit in
                try Transaction(connection: box.connection).append(batch: batch, catchingUpFrom: known)
            }
        }
        checkpointer.committed()
        return commit
    }

    public func issue(_ bulletin: IssuedBulletin) throws(LedgerError) -> AppendOutcome {
        let outcome = try connection.withLock { (box) throws(LedgerError) -> AppendOutcome in
            do {
                return try box.connection.transactionWithAnyError { () throws -> AppendOutcome in try Transaction(connection: box.connection).issue(bulletin) }
            } catch {
                throw LedgerError.storage(error)
            }
        }
        checkpointer.committed()
        return outcome
    }

    /// The append steps on one connection, inside its transaction.
    private struct Transaction: AppendTransaction {
        let connection: SQLiteConnection

        func accepted(issuer: String, id: String) throws -> LogEntry? { try SQLiteMessageLog.accepted(connection, issuer: issuer, id: id) }
        func issued(issuer: String, id: String) throws -> LogEntry? { try SQLiteMessageLog.issued(connection, issuer: issuer, id: id) }
        func entries(after position: Int, limit: Int) throws -> [LogEntry] { try SQLiteMessageLog.entries(connection, after: position, limit: limit) }
        func insert(_ entry: NewEntry, sha256: String) throws -> LogEntry {
            try SQLiteMessageLog.insert(entry, sha256: sha256, after: SQLiteMessageLog.head(connection), into: connection)
        }
        /// A batch's rows: the chain's head is read once, then each row follows the one before.
        func insert(_ entries: [(entry: NewEntry, sha256: String)]) throws -> [LogEntry] {
            var head = try SQLiteMessageLog.head(connection)
            return try entries.map { row in
                let logged = try SQLiteMessageLog.insert(row.entry, sha256: row.sha256, after: head, into: connection)
                head = (logged.position, logged.hash)
                return logged
            }
        }
        func enqueue(position: Int, for recipients: [String], at timestamp: String) throws {
            try SQLiteMessageLog.enqueue(position: position, for: recipients, at: timestamp, into: connection)
        }
        func storeReceipt(_ bytes: [UInt8], for position: Int) throws { try SQLiteMessageLog.storeReceipt(bytes, for: position, into: connection) }
        func storedReceipt(for position: Int) throws -> [UInt8]? { try SQLiteMessageLog.receipt(for: position, in: connection) }
        func headPosition() throws -> Int { try SQLiteMessageLog.head(connection).position }
    }

    public func issued(issuer: String, id: String) throws(LedgerError) -> LogEntry? {
        try connection.withLock { (box) throws(LedgerError) -> LogEntry? in try Self.issued(box.connection, issuer: issuer, id: id) }
    }

    /// The last entry's position and hash: (0, the genesis hash) for an empty log.
    private static func head(_ connection: SQLiteConnection) throws(LedgerError) -> (position: Int, hash: String) {
        try connection.withStatement("SELECT position, hash FROM log ORDER BY position DESC LIMIT 1") { last throws(LedgerError) in
            try last.step() ? (last.integer(0), last.text(1)) : (0, LogEntry.genesisHash)
        }
    }

    /// Appends one entry after `head`, the chain's last entry (inside the caller's transaction).
    private static func insert(_ entry: NewEntry, sha256: String, after head: (position: Int, hash: String),
                               into connection: SQLiteConnection) throws(LedgerError) -> LogEntry {
        let (position, previous) = (head.position + 1, head.hash)
        let hash = LogEntry.chainHash(position: position, content: entry, sha256: sha256, previousHash: previous)
        try connection.withStatement("""
            INSERT INTO log (position, issuer, id, type, sender, received_at, outcome, error_code, bytes, sha256, previous_hash, hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """) { insert throws(LedgerError) in try insert.run([
                .integer(position), .text(entry.issuer), .text(entry.id), .text(entry.type), .text(entry.sender),
                .text(entry.receivedAt), .text(entry.outcome), entry.errorCode.map { .text($0) } ?? .null,
                .blob(entry.bytes), .text(sha256), .text(previous), .text(hash),
            ]) }
        return LogEntry(position: position, content: entry, sha256: sha256, previousHash: previous, hash: hash)
    }

    /// Queues the entry at `position` for each recipient (inside the caller's transaction).
    private static func enqueue(position: Int, for recipients: [String], at timestamp: String, into connection: SQLiteConnection) throws(LedgerError) {
        for recipient in Set(recipients).sorted() {
            try connection.withStatement("""
                INSERT OR IGNORE INTO outbox (position, recipient, state, attempts, next_attempt_at, updated_at)
                VALUES (?, ?, 'pending', 0, 0, ?)
                """) { insert throws(LedgerError) in try insert.run([.integer(position), .text(recipient), .text(timestamp)]) }
        }
    }

    public func accepted(issuer: String, id: String) throws(LedgerError) -> LogEntry? {
        try connection.withLock { (box) throws(LedgerError) -> LogEntry? in try Self.accepted(box.connection, issuer: issuer, id: id) }
    }

    public func entries(after position: Int, limit: Int) throws(LedgerError) -> [LogEntry] {
        try connection.withLock { (box) throws(LedgerError) -> [LogEntry] in try Self.entries(box.connection, after: position, limit: limit) }
    }

    private static func entries(_ connection: SQLiteConnection, after position: Int, limit: Int) throws(LedgerError) -> [LogEntry] {
        try connection.withStatement("SELECT \(columns) FROM log WHERE position > ? ORDER BY position LIMIT ?") { statement throws(LedgerError) in
            try statement.bind([.integer(position), .integer(limit)])
            var result: [LogEntry] = []
            while try statement.step() { result.append(entry(statement)) }
            return result
        }
    }

    public func storeReceipt(_ bytes: [UInt8], for position: Int) throws(LedgerError) {
        try connection.withLock { (box) throws(LedgerError) in try Self.storeReceipt(bytes, for: position, into: box.connection) }
    }

    private static func storeReceipt(_ bytes: [UInt8], for position: Int, into connection: SQLiteConnection) throws(LedgerError) {
        try connection.withStatement("INSERT OR IGNORE INTO receipts (position, bytes) VALUES (?, ?)") { insert throws(LedgerError) in
            try insert.run([.integer(position), .blob(bytes)])
        }
    }

    public func receipt(for position: Int) throws(LedgerError) -> [UInt8]? {
        try connection.withLock { (box) throws(LedgerError) -> [UInt8]? in try Self.receipt(for: position, in: box.connection) }
    }

    private static func receipt(for position: Int, in connection: SQLiteConnection) throws(LedgerError) -> [UInt8]? {
        try connection.withStatement("SELECT bytes FROM receipts WHERE position = ?") { statement throws(LedgerError) in
            try statement.bind([.integer(position)])
            return try statement.step() ? statement.blob(0) : nil
        }
    }

    public func count() throws(LedgerError) -> Int {
        try connection.withLock { (box) throws(LedgerError) -> Int in
            let statement = try box.connection.prepare("SELECT COUNT(*) FROM log")
            return try statement.step() ? statement.integer(0) : 0
        }
    }

    public func verifyChain() throws(LedgerError) -> ChainReport {
        try ChainReport.walk(self)
    }

    // MARK: Rows

    private static let columns = "position, issuer, id, type, sender, received_at, outcome, error_code, bytes, sha256, previous_hash, hash"

    private static func accepted(_ connection: SQLiteConnection, issuer: String, id: String) throws(LedgerError) -> LogEntry? {
        try connection.withStatement("SELECT \(columns) FROM log WHERE issuer = ? AND id = ? AND outcome = 'accepted'") { statement throws(LedgerError) in
            try statement.bind([.text(issuer), .text(id)])
            return try statement.step() ? entry(statement) : nil
        }
    }

    private static func issued(_ connection: SQLiteConnection, issuer: String, id: String) throws(LedgerError) -> LogEntry? {
        try connection.withStatement("SELECT \(columns) FROM log WHERE issuer = ? AND id = ? AND outcome = 'issued'") { statement throws(LedgerError) in
            try statement.bind([.text(issuer), .text(id)])
            return try statement.step() ? entry(statement) : nil
        }
    }

    private static func entry(_ row: Statement) -> LogEntry {
        LogEntry(
            position: row.integer(0),
            content: NewEntry(issuer: row.text(1), id: row.text(2), type: row.text(3), sender: row.text(4), receivedAt: row.text(5),
                              outcome: row.text(6), errorCode: row.optionalText(7), bytes: row.blob(8)),
            sha256: row.text(9), previousHash: row.text(10), hash: row.text(11))
    }
}

/// Lets the non-Sendable connection live inside a `Mutex` (it is only ever used under the lock).
struct SQLiteConnectionBox: @unchecked Sendable {
    let connection: SQLiteConnection

    init(_ connection: SQLiteConnection) {
        self.connection = connection
    }
}
