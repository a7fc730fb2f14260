import Glibc
import Synchronization
import TransparencyLog

import ServiceLifecycle

/// The ledger in SQLite (the embedded default): one file, WAL, `synchronous=FULL`; one writer at a time.
///
/// Two connections, each on a thread of its own: the writer's, which holds every transaction (the
/// append lock within this process is ``AsyncLock``, across processes SQLite's write lock, taken by
/// `BEGIN IMMEDIATE`), and the reader's, which reads what is committed while a transaction is open. The WAL
/// is copied back into the database file by a ``WALCheckpointer`` on a third thread.
public final class SQLiteLedger: LedgerStore {
    let writer: SQLiteThread
    let reader: SQLiteThread
    let appendLock = AsyncLock()
    private let checkpointer: WALCheckpointer
    /// Refuses to lose what the write-ahead log holds (see ``WriteAheadLogGuard``).
    private let walGuard: WriteAheadLogGuard

    /// Opens or creates the ledger in the database file at `path` (``migrate()`` brings its layout up to date).
    public static func open(path: String) async throws(LedgerError) -> SQLiteLedger {
        try ownerOnly(path)
        let walGuard = try WriteAheadLogGuard(databasePath: path)
        let writer = try await SQLiteThread.open(path: path, name: "tongbao-sqlite-w")
        try await writer.run { connection throws(LedgerError) in
            let head = (try? SQLiteLedger.head(connection).position) ?? 0   // 0 before the log table exists
            try walGuard.checkOpened(head: head)
            _ = walGuard.problem()   // notes the WAL file this store writes to
        }
        let checkpointer = try await writer.run { _ throws(LedgerError) in try WALCheckpointer(path: path) }
        return SQLiteLedger(writer: writer, reader: try await SQLiteThread.open(path: path, name: "tongbao-sqlite-r"), checkpointer: checkpointer,
                            walGuard: walGuard)
    }

    /// Makes the database readable by its owner only (creating it so when it is new): it holds names and
    /// personnel codes. SQLite gives its `-wal` and `-shm` files the database's permissions; those that
    /// exist already are narrowed too.
    ///
    /// An existing file is never opened here: closing any descriptor of a database file drops every POSIX
    /// lock this process holds on it, another connection's included (SQLite's documented pitfall).
    static func ownerOnly(_ path: String) throws(LedgerError) {
        if access(path, F_OK) != 0 {
            let descriptor = Glibc.open(path, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0o600)
            if descriptor >= 0 {
                Glibc.close(descriptor)
            } else if errno != EEXIST {
                throw LedgerError.storageFailure("cannot create the database \(path): \(String(cString: strerror(errno)))")
            }
        }
        for file in [path, path + "-wal", path + "-shm"] where access(file, F_OK) == 0 {
            guard chmod(file, 0o600) == 0 else {
                throw LedgerError.storageFailure("cannot make \(file) readable by its owner only: \(String(cString: strerror(errno)))")
            }
        }
    }

    private init(writer: SQLiteThread, reader: SQLiteThread, checkpointer: WALCheckpointer, walGuard: WriteAheadLogGuard) {
        self.writer = writer
        self.reader = reader
        self.checkpointer = checkpointer
        self.walGuard = walGuard
    }

    /// Before a write: throws while the store refuses writes; when the WAL was removed or replaced since it
    /// was opened, first copies what this connection still sees of it into the database file, then refuses.
    private static func checkWriteAheadLog(_ guardian: WriteAheadLogGuard, _ connection: SQLiteConnection) throws(LedgerError) {
        if let failure = guardian.failure.withLock({ $0 }) { throw LedgerError.storageFailure(failure) }
        guard let problem = guardian.problem() else { return }
        // The open connection still reads the removed file: its committed frames go into the database now.
        let salvaged = (try? connection.execute("PRAGMA wal_checkpoint(FULL)")) != nil
        let failure = "\(problem) while the gateway ran; \(salvaged ? "every committed entry was copied into the database" : "copying it into the database failed"), and the store takes no more writes until it is reopened"
        guardian.failure.withLock { $0 = failure }
        throw LedgerError.storageFailure(failure)
    }

    deinit {
        checkpointer.stop()
    }

    public func migrate() async throws(LedgerError) {
        try await appendLock.withLock { () async throws(LedgerError) in
            try await writer.run { connection throws(LedgerError) in
                try SQLiteSchema.migrate(connection)
                try connection.execute("PRAGMA wal_autocheckpoint=\(WALCheckpointer.backstopPages)")
            }
        }
    }

    /// Nothing to keep running (the connections are the store's own); returns at graceful shutdown.
    public func run() async throws {
        try? await gracefulShutdown()
    }

    /// The body runs on the writer's thread (it prefers it as its task executor), so its reads and writes
    /// use the connection at once instead of waking that thread for each.
    public func withAppendLock<Result: Sendable>(_ body: (any LedgerWriter) async throws -> Result) async throws -> Result {
        try await appendLock.withLock { try await withTaskExecutorPreference(writer.thread) { try await transaction(body) } }
    }

    private func transaction<Result: Sendable>(_ body: (any LedgerWriter) async throws -> Result) async throws -> Result {
        let walGuard = walGuard
        try await writer.run { connection throws(LedgerError) in
            try Self.checkWriteAheadLog(walGuard, connection)
            try connection.execute("BEGIN IMMEDIATE")
        }
        let result: Result
        let appended = AppendedHead()
        do {
            result = try await body(Writer(thread: writer, appendedThrough: appended))
            try await writer.run { connection throws(LedgerError) in try connection.execute("COMMIT") }
            if let head = appended.position.withLock({ $0 }) { walGuard.record(head: head) }
        } catch {
            try? await writer.run { connection throws(LedgerError) in
                if !connection.autocommit { try connection.execute("ROLLBACK") }
            }
            throw error
        }
        checkpointer.committed()
        return result
    }

    /// Whether the caller runs on the writer's thread (a transaction's body).
    public var ownsCurrentThread: Bool { writer.thread.isCurrent }

    /// Runs `body` on the writer's connection in a transaction of its own, holding the append lock (the
    /// outbox's updates).
    func writing<Value: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws(LedgerError) -> Value) async throws(LedgerError) -> Value {
        let walGuard = walGuard
        let value = try await appendLock.withLock { () async throws(LedgerError) -> Value in
            try await writer.run { connection throws(LedgerError) in
                try Self.checkWriteAheadLog(walGuard, connection)
                return try connection.transaction { () throws(LedgerError) in try body(connection) }
            }
        }
        checkpointer.committed()
        return value
    }

    /// The last position a transaction appended.
    private final class AppendedHead: Sendable {
        let position = Mutex<Int?>(nil)
    }

    /// The writer inside a transaction: every call runs on the writer's thread.
    private struct Writer: LedgerWriter {
        let thread: SQLiteThread
        /// The last position this transaction appended (the head to record once it commits).
        let appendedThrough: AppendedHead

        func headPosition() async throws(LedgerError) -> Int {
            try await thread.run { connection throws(LedgerError) in try SQLiteLedger.head(connection).position }
        }

        func entries(after position: Int, limit: Int) async throws(LedgerError) -> [LogEntry] {
            try await thread.run { connection throws(LedgerError) in try SQLiteLedger.entries(connection, after: position, limit: limit) }
        }

        func accepted(_ keys: [BulletinKey]) async throws(LedgerError) -> [BulletinKey: LogEntry] {
            guard !keys.isEmpty else { return [:] }
            return try await thread.run { connection throws(LedgerError) in
                var found: [BulletinKey: LogEntry] = [:]
                for key in keys { found[key] = try SQLiteLedger.entry(connection, key, outcome: .accepted) }
                return found
            }
        }

        func issued(_ keys: [BulletinKey]) async throws(LedgerError) -> [BulletinKey: LogEntry] {
            guard !keys.isEmpty else { return [:] }
            return try await thread.run { connection throws(LedgerError) in
                var found: [BulletinKey: LogEntry] = [:]
                for key in keys { found[key] = try SQLiteLedger.entry(connection, key, outcome: .issued) }
                return found
            }
        }

        func latestChange(of type: String) async throws(LedgerError) -> LogEntry? {
            try await thread.run { connection throws(LedgerError) in try SQLiteLedger.latestChange(connection, of: type) }
        }

        /// The chain's head is read once, then each row follows the one before.
        func append(_ entries: [EntryToAppend]) async throws(LedgerError) -> [LogEntry] {
            guard !entries.isEmpty else { return [] }
            return try await thread.run { connection throws(LedgerError) in
                var head = try SQLiteLedger.head(connection)
                var logged: [LogEntry] = []
                logged.reserveCapacity(entries.count)
                for row in entries {
                    let entry = try SQLiteLedger.insert(row.entry, sha256: row.sha256, after: head, into: connection)
                    head = (entry.position, entry.hash)
                    logged.append(entry)
                }
                try SQLiteLedger.growTree(by: logged, in: connection)
                if let last = logged.last?.position { appendedThrough.position.withLock { $0 = last } }
                return logged
            }
        }

        func treeHashes(_ nodes: Set<TreeNodeID>) async throws(LedgerError) -> [TreeNodeID: TreeHash] {
            try await thread.run { connection throws(LedgerError) in try SQLiteLedger.treeHashes(nodes, in: connection) }
        }

        func storeCheckpoint(_ checkpoint: StoredCheckpoint) async throws(LedgerError) {
            try await thread.run { connection throws(LedgerError) in try SQLiteLedger.storeCheckpoint(checkpoint, in: connection) }
        }

        func enqueue(_ deliveries: [DeliveryToQueue]) async throws(LedgerError) {
            guard !deliveries.isEmpty else { return }
            try await thread.run { connection throws(LedgerError) in
                for delivery in deliveries {
                    try SQLiteLedger.enqueue(position: delivery.position, for: delivery.recipients, at: delivery.timestamp, into: connection)
                }
            }
        }

        func storeReceipts(_ receipts: [ReceiptToStore]) async throws(LedgerError) {
            guard !receipts.isEmpty else { return }
            try await thread.run { connection throws(LedgerError) in
                for receipt in receipts { try SQLiteLedger.storeReceipt(receipt.bytes, for: receipt.position, into: connection) }
            }
        }

        func receipt(for position: Int) async throws(LedgerError) -> [UInt8]? {
            try await thread.run { connection throws(LedgerError) in try SQLiteLedger.receipt(for: position, in: connection) }
        }
    }

    // MARK: Reads (committed entries, on the reader's connection)

    public func accepted(issuer: String, id: String) async throws(LedgerError) -> LogEntry? {
        try await reader.run { connection throws(LedgerError) in try Self.entry(connection, BulletinKey(issuer: issuer, id: id), outcome: .accepted) }
    }

    public func issued(issuer: String, id: String) async throws(LedgerError) -> LogEntry? {
        try await reader.run { connection throws(LedgerError) in try Self.entry(connection, BulletinKey(issuer: issuer, id: id), outcome: .issued) }
    }

    public func entries(after position: Int, limit: Int) async throws(LedgerError) -> [LogEntry] {
        try await reader.run { connection throws(LedgerError) in try Self.entries(connection, after: position, limit: limit) }
    }

    public func receipt(for position: Int) async throws(LedgerError) -> [UInt8]? {
        try await reader.run { connection throws(LedgerError) in try Self.receipt(for: position, in: connection) }
    }

    public func recordRefusal(_ refusal: Refusal, keeping kept: Int) async throws(LedgerError) {
        try await writing { connection throws(LedgerError) in
            let r = refusal
            try connection.withStatement("""
                INSERT INTO refusals (received_at, issuer, id, type, sender, code, reason, sha256, size) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """) { insert throws(LedgerError) in
                try insert.run([.text(r.receivedAt), .text(r.issuer), .text(r.id), .text(r.type), .text(r.sender), .text(r.code),
                                r.reason.map { .text($0) } ?? .null, .text(r.sha256), .integer(r.size)])
            }
            try connection.withStatement("DELETE FROM refusals WHERE sequence <= (SELECT MAX(sequence) FROM refusals) - ?") { prune throws(LedgerError) in
                try prune.run([.integer(kept)])
            }
        }
    }

    public func refusals(since: String?, limit: Int) async throws(LedgerError) -> [Refusal] {
        try await reader.run { connection throws(LedgerError) in
            try connection.withStatement("""
                SELECT sequence, received_at, issuer, id, type, sender, code, reason, sha256, size FROM refusals
                WHERE received_at >= ? ORDER BY sequence LIMIT ?
                """) { select throws(LedgerError) in
                try select.bind([.text(since ?? ""), .integer(max(0, limit))])
                var found: [Refusal] = []
                while try select.step() {
                    found.append(Refusal(sequence: select.integer(0), receivedAt: select.text(1), issuer: select.text(2), id: select.text(3),
                                         type: select.text(4), sender: select.text(5), code: select.text(6), reason: select.optionalText(7),
                                         sha256: select.text(8), size: select.integer(9)))
                }
                return found
            }
        }
    }

    // MARK: The Merkle tree and its checkpoints

    public func treeHashes(_ nodes: Set<TreeNodeID>) async throws(LedgerError) -> [TreeNodeID: TreeHash] {
        try await reader.run { connection throws(LedgerError) in try Self.treeHashes(nodes, in: connection) }
    }

    public func checkpoints(from size: Int, limit: Int) async throws(LedgerError) -> [StoredCheckpoint] {
        try await reader.run { connection throws(LedgerError) in
            try connection.withStatement("SELECT size, note FROM checkpoints WHERE size >= ? ORDER BY size LIMIT ?") { select throws(LedgerError) in
                try select.bind([.integer(size), .integer(max(0, limit))])
                var found: [StoredCheckpoint] = []
                while try select.step() { found.append(StoredCheckpoint(size: select.integer(0), note: select.text(1))) }
                return found
            }
        }
    }

    public func latestCheckpoint() async throws(LedgerError) -> StoredCheckpoint? {
        try await reader.run { connection throws(LedgerError) in
            try connection.withStatement("SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1") { select throws(LedgerError) in
                try select.step() ? StoredCheckpoint(size: select.integer(0), note: select.text(1)) : nil
            }
        }
    }

    public func replaceCheckpointNote(_ checkpoint: StoredCheckpoint) async throws(LedgerError) {
        try await writing { connection throws(LedgerError) in
            try connection.withStatement("UPDATE checkpoints SET note = ? WHERE size = ?") { update throws(LedgerError) in
                try update.run([.text(checkpoint.note), .integer(checkpoint.size)])
            }
        }
    }

    /// The stored hashes among `nodes` (those not stored are absent).
    static func treeHashes(_ nodes: Set<TreeNodeID>, in connection: SQLiteConnection) throws(LedgerError) -> [TreeNodeID: TreeHash] {
        try connection.withStatement("SELECT hash FROM merkle_nodes WHERE level = ? AND idx = ?") { select throws(LedgerError) in
            var found: [TreeNodeID: TreeHash] = [:]
            for node in nodes {
                select.reset()
                try select.bind([.integer(node.level), .integer(node.index)])
                if try select.step() { found[node] = select.blob(0) }
            }
            return found
        }
    }

    /// Extends the tree by the leaves of `entries`, just appended after the tree's last leaf.
    static func growTree(by entries: [LogEntry], in connection: SQLiteConnection) throws(LedgerError) {
        guard let first = entries.first else { return }
        let size = first.position - 1
        var frontier = try TreeGrowth.frontier(size: size, from: try treeHashes(Set(TreeFrontier.nodes(ofSize: size)), in: connection))
        let completed = try TreeGrowth.completed(by: entries, extending: &frontier)
        try connection.withStatement("INSERT INTO merkle_nodes (level, idx, hash) VALUES (?, ?, ?)") { insert throws(LedgerError) in
            for (node, hash) in completed { try insert.run([.integer(node.level), .integer(node.index), .blob(hash)]) }
        }
    }

    /// The number of leaves the stored tree has.
    static func treeSize(_ connection: SQLiteConnection) throws(LedgerError) -> Int {
        try connection.withStatement("SELECT COALESCE(MAX(idx) + 1, 0) FROM merkle_nodes WHERE level = 0") { select throws(LedgerError) in
            try select.step() ? select.integer(0) : 0
        }
    }

    static func storeCheckpoint(_ checkpoint: StoredCheckpoint, in connection: SQLiteConnection) throws(LedgerError) {
        try connection.withStatement("INSERT OR IGNORE INTO checkpoints (size, note) VALUES (?, ?)") { insert throws(LedgerError) in
            try insert.run([.integer(checkpoint.size), .text(checkpoint.note)])
        }
    }

    public func count() async throws(LedgerError) -> Int {
        try await reader.run { connection throws(LedgerError) in
            // Positions run 1…n without gaps, so the last one is the count: one step down the primary key
            // instead of COUNT(*)'s scan of every row (20 ms at 1,000,000 entries, paid by every proof request).
            try connection.withStatement("SELECT COALESCE(MAX(position), 0) FROM log") { statement throws(LedgerError) in try statement.step() ? statement.integer(0) : 0 }
        }
    }

    /// The last entry's position and hash: (0, the genesis hash) for an empty log.
    static func head(_ connection: SQLiteConnection) throws(LedgerError) -> (position: Int, hash: String) {
        try connection.withStatement("SELECT position, hash FROM log ORDER BY position DESC LIMIT 1") { last throws(LedgerError) in
            try last.step() ? (last.integer(0), last.text(1)) : (0, LogEntry.genesisHash)
        }
    }

    /// Appends one entry after `head`, the chain's last entry (inside the caller's transaction).
    static func insert(_ entry: NewEntry, sha256: String, after head: (position: Int, hash: String),
                               into connection: SQLiteConnection) throws(LedgerError) -> LogEntry {
        let (position, previous) = (head.position + 1, head.hash)
        let hash = LogEntry.chainHash(position: position, content: entry, sha256: sha256, previousHash: previous)
        try connection.withStatement("""
            INSERT INTO log (position, issuer, id, type, sender, received_at, outcome, error_code, bytes, sha256, previous_hash, hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """) { insert throws(LedgerError) in try insert.run([
                .integer(position), .text(entry.issuer), .text(entry.id), .text(entry.type), .text(entry.sender),
                .text(entry.receivedAt), .text(entry.outcome.rawValue), entry.errorCode.map { .text($0) } ?? .null,
                .blob(entry.bytes), .text(sha256), .text(previous), .text(hash),
            ]) }
        return LogEntry(position: position, content: entry, sha256: sha256, previousHash: previous, hash: hash)
    }

    /// Queues the entry at `position` for each recipient (inside the caller's transaction).
    static func enqueue(position: Int, for recipients: [String], at timestamp: String, into connection: SQLiteConnection) throws(LedgerError) {
        for recipient in Set(recipients).sorted() {
            try connection.withStatement("""
                INSERT OR IGNORE INTO outbox (position, recipient, state, attempts, next_attempt_at, updated_at)
                VALUES (?, ?, 'pending', 0, 0, ?)
                """) { insert throws(LedgerError) in try insert.run([.integer(position), .text(recipient), .text(timestamp)]) }
        }
    }

    static func entries(_ connection: SQLiteConnection, after position: Int, limit: Int) throws(LedgerError) -> [LogEntry] {
        try connection.withStatement("SELECT \(columns) FROM log WHERE position > ? ORDER BY position LIMIT ?") { statement throws(LedgerError) in
            try statement.bind([.integer(position), .integer(limit)])
            var result: [LogEntry] = []
            while try statement.step() { result.append(entry(statement)) }
            return result
        }
    }

    static func storeReceipt(_ bytes: [UInt8], for position: Int, into connection: SQLiteConnection) throws(LedgerError) {
        try connection.withStatement("INSERT OR IGNORE INTO receipts (position, bytes) VALUES (?, ?)") { insert throws(LedgerError) in
            try insert.run([.integer(position), .blob(bytes)])
        }
    }

    static func receipt(for position: Int, in connection: SQLiteConnection) throws(LedgerError) -> [UInt8]? {
        try connection.withStatement("SELECT bytes FROM receipts WHERE position = ?") { statement throws(LedgerError) in
            try statement.bind([.integer(position)])
            return try statement.step() ? statement.blob(0) : nil
        }
    }

    // MARK: Rows

    private static let columns = "position, issuer, id, type, sender, received_at, outcome, error_code, bytes, sha256, previous_hash, hash"

    /// The entry for `key` with `outcome` (accepted or issued: each is unique per key).
    static func entry(_ connection: SQLiteConnection, _ key: BulletinKey, outcome: EntryOutcome) throws(LedgerError) -> LogEntry? {
        // The outcome is written out, not bound: only then can SQLite use the partial unique index on it.
        try connection.withStatement("SELECT \(columns) FROM log WHERE issuer = ? AND id = ? AND outcome = '\(outcome.rawValue)'") { statement throws(LedgerError) in
            try statement.bind([.text(key.issuer), .text(key.id)])
            return try statement.step() ? entry(statement) : nil
        }
    }

    /// The outcomes are written out, not bound: only then can SQLite use the partial index on them.
    static func latestChange(_ connection: SQLiteConnection, of type: String) throws(LedgerError) -> LogEntry? {
        try connection.withStatement("""
            SELECT \(columns) FROM log WHERE (outcome = 'trust' OR outcome = 'configuration') AND type = ? ORDER BY position DESC LIMIT 1
            """) { statement throws(LedgerError) in
            try statement.bind([.text(type)])
            return try statement.step() ? entry(statement) : nil
        }
    }

    static func entry(_ row: Statement) -> LogEntry {
        LogEntry(
            position: row.integer(0),
            content: NewEntry(issuer: row.text(1), id: row.text(2), type: row.text(3), sender: row.text(4), receivedAt: row.text(5),
                              outcome: EntryOutcome(rawValue: row.text(6)) ?? .rejected, errorCode: row.optionalText(7), bytes: row.blob(8)),
            sha256: row.text(9), previousHash: row.text(10), hash: row.text(11))
    }
}
