import Synchronization
import Trust

/// The message log in SQLite (the embedded default): one file, WAL, `synchronous=FULL`; one writer at a time.
public final class SQLiteMessageLog: MessageLog {
    private let connection: Mutex<SQLiteConnectionBox>

    /// Opens or creates the log in the database file at `path`.
    public init(path: String) throws(LedgerError) {
        let connection = try SQLiteConnection(path: path)
        try connection.execute("""
            CREATE TABLE IF NOT EXISTS log (
                position INTEGER PRIMARY KEY,
                issuer TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, sender TEXT NOT NULL,
                received_at TEXT NOT NULL, outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'rejected')),
                error_code TEXT, bytes BLOB NOT NULL, sha256 TEXT NOT NULL,
                previous_hash TEXT NOT NULL, hash TEXT NOT NULL
            );
            CREATE UNIQUE INDEX IF NOT EXISTS log_accepted ON log (issuer, id) WHERE outcome = 'accepted';
            CREATE TABLE IF NOT EXISTS receipts (position INTEGER PRIMARY KEY REFERENCES log (position), bytes BLOB NOT NULL);
            """)
        self.connection = Mutex(SQLiteConnectionBox(connection))
    }

    public func append(_ entry: NewEntry) throws(LedgerError) -> AppendOutcome {
        let sha256 = SHA256.hex(entry.bytes)
        return try connection.withLock { (box) throws(LedgerError) -> AppendOutcome in
            try box.connection.transaction { () throws(LedgerError) -> AppendOutcome in
                if entry.outcome == "accepted", let existing = try Self.accepted(box.connection, issuer: entry.issuer, id: entry.id) {
                    guard existing.sha256 == sha256 else {
                        throw LedgerError(code: "duplicate-conflict",
                                          message: "\(entry.issuer)/\(entry.id) was accepted before with other bytes (log position \(existing.position))")
                    }
                    return .duplicate(existing)
                }
                let last = try box.connection.prepare("SELECT position, hash FROM log ORDER BY position DESC LIMIT 1")
                let (position, previous) = try last.step() ? (last.integer(0) + 1, last.text(1)) : (1, LogEntry.genesisHash)
                let hash = LogEntry.chainHash(position: position, content: entry, sha256: sha256, previousHash: previous)
                try box.connection.prepare("""
                    INSERT INTO log (position, issuer, id, type, sender, received_at, outcome, error_code, bytes, sha256, previous_hash, hash)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """).run([
                        .integer(position), .text(entry.issuer), .text(entry.id), .text(entry.type), .text(entry.sender),
                        .text(entry.receivedAt), .text(entry.outcome), entry.errorCode.map { .text($0) } ?? .null,
                        .blob(entry.bytes), .text(sha256), .text(previous), .text(hash),
                    ])
                return .appended(LogEntry(position: position, content: entry, sha256: sha256, previousHash: previous, hash: hash))
            }
        }
    }

    public func accepted(issuer: String, id: String) throws(LedgerError) -> LogEntry? {
        try connection.withLock { (box) throws(LedgerError) -> LogEntry? in try Self.accepted(box.connection, issuer: issuer, id: id) }
    }

    public func entries(after position: Int, limit: Int) throws(LedgerError) -> [LogEntry] {
        try connection.withLock { (box) throws(LedgerError) -> [LogEntry] in
            let statement = try box.connection.prepare("SELECT \(Self.columns) FROM log WHERE position > ? ORDER BY position LIMIT ?")
            try statement.bind([.integer(position), .integer(limit)])
            var result: [LogEntry] = []
            while try statement.step() { result.append(Self.entry(statement)) }
            return result
        }
    }

    public func storeReceipt(_ bytes: [UInt8], for position: Int) throws(LedgerError) {
        try connection.withLock { (box) throws(LedgerError) in
            try box.connection.prepare("INSERT OR IGNORE INTO receipts (position, bytes) VALUES (?, ?)").run([.integer(position), .blob(bytes)])
        }
    }

    public func receipt(for position: Int) throws(LedgerError) -> [UInt8]? {
        try connection.withLock { (box) throws(LedgerError) -> [UInt8]? in
            let statement = try box.connection.prepare("SELECT bytes FROM receipts WHERE position = ?")
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
        var previous = LogEntry.genesisHash
        var expectedPosition = 1
        var checked = 0
        while true {
            let batch = try entries(after: expectedPosition - 1, limit: 1000)
            if batch.isEmpty { break }
            for entry in batch {
                checked += 1
                if entry.position != expectedPosition {
                    return ChainReport(entries: checked, firstBroken: (expectedPosition, "entry \(expectedPosition) is missing"))
                }
                if SHA256.hex(entry.content.bytes) != entry.sha256 {
                    return ChainReport(entries: checked, firstBroken: (entry.position, "the stored bytes do not match their SHA-256"))
                }
                if entry.previousHash != previous {
                    return ChainReport(entries: checked, firstBroken: (entry.position, "it does not chain to the entry before it"))
                }
                if LogEntry.chainHash(position: entry.position, content: entry.content, sha256: entry.sha256, previousHash: previous) != entry.hash {
                    return ChainReport(entries: checked, firstBroken: (entry.position, "its recorded fields do not match its hash"))
                }
                previous = entry.hash
                expectedPosition += 1
            }
        }
        return ChainReport(entries: checked, firstBroken: nil)
    }

    // MARK: Rows

    private static let columns = "position, issuer, id, type, sender, received_at, outcome, error_code, bytes, sha256, previous_hash, hash"

    private static func accepted(_ connection: SQLiteConnection, issuer: String, id: String) throws(LedgerError) -> LogEntry? {
        let statement = try connection.prepare("SELECT \(columns) FROM log WHERE issuer = ? AND id = ? AND outcome = 'accepted'")
        try statement.bind([.text(issuer), .text(id)])
        return try statement.step() ? entry(statement) : nil
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
