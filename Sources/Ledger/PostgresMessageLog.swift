import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization
import Trust

/// The message log and outbox in PostgreSQL, for several gateway nodes on one database.
///
/// The same semantics as ``SQLiteMessageLog`` (one test suite runs against both). Every append takes one
/// transaction-scoped advisory lock, so positions are global and gap-free and the hash chain stays correct
/// however many nodes append at once; outbox sequence numbers are assigned under the same lock, so a
/// recipient's cursor never skips a row. Push deliveries are claimed with `FOR UPDATE SKIP LOCKED` and a
/// lease, so each is attempted by one node at a time.
///
/// Like the SQLite store, the interface is synchronous: each node keeps one connection, used by one
/// caller at a time, and waits for PostgreSQL's answer on the calling thread (never on an event loop).
public final class PostgresMessageLog: MessageLog, Outbox {
    /// The advisory lock every append holds (an arbitrary constant: "TONGBAO" on a phone keypad).
    static let appendLock: Int64 = 8_664_226
    /// How long a node holds a claimed push delivery before another node may try it, in milliseconds: longer
    /// than one push attempt may take, so that a live node's attempt is never doubled, and short enough that a
    /// dead node's claims pass to the others soon.
    let claimLeaseMilliseconds: Int64

    /// The event loop of every node connection: a thread of its own, not one of the shared loops that also
    /// serve HTTPS. A committing thread waits for several answers per batch, and on a shared loop each
    /// answer would first wait for the TLS and HTTP work queued on that loop (on two busy cores, ~1 ms a
    /// round trip); this thread is idle but for PostgreSQL's answers, so it handles each as it arrives.
    private static let eventLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1).next()

    private let configuration: PostgresConnection.Configuration
    fileprivate let logger = Logger(label: "tongbao.ledger.postgres")
    private let connection: Mutex<PostgresConnection?>

    /// Connects to `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`) and brings the schema up to date.
    public init(url: String, claimLeaseMilliseconds: Int64 = 120_000) throws(LedgerError) {
        self.claimLeaseMilliseconds = claimLeaseMilliseconds
        configuration = try Self.configuration(url)
        connection = Mutex(nil)
        try migrate()
    }

    deinit {
        connection.withLock { connection in
            _ = try? connection?.close().wait()
        }
    }

    // MARK: Connection

    /// Parses `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`.
    static func configuration(_ url: String) throws(LedgerError) -> PostgresConnection.Configuration {
        let invalid = LedgerError(code: "storage-failure", message: "\(url) is not postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
        var rest = Substring(url)
        guard let scheme = ["postgres://", "postgresql://"].first(where: { rest.hasPrefix($0) }) else { throw invalid }
        rest = rest.dropFirst(scheme.count)
        guard let at = rest.lastIndex(of: "@"), let slash = rest[at...].firstIndex(of: "/") else { throw invalid }
        let credentials = rest[..<at].split(separator: ":", maxSplits: 1).map(String.init)
        let address = rest[rest.index(after: at)..<slash]
        let database = String(rest[rest.index(after: slash)...])
        let hostAndPort = address.split(separator: ":").map(String.init)
        guard let user = credentials.first, !user.isEmpty, !database.isEmpty, let host = hostAndPort.first,
              hostAndPort.count <= 2, let port = hostAndPort.count == 2 ? Int(hostAndPort[1]) : 5432 else { throw invalid }
        return PostgresConnection.Configuration(host: host, port: port, username: user, password: credentials.count == 2 ? credentials[1] : nil,
                                                database: database, tls: .disable)
    }

    /// Runs `body` with this node's connection (opening it when needed, again after it broke).
    private func withConnection<Result>(_ body: (PostgresConnection) throws -> Result) throws(LedgerError) -> Result {
        do {
            return try withConnectionPassingErrors(body)
        } catch {
            throw Self.ledgerError(error)
        }
    }

    /// ``withConnection(_:)`` that turns PostgreSQL's errors into `storage-failure` and lets `body`'s own
    /// errors through unchanged.
    private func withConnectionPassingErrors<Result>(_ body: (PostgresConnection) throws -> Result) throws -> Result {
        do {
            return try connection.withLock { current -> Result in
                if current == nil || current?.isClosed == true {
                    current = try PostgresConnection.connect(on: Self.eventLoop, configuration: configuration,
                                                             id: 1, logger: logger).wait()
                }
                guard let open = current else { throw LedgerError(code: "storage-failure", message: "no connection to PostgreSQL") }
                return try body(open)
            }
        } catch let error as PSQLError {
            throw Self.ledgerError(error)
        }
    }

    /// Runs `body` in a transaction holding the append lock: committed when it returns, rolled back when it throws.
    ///
    /// `BEGIN` and the lock are sent without waiting for their answers, and so is `COMMIT`, after the body's
    /// last write: the transaction confirms them together with the statements around them (see
    /// ``Transaction``), which saves the committing thread a round trip each.
    private func appending<Result>(_ body: (Transaction) throws -> Result) throws -> Result {
        try withConnectionPassingErrors { connection in
            let transaction = Transaction(log: self, connection: connection)
            transaction.send("BEGIN")
            transaction.send("SELECT pg_advisory_xact_lock(\(Self.appendLock))")
            do {
                let result = try body(transaction)
                transaction.send("COMMIT")
                try transaction.confirm()
                return result
            } catch {
                _ = try? connection.query("ROLLBACK", logger: logger).wait()
                throw error
            }
        }
    }

    private func rows(_ query: PostgresQuery, on connection: PostgresConnection) throws -> [PostgresRow] {
        Array(try connection.query(query, logger: logger).wait().rows)
    }

    // MARK: Schema

    static let schema = """
        CREATE TABLE IF NOT EXISTS log (
            position BIGINT PRIMARY KEY,
            issuer TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, sender TEXT NOT NULL,
            received_at TEXT NOT NULL, outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'rejected', 'issued')),
            error_code TEXT, bytes BYTEA NOT NULL, sha256 TEXT NOT NULL, previous_hash TEXT NOT NULL, hash TEXT NOT NULL
        );
        CREATE UNIQUE INDEX IF NOT EXISTS log_accepted ON log (issuer, id) WHERE outcome = 'accepted';
        CREATE UNIQUE INDEX IF NOT EXISTS log_issued ON log (issuer, id) WHERE outcome = 'issued';
        CREATE TABLE IF NOT EXISTS receipts (position BIGINT PRIMARY KEY REFERENCES log (position), bytes BYTEA NOT NULL);
        CREATE TABLE IF NOT EXISTS outbox (
            sequence BIGINT PRIMARY KEY,
            position BIGINT NOT NULL REFERENCES log (position),
            recipient TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'acknowledged', 'dead')),
            attempts INTEGER NOT NULL, next_attempt_at BIGINT NOT NULL, last_error TEXT, updated_at TEXT NOT NULL,
            claimed_until BIGINT NOT NULL DEFAULT 0,
            UNIQUE (position, recipient)
        );
        CREATE INDEX IF NOT EXISTS outbox_due ON outbox (state, next_attempt_at);
        CREATE INDEX IF NOT EXISTS outbox_recipient ON outbox (recipient, sequence);
        CREATE TABLE IF NOT EXISTS delivery_log (
            row BIGSERIAL PRIMARY KEY, sequence BIGINT NOT NULL REFERENCES outbox (sequence), attempt INTEGER NOT NULL,
            at TEXT NOT NULL, outcome TEXT NOT NULL, detail TEXT NOT NULL, retry_in_ms INTEGER
        );
        CREATE INDEX IF NOT EXISTS delivery_log_sequence ON delivery_log (sequence);
        CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
        """

    /// Creates the tables (version 2, the SQLite layout's) under the append lock, so that nodes starting
    /// together do not race.
    private func migrate() throws(LedgerError) {
        do {
            try appending { transaction in
                for statement in Self.schema.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }) where !statement.isEmpty {
                    _ = try transaction.rows(PostgresQuery(unsafeSQL: statement))
                }
                let version = try transaction.rows("SELECT version FROM schema_version").first.map { try $0.decode(Int.self) }
                if version == nil { _ = try transaction.rows("INSERT INTO schema_version (version) VALUES (2)") }
            }
        } catch {
            throw Self.ledgerError(error)
        }
    }

    static func ledgerError(_ error: any Error) -> LedgerError {
        (error as? LedgerError) ?? LedgerError(code: "storage-failure", message: "PostgreSQL: \(String(reflecting: error))")
    }


    // MARK: MessageLog

    public func append(batch: [BatchedAppend], catchingUpFrom known: Int) throws -> BatchedCommit {
        try appending { transaction in try transaction.append(batch: batch, catchingUpFrom: known) }
    }

    public func issue(_ bulletin: IssuedBulletin) throws(LedgerError) -> AppendOutcome {
        do {
            return try appending { transaction in try transaction.issue(bulletin) }
        } catch {
            throw Self.ledgerError(error)
        }
    }

    /// The append steps on this node's connection, inside its transaction. It remembers the chain's head
    /// once read (no other writer can move it while the append lock is held), saving a round trip per entry.
    ///
    /// A group commit's writes are sent without waiting for their answers (postgres-nio runs a connection's
    /// statements one after another in the order sent), and confirmed before anything else is waited for:
    /// the next read, or `COMMIT`. So a batch costs its reads' round trips and one more, however many
    /// statements it writes. Every statement's answer is checked, in order, and the first error fails the
    /// append: PostgreSQL answers `COMMIT` of a transaction in which a statement failed by rolling it back,
    /// so a `COMMIT` that seems to succeed is never taken for a commit unless everything before it did. No
    /// write is sent before `BEGIN` and the lock are confirmed, so nothing can run outside the transaction.
    private final class Transaction: AppendTransaction {
        let log: PostgresMessageLog
        let connection: PostgresConnection
        /// The last entry's position and hash, once known.
        private var head: (position: Int, hash: String)?
        /// Statements sent whose answers are not yet checked, in the order sent.
        private var unconfirmed: [EventLoopFuture<PostgresQueryResult>] = []
        /// Whether `BEGIN` and the lock (the first statements sent) are confirmed.
        private var open = false

        init(log: PostgresMessageLog, connection: PostgresConnection) {
            self.log = log
            self.connection = connection
        }

        /// Sends `query` without waiting for its answer.
        func send(_ query: PostgresQuery) {
            unconfirmed.append(connection.query(query, logger: log.logger))
        }

        /// Waits for the answers of every statement sent, in order; the first error is thrown.
        func confirm() throws {
            let sent = unconfirmed
            unconfirmed = []
            for answer in sent { _ = try answer.wait() }
            open = true
        }

        /// Sends a write once the transaction is confirmed open; its answer is checked by the next confirmation.
        private func write(_ query: PostgresQuery) throws {
            if !open { try confirm() }
            send(query)
        }

        /// The rows `query` reads, after confirming what was sent before it.
        func rows(_ query: PostgresQuery) throws -> [PostgresRow] {
            try confirm()
            return try log.rows(query, on: connection)
        }

        // One row at a time (`issue`): each waits for its answer, after confirming what was sent before.

        func accepted(issuer: String, id: String) throws -> LogEntry? { try confirm(); return try log.accepted(issuer: issuer, id: id, on: connection) }
        func issued(issuer: String, id: String) throws -> LogEntry? { try confirm(); return try log.issued(issuer: issuer, id: id, on: connection) }
        func entries(after position: Int, limit: Int) throws -> [LogEntry] {
            try confirm()
            return try log.entries(after: position, limit: limit, on: connection)
        }
        func insert(_ entry: NewEntry, sha256: String) throws -> LogEntry {
            let current = try chainHead()
            let logged = try log.insert(entry, sha256: sha256, after: current, on: connection)
            head = (logged.position, logged.hash)
            return logged
        }
        func enqueue(position: Int, for recipients: [String], at timestamp: String) throws {
            try confirm()
            try log.enqueue(position: position, for: recipients, at: timestamp, on: connection)
        }
        func storeReceipt(_ bytes: [UInt8], for position: Int) throws { try confirm(); try log.storeReceipt(bytes, for: position, on: connection) }
        func storedReceipt(for position: Int) throws -> [UInt8]? { try confirm(); return try log.receipt(for: position, on: connection) }
        func headPosition() throws -> Int { try chainHead().position }

        /// The chain's last position and hash: remembered, or read once (after confirming what was sent).
        private func chainHead() throws -> (position: Int, hash: String) {
            try confirm()
            if let head { return head }
            let current = try log.head(on: connection)
            head = current
            return current
        }

        // A group commit's rows, many per statement: one round trip instead of one per row.

        func accepted(_ keys: [BulletinKey]) throws -> [BulletinKey: LogEntry] {
            guard !keys.isEmpty else { return [:] }
            let found = try rows("""
                SELECT \(unescaped: PostgresMessageLog.columns) FROM log WHERE outcome = 'accepted'
                AND (issuer, id) IN (SELECT * FROM unnest(\(keys.map(\.issuer))::text[], \(keys.map(\.id))::text[]))
                """).map(PostgresMessageLog.entry)
            return Dictionary(found.map { (BulletinKey(issuer: $0.content.issuer, id: $0.content.id), $0) }) { first, _ in first }
        }

        func issued(_ keys: [BulletinKey]) throws -> Set<BulletinKey> {
            guard !keys.isEmpty else { return [] }
            // Only whether each was issued: the keys, not the rows with their bytes.
            return Set(try rows("""
                SELECT issuer, id FROM log WHERE outcome = 'issued'
                AND (issuer, id) IN (SELECT * FROM unnest(\(keys.map(\.issuer))::text[], \(keys.map(\.id))::text[]))
                """).map { row in
                    let (issuer, id) = try row.decode((String, String).self)
                    return BulletinKey(issuer: issuer, id: id)
                })
        }

        func insert(_ entries: [(entry: NewEntry, sha256: String)]) throws -> [LogEntry] {
            var current = try head ?? chainHead()
            var logged: [LogEntry] = []
            logged.reserveCapacity(entries.count)
            for chunk in entries.chunked(by: 1000) {
                var values: [String] = []
                var bindings = PostgresBindings(capacity: chunk.count * 12)
                for (entry, sha256) in chunk {
                    let (position, previous) = (current.position + 1, current.hash)
                    let hash = LogEntry.chainHash(position: position, content: entry, sha256: sha256, previousHash: previous)
                    values.append(PostgresMessageLog.placeholders(from: bindings.count + 1, count: 12))
                    bindings.append(position)
                    for text in [entry.issuer, entry.id, entry.type, entry.sender, entry.receivedAt, entry.outcome] { bindings.append(text) }
                    bindings.append(entry.errorCode)
                    bindings.append(ByteBuffer(bytes: entry.bytes))
                    for text in [sha256, previous, hash] { bindings.append(text) }
                    logged.append(LogEntry(position: position, content: entry, sha256: sha256, previousHash: previous, hash: hash))
                    current = (position, hash)
                }
                try write(PostgresQuery(unsafeSQL: """
                    INSERT INTO log (\(PostgresMessageLog.columns)) VALUES \(values.joined(separator: ", "))
                    """, binds: bindings))
            }
            head = current
            return logged
        }

        func enqueue(_ deliveries: [(position: Int, recipients: [String], timestamp: String)]) throws {
            let rows = deliveries.flatMap { delivery in Set(delivery.recipients).sorted().map { (delivery.position, $0, delivery.timestamp) } }
            guard !rows.isEmpty else { return }
            // Sequences follow the outbox's last one, in order, computed by the statement itself (so that it
            // can be sent without waiting); the append lock keeps other writers out.
            for chunk in rows.chunked(by: 1000) {
                var values: [String] = []
                var bindings = PostgresBindings(capacity: chunk.count * 4)
                for (offset, (position, recipient, timestamp)) in chunk.enumerated() {
                    let first = bindings.count + 1
                    values.append("($\(first)::bigint, $\(first + 1)::bigint, $\(first + 2)::text, $\(first + 3)::text)")
                    bindings.append(offset + 1)
                    bindings.append(position)
                    bindings.append(recipient)
                    bindings.append(timestamp)
                }
                try write(PostgresQuery(unsafeSQL: """
                    INSERT INTO outbox (sequence, position, recipient, state, attempts, next_attempt_at, updated_at)
                    SELECT base.sequence + added.k, added.position, added.recipient, 'pending', 0, 0, added.updated_at
                    FROM (SELECT COALESCE(MAX(sequence), 0) AS sequence FROM outbox) AS base,
                         (VALUES \(values.joined(separator: ", "))) AS added (k, position, recipient, updated_at)
                    ORDER BY added.k
                    ON CONFLICT (position, recipient) DO NOTHING
                    """, binds: bindings))
            }
        }

        func storeReceipts(_ receipts: [(position: Int, bytes: [UInt8])]) throws {
            for chunk in receipts.chunked(by: 1000) {
                var values: [String] = []
                var bindings = PostgresBindings(capacity: chunk.count * 2)
                for (position, bytes) in chunk {
                    values.append(PostgresMessageLog.placeholders(from: bindings.count + 1, count: 2))
                    bindings.append(position)
                    bindings.append(ByteBuffer(bytes: bytes))
                }
                try write(PostgresQuery(unsafeSQL: """
                    INSERT INTO receipts (position, bytes) VALUES \(values.joined(separator: ", ")) ON CONFLICT DO NOTHING
                    """, binds: bindings))
            }
        }
    }

    /// `($first, $first+1, …)`: one row's placeholders in a multi-row INSERT.
    private static func placeholders(from first: Int, count: Int) -> String {
        "(" + (first..<(first + count)).map { "$\($0)" }.joined(separator: ", ") + ")"
    }

    public func issued(issuer: String, id: String) throws(LedgerError) -> LogEntry? {
        try withConnection { connection in try issued(issuer: issuer, id: id, on: connection) }
    }

    public func accepted(issuer: String, id: String) throws(LedgerError) -> LogEntry? {
        try withConnection { connection in try accepted(issuer: issuer, id: id, on: connection) }
    }

    public func entries(after position: Int, limit: Int) throws(LedgerError) -> [LogEntry] {
        try withConnection { connection in try entries(after: position, limit: limit, on: connection) }
    }

    public func storeReceipt(_ bytes: [UInt8], for position: Int) throws(LedgerError) {
        try withConnection { connection in try storeReceipt(bytes, for: position, on: connection) }
    }

    private func storeReceipt(_ bytes: [UInt8], for position: Int, on connection: PostgresConnection) throws {
        _ = try connection.query("INSERT INTO receipts (position, bytes) VALUES (\(position), \(ByteBuffer(bytes: bytes))) ON CONFLICT DO NOTHING",
                                 logger: logger).wait()
    }

    public func receipt(for position: Int) throws(LedgerError) -> [UInt8]? {
        try withConnection { connection in try receipt(for: position, on: connection) }
    }

    private func receipt(for position: Int, on connection: PostgresConnection) throws -> [UInt8]? {
        try rows("SELECT bytes FROM receipts WHERE position = \(position)", on: connection).first.map { Array(buffer: try $0.decode(ByteBuffer.self)) }
    }

    public func count() throws(LedgerError) -> Int {
        try withConnection { connection in try rows("SELECT COUNT(*) FROM log", on: connection).first.map { try $0.decode(Int.self) } ?? 0 }
    }

    public func verifyChain() throws(LedgerError) -> ChainReport {
        try ChainReport.walk(self)
    }

    // MARK: Rows

    private static let columns = "position, issuer, id, type, sender, received_at, outcome, error_code, bytes, sha256, previous_hash, hash"

    /// The last entry's position and hash (0 and the genesis hash for an empty log).
    private func head(on connection: PostgresConnection) throws -> (position: Int, hash: String) {
        let last = try rows("SELECT position, hash FROM log ORDER BY position DESC LIMIT 1", on: connection).first.map { try $0.decode((Int, String).self) }
        return last ?? (0, LogEntry.genesisHash)
    }

    /// Inserts `entry` after `head` (the caller holds the append lock).
    private func insert(_ entry: NewEntry, sha256: String, after head: (position: Int, hash: String),
                        on connection: PostgresConnection) throws -> LogEntry {
        let (position, previous) = (head.position + 1, head.hash)
        let hash = LogEntry.chainHash(position: position, content: entry, sha256: sha256, previousHash: previous)
        _ = try connection.query("""
            INSERT INTO log (position, issuer, id, type, sender, received_at, outcome, error_code, bytes, sha256, previous_hash, hash)
            VALUES (\(position), \(entry.issuer), \(entry.id), \(entry.type), \(entry.sender), \(entry.receivedAt), \(entry.outcome),
                    \(entry.errorCode), \(ByteBuffer(bytes: entry.bytes)), \(sha256), \(previous), \(hash))
            """, logger: logger).wait()
        return LogEntry(position: position, content: entry, sha256: sha256, previousHash: previous, hash: hash)
    }

    private func enqueue(position: Int, for recipients: [String], at timestamp: String, on connection: PostgresConnection) throws {
        for recipient in Set(recipients).sorted() {
            _ = try connection.query("""
                INSERT INTO outbox (sequence, position, recipient, state, attempts, next_attempt_at, updated_at)
                SELECT COALESCE(MAX(sequence), 0) + 1, \(position), \(recipient), 'pending', 0, 0, \(timestamp) FROM outbox
                ON CONFLICT (position, recipient) DO NOTHING
                """, logger: logger).wait()
        }
    }

    private func accepted(issuer: String, id: String, on connection: PostgresConnection) throws -> LogEntry? {
        try rows("SELECT \(unescaped: Self.columns) FROM log WHERE issuer = \(issuer) AND id = \(id) AND outcome = 'accepted'", on: connection)
            .first.map(Self.entry)
    }

    private func issued(issuer: String, id: String, on connection: PostgresConnection) throws -> LogEntry? {
        try rows("SELECT \(unescaped: Self.columns) FROM log WHERE issuer = \(issuer) AND id = \(id) AND outcome = 'issued'", on: connection)
            .first.map(Self.entry)
    }

    private func entries(after position: Int, limit: Int, on connection: PostgresConnection) throws -> [LogEntry] {
        try rows("SELECT \(unescaped: Self.columns) FROM log WHERE position > \(position) ORDER BY position LIMIT \(limit)", on: connection).map(Self.entry)
    }

    private static func entry(_ row: PostgresRow) throws -> LogEntry {
        let (position, issuer, id, type, sender, receivedAt, outcome, errorCode, bytes, sha256, previous, hash) =
            try row.decode((Int, String, String, String, String, String, String, String?, ByteBuffer, String, String, String).self)
        return LogEntry(
            position: position,
            content: NewEntry(issuer: issuer, id: id, type: type, sender: sender, receivedAt: receivedAt, outcome: outcome,
                              errorCode: errorCode, bytes: Array(buffer: bytes)),
            sha256: sha256, previousHash: previous, hash: hash)
    }

    // MARK: Outbox

    private static let deliveryColumns = """
        o.sequence, o.position, o.recipient, l.issuer, l.id, l.type, o.state, o.attempts, o.next_attempt_at, o.last_error, o.updated_at
        """

    public func inbox(of recipient: String, after sequence: Int, limit: Int) throws(LedgerError) -> [OutboundMessage] {
        try withConnection { connection in
            try rows("""
                SELECT \(unescaped: Self.deliveryColumns), l.bytes FROM outbox o JOIN log l ON l.position = o.position
                WHERE o.recipient = \(recipient) AND o.sequence > \(sequence) ORDER BY o.sequence LIMIT \(max(0, limit))
                """, on: connection).map(Self.message)
        }
    }

    public func acknowledge(_ sequences: [Int], by recipient: String, at timestamp: String) throws(LedgerError) -> Int {
        try withConnection { connection in
            let changed = try rows("""
                UPDATE outbox SET state = 'acknowledged', updated_at = \(timestamp)
                WHERE sequence = ANY(\(sequences)) AND recipient = \(recipient) AND state <> 'acknowledged' RETURNING sequence
                """, on: connection).map { try $0.decode(Int.self) }
            for sequence in changed {
                try logAttempt(sequence: sequence, attempt: 0, at: timestamp, outcome: "acknowledged", detail: "acknowledged by \(recipient)", retryIn: nil, on: connection)
            }
            return changed.count
        }
    }

    /// Claims the due deliveries for this node (`FOR UPDATE SKIP LOCKED`, with a lease): another node asking
    /// at the same time gets other rows, and a claim left by a node that died expires.
    public func due(to recipients: Set<String>, now: Int64, limit: Int) throws(LedgerError) -> [OutboundMessage] {
        guard !recipients.isEmpty else { return [] }
        return try withConnection { connection in
            try rows("""
                WITH claimed AS (
                    UPDATE outbox SET claimed_until = \(now + claimLeaseMilliseconds)
                    WHERE sequence IN (
                        SELECT sequence FROM outbox
                        WHERE state = 'pending' AND next_attempt_at <= \(now) AND claimed_until <= \(now) AND recipient = ANY(\(recipients.sorted()))
                        ORDER BY sequence LIMIT \(max(0, limit)) FOR UPDATE SKIP LOCKED)
                    RETURNING *)
                SELECT \(unescaped: Self.deliveryColumns.replacingOccurrences(of: "o.", with: "claimed.")), l.bytes
                FROM claimed JOIN log l ON l.position = claimed.position ORDER BY claimed.sequence
                """, on: connection).map(Self.message)
        }
    }

    public func record(_ result: PushResult, for sequence: Int, at timestamp: String, now: Int64) throws(LedgerError) {
        try withConnection { connection in
            guard let (attempts, current) = try rows("SELECT attempts, state FROM outbox WHERE sequence = \(sequence)", on: connection)
                .first.map({ try $0.decode((Int, String).self) }) else {
                throw LedgerError(code: "not-found", message: "no delivery \(sequence)")
            }
            let attempt = attempts + 1
            let state: String, next: Int64, error: String?, detail: String, retryIn: Int?, outcome: String
            switch result {
            case .delivered(let text): (state, next, error, detail, retryIn, outcome) = ("delivered", now, nil, text, nil, "delivered")
            case .retry(let text, let delay): (state, next, error, detail, retryIn, outcome) = ("pending", now + Int64(delay), text, text, delay, "failed")
            case .dead(let text): (state, next, error, detail, retryIn, outcome) = ("dead", now, text, text, nil, "dead")
            }
            let final = current == "acknowledged" ? "acknowledged" : state
            _ = try connection.query("""
                UPDATE outbox SET state = \(final), attempts = \(attempt), next_attempt_at = \(next), last_error = \(error),
                updated_at = \(timestamp), claimed_until = 0 WHERE sequence = \(sequence)
                """, logger: logger).wait()
            try logAttempt(sequence: sequence, attempt: attempt, at: timestamp, outcome: outcome, detail: detail, retryIn: retryIn, on: connection)
        }
    }

    public func deliveries(in state: DeliveryState?, limit: Int) throws(LedgerError) -> [Delivery] {
        try withConnection { connection in
            let query: PostgresQuery = state.map { state in
                "SELECT \(unescaped: Self.deliveryColumns), NULL::BYTEA FROM outbox o JOIN log l ON l.position = o.position WHERE o.state = \(state.rawValue) ORDER BY o.sequence DESC LIMIT \(max(0, limit))"
            } ?? "SELECT \(unescaped: Self.deliveryColumns), NULL::BYTEA FROM outbox o JOIN log l ON l.position = o.position ORDER BY o.sequence DESC LIMIT \(max(0, limit))"
            return try rows(query, on: connection).map { try Self.message($0).delivery }
        }
    }

    public func deliveries(ofBulletin issuer: String, id: String) throws(LedgerError) -> [Delivery] {
        try withConnection { connection in
            try rows("""
                SELECT \(unescaped: Self.deliveryColumns), NULL::BYTEA FROM outbox o JOIN log l ON l.position = o.position
                WHERE l.issuer = \(issuer) AND l.id = \(id) AND l.outcome IN ('accepted', 'issued') ORDER BY o.recipient
                """, on: connection).map { try Self.message($0).delivery }
        }
    }

    public func attempts(of sequence: Int) throws(LedgerError) -> [DeliveryAttempt] {
        try withConnection { connection in
            try rows("SELECT sequence, attempt, at, outcome, detail, retry_in_ms FROM delivery_log WHERE sequence = \(sequence) ORDER BY row",
                     on: connection).map { row in
                let (sequence, attempt, at, outcome, detail, retryIn) = try row.decode((Int, Int, String, String, String, Int?).self)
                return DeliveryAttempt(sequence: sequence, attempt: attempt, at: at, outcome: outcome, detail: detail, retryInMilliseconds: retryIn)
            }
        }
    }

    public func deliveryCounts() throws(LedgerError) -> [DeliveryState: Int] {
        try withConnection { connection in
            var counts: [DeliveryState: Int] = [:]
            for row in try rows("SELECT state, COUNT(*) FROM outbox GROUP BY state", on: connection) {
                let (state, count) = try row.decode((String, Int).self)
                if let known = DeliveryState(rawValue: state) { counts[known] = count }
            }
            return counts
        }
    }

    public func retry(_ sequences: [Int]?, at timestamp: String, now: Int64) throws(LedgerError) -> Int {
        try withConnection { connection in
            let query: PostgresQuery = sequences.map { chosen in
                "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = \(now), updated_at = \(timestamp), claimed_until = 0 WHERE state = 'dead' AND sequence = ANY(\(chosen)) RETURNING sequence"
            } ?? "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = \(now), updated_at = \(timestamp), claimed_until = 0 WHERE state = 'dead' RETURNING sequence"
            let changed = try rows(query, on: connection).map { try $0.decode(Int.self) }
            for sequence in changed {
                try logAttempt(sequence: sequence, attempt: 0, at: timestamp, outcome: "retry-requested",
                               detail: "an operator put the dead letter back in the outbox", retryIn: nil, on: connection)
            }
            return changed.count
        }
    }

    private func logAttempt(sequence: Int, attempt: Int, at: String, outcome: String, detail: String, retryIn: Int?,
                            on connection: PostgresConnection) throws {
        _ = try connection.query("""
            INSERT INTO delivery_log (sequence, attempt, at, outcome, detail, retry_in_ms)
            VALUES (\(sequence), \(attempt), \(at), \(outcome), \(String(detail.prefix(500))), \(retryIn))
            """, logger: logger).wait()
    }

    private static func message(_ row: PostgresRow) throws -> OutboundMessage {
        let (sequence, position, recipient, issuer, id, type, state, attempts, next, lastError, updatedAt, bytes) =
            try row.decode((Int, Int, String, String, String, String, String, Int, Int64, String?, String, ByteBuffer?).self)
        return OutboundMessage(
            delivery: Delivery(sequence: sequence, position: position, recipient: recipient, issuer: issuer, id: id, type: type,
                               state: DeliveryState(rawValue: state) ?? .pending, attempts: attempts, nextAttemptAt: next,
                               lastError: lastError, updatedAt: updatedAt),
            bytes: bytes.map { Array(buffer: $0) } ?? [])
    }
}

private extension Array {
    /// The elements in consecutive pieces of at most `size` (a multi-row statement's rows, within PostgreSQL's
    /// limit of 65,535 parameters).
    func chunked(by size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
