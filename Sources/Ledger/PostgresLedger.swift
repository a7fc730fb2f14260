import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization
import TransparencyLog

/// The ledger in PostgreSQL, for several gateway nodes on one database.
///
/// The same semantics as ``SQLiteLedger`` (one test suite runs against both). Every append transaction
/// takes one transaction-scoped advisory lock, so positions are global and gap-free and the hash chain
/// stays correct however many nodes append at once; outbox sequence numbers are assigned under the same
/// lock, so a recipient's cursor never skips a row. Push deliveries are claimed with `FOR UPDATE SKIP
/// LOCKED` and a lease, so each is attempted by one node at a time.
///
/// Connections come from postgres-nio's `PostgresClient` (a pool), which ``run()`` keeps; its event loop is
/// a thread of the store's own, not one of the loops that serve HTTPS, so that a commit's answers are read
/// as they arrive.
public final class PostgresLedger: LedgerStore {
    /// The advisory lock every append holds (an arbitrary constant: "TONGBAO" on a phone keypad).
    static let appendLock: Int64 = 8_664_226
    /// How long a node holds a claimed push delivery before another node may try it, in milliseconds: longer
    /// than one push attempt may take, so that a live node's attempt is never doubled, and short enough that a
    /// dead node's claims pass to the others soon.
    let claimLeaseMilliseconds: Int64

    /// The Merkle tree's right edge after this node's last committed append: the next append starts from it
    /// without reading it, when no other node appended in between (its size is then the chain head's).
    private let frontier = Mutex<TreeFrontier?>(nil)

    private let eventLoops: MultiThreadedEventLoopGroup
    private let client: PostgresClient
    private let configuration: PostgresClient.Configuration
    let logger: Logger

    /// A store for `url` (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`); nothing connects before ``run()``.
    public init(url: String, claimLeaseMilliseconds: Int64 = 120_000, logger: Logger = Logger(label: "tongbao.ledger.postgres")) throws(LedgerError) {
        self.claimLeaseMilliseconds = claimLeaseMilliseconds
        self.logger = logger
        let configuration = try Self.configuration(url)
        self.configuration = configuration
        eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        // The pool's own messages at error level and above: it warns about every lease asked for before its
        // run loop has started, which is the normal order when a gateway's pre-start steps begin.
        var background = logger
        background.logLevel = max(logger.logLevel, .error)
        client = PostgresClient(configuration: configuration, eventLoopGroup: eventLoops, backgroundLogger: background)
    }

    /// Keeps the pool until graceful shutdown or cancellation, then closes its connections and its thread.
    public func run() async throws {
        await client.run()
        try await eventLoops.shutdownGracefully()
    }

    // MARK: Connection

    /// Parses `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`.
    static func configuration(_ url: String) throws(LedgerError) -> PostgresClient.Configuration {
        let invalid = LedgerError.storageFailure("\(url) is not postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE")
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
        return PostgresClient.Configuration(host: host, port: port, username: user, password: credentials.count == 2 ? credentials[1] : nil,
                                            database: database, tls: .disable)
    }

    /// The rows `query` reads (after every statement sent before it on `connection`).
    static func rows(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws -> [PostgresRow] {
        Array(try await sent(query, on: connection, logger: logger).get().rows)
    }

    /// Sends `query` without waiting for its answer (postgres-nio runs a connection's statements in the
    /// order sent).
    static func sent(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) -> EventLoopFuture<PostgresQueryResult> {
        connection.query(query, logger: logger)
    }

    private func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        let logger = logger
        return try await client.withConnection { connection in try await Self.rows(query, on: connection, logger: logger) }
    }

    /// Runs `body`, its errors as ledger errors.
    private func reading<Value>(_ body: () async throws -> Value) async throws(LedgerError) -> Value {
        do {
            return try await body()
        } catch {
            throw Self.ledgerError(error)
        }
    }

    static func ledgerError(_ error: any Error) -> LedgerError {
        (error as? LedgerError) ?? LedgerError.storageFailure("PostgreSQL: \(String(reflecting: error))")
    }

    // MARK: Schema

    /// The layout version: 2 had no `trust` and `configuration` outcomes.
    static let schemaVersion = 3

    static let schema = """
        CREATE TABLE IF NOT EXISTS log (
            position BIGINT PRIMARY KEY,
            issuer TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, sender TEXT NOT NULL,
            received_at TEXT NOT NULL, outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'rejected', 'issued', 'trust', 'configuration')),
            error_code TEXT, bytes BYTEA NOT NULL, sha256 TEXT NOT NULL, previous_hash TEXT NOT NULL, hash TEXT NOT NULL
        );
        CREATE UNIQUE INDEX IF NOT EXISTS log_accepted ON log (issuer, id) WHERE outcome = 'accepted';
        CREATE UNIQUE INDEX IF NOT EXISTS log_issued ON log (issuer, id) WHERE outcome = 'issued';
        CREATE INDEX IF NOT EXISTS log_changes ON log (type, position) WHERE outcome IN ('trust', 'configuration');
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
        CREATE TABLE IF NOT EXISTS refusals (
            sequence BIGSERIAL PRIMARY KEY, received_at TEXT NOT NULL, issuer TEXT NOT NULL, id TEXT NOT NULL,
            type TEXT NOT NULL, sender TEXT NOT NULL, code TEXT NOT NULL, reason TEXT, sha256 TEXT NOT NULL, size INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS refusals_received_at ON refusals (received_at);
        CREATE TABLE IF NOT EXISTS merkle_nodes (level INTEGER NOT NULL, idx BIGINT NOT NULL, hash BYTEA NOT NULL, PRIMARY KEY (level, idx));
        CREATE TABLE IF NOT EXISTS checkpoints (size BIGINT PRIMARY KEY, note TEXT NOT NULL);
        """

    /// How long ``migrate()``, a store's first use, waits for PostgreSQL to answer: the pool would go on
    /// trying to connect for a minute or more, and a node that cannot reach its database should say so.
    /// Long enough for a busy server on shared cores (10 s was not, under a full parallel test run), short
    /// enough that an unreachable one is reported within half a minute.
    static let firstAnswerDeadline: Duration = .seconds(30)

    /// Creates the tables (version 2, the SQLite layout's) under the append lock, so that nodes starting
    /// together do not race. Fails when PostgreSQL has not answered within ``firstAnswerDeadline``.
    public func migrate() async throws(LedgerError) {
        let address = "\(configuration.host ?? "?"):\(configuration.port ?? 5432)"
        do {
            try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    try await self.createTables()
                    return true
                }
                group.addTask {
                    try await Task.sleep(for: Self.firstAnswerDeadline)
                    return false
                }
                let done = try await group.next() ?? false
                group.cancelAll()
                if !done { throw LedgerError.storageFailure("PostgreSQL at \(address) did not answer within \(Self.firstAnswerDeadline)") }
            }
        } catch {
            throw Self.ledgerError(error)
        }
    }

    private func createTables() async throws {
        do {
            try await withTransaction(prefetchingHead: false) { transaction in
                for statement in Self.schema.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }) where !statement.isEmpty {
                    _ = try await transaction.rows(PostgresQuery(unsafeSQL: statement))
                }
                let version = try await transaction.rows("SELECT version FROM schema_version").first.map { try $0.decode(Int.self) }
                if version == nil {
                    _ = try await transaction.rows("INSERT INTO schema_version (version) VALUES (\(Self.schemaVersion))")
                } else if let version, version < 3 {
                    // 2 had no `trust` and `configuration` outcomes: every check on the outcome goes, whatever its name.
                    _ = try await transaction.rows("""
                        DO $$ DECLARE name text; BEGIN
                          FOR name IN SELECT conname FROM pg_constraint
                                      WHERE conrelid = 'log'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%outcome%' LOOP
                            EXECUTE format('ALTER TABLE log DROP CONSTRAINT %I', name);
                          END LOOP;
                        END $$
                        """)
                    _ = try await transaction.rows("""
                        ALTER TABLE log ADD CONSTRAINT log_outcome_check CHECK (outcome IN ('accepted', 'rejected', 'issued', 'trust', 'configuration'))
                        """)
                    _ = try await transaction.rows("UPDATE schema_version SET version = \(Self.schemaVersion)")
                }
                try await transaction.growTreeToLog()
            }
        }
    }

    // MARK: Appending

    public func withAppendLock<Result: Sendable>(_ body: (any LedgerWriter) async throws -> Result) async throws -> Result {
        try await withTransaction(prefetchingHead: true) { transaction in try await body(transaction) }
    }

    /// Runs `body` in a transaction holding the append lock: committed when it returns, rolled back when it throws.
    ///
    /// `BEGIN` and the lock are sent without waiting for their answers, and so is `COMMIT`, after the body's
    /// last write: the transaction confirms them together with the statements around them (see
    /// ``PostgresTransaction``), which saves the committing task a round trip each.
    /// `prefetchingHead`: the chain's head is read with `BEGIN` and the lock (not while the tables may not exist yet).
    private func withTransaction<Result: Sendable>(prefetchingHead: Bool, _ body: (PostgresTransaction) async throws -> Result) async throws -> Result {
        let logger = logger
        do {
            return try await client.withConnection { connection in
                let transaction = PostgresTransaction(connection: connection, logger: logger, frontier: frontier.withLock { $0 })
                transaction.send("BEGIN")
                transaction.send("SELECT pg_advisory_xact_lock(\(Self.appendLock))")
                if prefetchingHead { transaction.prefetchHead() }
                do {
                    let result = try await body(transaction)
                    transaction.send("COMMIT")
                    try await transaction.confirm()
                    if let grown = transaction.grownFrontier { frontier.withLock { $0 = grown } }
                    return result
                } catch {
                    _ = try? await Self.rows("ROLLBACK", on: connection, logger: logger)
                    throw error
                }
            }
        } catch let error as PSQLError {
            throw Self.ledgerError(error)
        }
    }

    // MARK: Reads

    static let columns = "position, issuer, id, type, sender, received_at, outcome, error_code, bytes, sha256, previous_hash, hash"

    public func issued(issuer: String, id: String) async throws(LedgerError) -> LogEntry? {
        try await reading { try await rows("SELECT \(unescaped: Self.columns) FROM log WHERE issuer = \(issuer) AND id = \(id) AND outcome = 'issued'").first.map(Self.entry) }
    }

    public func accepted(issuer: String, id: String) async throws(LedgerError) -> LogEntry? {
        try await reading { try await rows("SELECT \(unescaped: Self.columns) FROM log WHERE issuer = \(issuer) AND id = \(id) AND outcome = 'accepted'").first.map(Self.entry) }
    }

    public func entries(after position: Int, limit: Int) async throws(LedgerError) -> [LogEntry] {
        try await reading { try await rows("SELECT \(unescaped: Self.columns) FROM log WHERE position > \(position) ORDER BY position LIMIT \(limit)").map(Self.entry) }
    }

    public func receipt(for position: Int) async throws(LedgerError) -> [UInt8]? {
        try await reading { try await rows("SELECT bytes FROM receipts WHERE position = \(position)").first.map { Array(buffer: try $0.decode(ByteBuffer.self)) } }
    }

    public func count() async throws(LedgerError) -> Int {
        // Positions run 1…n without gaps: the last one is the count, read from the primary key, not by a scan.
        try await reading { try await rows("SELECT COALESCE(MAX(position), 0)::BIGINT FROM log").first.map { try $0.decode(Int.self) } ?? 0 }
    }

    // MARK: The Merkle tree and its checkpoints

    public func treeHashes(_ nodes: Set<TreeNodeID>) async throws(LedgerError) -> [TreeNodeID: TreeHash] {
        guard !nodes.isEmpty else { return [:] }
        let list = Array(nodes)
        return try await reading {
            var found: [TreeNodeID: TreeHash] = [:]
            for row in try await rows("""
                SELECT level, idx, hash FROM merkle_nodes
                WHERE (level, idx) IN (SELECT * FROM unnest(\(list.map(\.level))::int[], \(list.map(\.index))::bigint[]))
                """) {
                let (level, index, hash) = try row.decode((Int, Int, ByteBuffer).self)
                found[TreeNodeID(level: level, index: index)] = Array(buffer: hash)
            }
            return found
        }
    }

    public func checkpoints(from size: Int, limit: Int) async throws(LedgerError) -> [StoredCheckpoint] {
        try await reading {
            try await rows("SELECT size, note FROM checkpoints WHERE size >= \(size) ORDER BY size LIMIT \(max(0, limit))").map { row in
                let (size, note) = try row.decode((Int, String).self)
                return StoredCheckpoint(size: size, note: note)
            }
        }
    }

    public func latestCheckpoint() async throws(LedgerError) -> StoredCheckpoint? {
        try await reading {
            try await rows("SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1").first.map { row in
                let (size, note) = try row.decode((Int, String).self)
                return StoredCheckpoint(size: size, note: note)
            }
        }
    }

    public func replaceCheckpointNote(_ checkpoint: StoredCheckpoint) async throws(LedgerError) {
        try await reading { _ = try await rows("UPDATE checkpoints SET note = \(checkpoint.note) WHERE size = \(checkpoint.size)") }
    }

    public func recordRefusal(_ refusal: Refusal, keeping kept: Int) async throws(LedgerError) {
        let logger = logger
        try await reading {
            try await client.withConnection { connection in
                let r = refusal
                _ = try await Self.rows("""
                    INSERT INTO refusals (received_at, issuer, id, type, sender, code, reason, sha256, size)
                    VALUES (\(r.receivedAt), \(r.issuer), \(r.id), \(r.type), \(r.sender), \(r.code), \(r.reason), \(r.sha256), \(r.size))
                    """, on: connection, logger: logger)
                _ = try await Self.rows("DELETE FROM refusals WHERE sequence <= (SELECT MAX(sequence) FROM refusals) - \(kept)",
                                        on: connection, logger: logger)
            }
        }
    }

    public func refusals(since: String?, limit: Int) async throws(LedgerError) -> [Refusal] {
        try await reading {
            try await rows("""
                SELECT sequence, received_at, issuer, id, type, sender, code, reason, sha256, size FROM refusals
                WHERE received_at >= \(since ?? "") ORDER BY sequence LIMIT \(max(0, limit))
                """).map { row in
                let (sequence, receivedAt, issuer, id, type, sender, code, reason, sha256, size) =
                    try row.decode((Int, String, String, String, String, String, String, String?, String, Int).self)
                return Refusal(sequence: sequence, receivedAt: receivedAt, issuer: issuer, id: id, type: type, sender: sender, code: code,
                               reason: reason, sha256: sha256, size: size)
            }
        }
    }

    static func entry(_ row: PostgresRow) throws -> LogEntry {
            let (position, issuer, id, type, sender, receivedAt, outcome, errorCode, bytes, sha256, previous, hash) =
                try row.decode((Int, String, String, String, String, String, String, String?, ByteBuffer, String, String, String).self)
            guard let known = EntryOutcome(rawValue: outcome) else { throw LedgerError.storageFailure("entry \(position) has the unknown outcome \"\(outcome)\"") }
            return LogEntry(
                position: position,
                content: NewEntry(issuer: issuer, id: id, type: type, sender: sender, receivedAt: receivedAt, outcome: known,
                                  errorCode: errorCode, bytes: Array(buffer: bytes)),
                sha256: sha256, previousHash: previous, hash: hash)
    }

    // MARK: Outbox

    private static let deliveryColumns = """
        o.sequence, o.position, o.recipient, l.issuer, l.id, l.type, o.state, o.attempts, o.next_attempt_at, o.last_error, o.updated_at
        """

    public func inbox(of recipient: String, after sequence: Int, limit: Int) async throws(LedgerError) -> [OutboundMessage] {
        try await reading {
            try await rows("""
                SELECT \(unescaped: Self.deliveryColumns), l.bytes FROM outbox o JOIN log l ON l.position = o.position
                WHERE o.recipient = \(recipient) AND o.sequence > \(sequence) ORDER BY o.sequence LIMIT \(max(0, limit))
                """).map(Self.message)
        }
    }

    public func acknowledge(_ sequences: [Int], by recipient: String, at timestamp: String) async throws(LedgerError) -> Int {
        let logger = logger
        return try await reading {
            try await client.withConnection { connection in
                let changed = try await Self.rows("""
                    UPDATE outbox SET state = 'acknowledged', updated_at = \(timestamp)
                    WHERE sequence = ANY(\(sequences)) AND recipient = \(recipient) AND state <> 'acknowledged' RETURNING sequence
                    """, on: connection, logger: logger).map { try $0.decode(Int.self) }
                for sequence in changed {
                    try await Self.logAttempt(sequence: sequence, attempt: 0, at: timestamp, outcome: .acknowledged, detail: "acknowledged by \(recipient)",
                                              retryIn: nil, on: connection, logger: logger)
                }
                return changed.count
            }
        }
    }

    /// Claims the due deliveries for this node (`FOR UPDATE SKIP LOCKED`, with a lease): another node asking
    /// at the same time gets other rows, and a claim left by a node that died expires.
    public func due(to recipients: Set<String>, now: Int64, limit: Int) async throws(LedgerError) -> [OutboundMessage] {
        guard !recipients.isEmpty else { return [] }
        return try await reading {
            try await rows("""
                WITH claimed AS (
                    UPDATE outbox SET claimed_until = \(now + claimLeaseMilliseconds)
                    WHERE sequence IN (
                        SELECT sequence FROM outbox
                        WHERE state = 'pending' AND next_attempt_at <= \(now) AND claimed_until <= \(now) AND recipient = ANY(\(recipients.sorted()))
                        ORDER BY sequence LIMIT \(max(0, limit)) FOR UPDATE SKIP LOCKED)
                    RETURNING *)
                SELECT \(unescaped: Self.deliveryColumns.replacingOccurrences(of: "o.", with: "claimed.")), l.bytes
                FROM claimed JOIN log l ON l.position = claimed.position ORDER BY claimed.sequence
                """).map(Self.message)
        }
    }

    public func record(_ result: PushResult, for sequence: Int, at timestamp: String, now: Int64) async throws(LedgerError) {
        let logger = logger
        try await reading {
            try await client.withConnection { connection in
                guard let (attempts, current) = try await Self.rows("SELECT attempts, state FROM outbox WHERE sequence = \(sequence)", on: connection, logger: logger)
                    .first.map({ try $0.decode((Int, String).self) }) else {
                    throw LedgerError.notFound("no delivery \(sequence)")
                }
                let attempt = attempts + 1
                let move = result.transition(now: now)
                // An acknowledgement that overtook the push keeps the delivery acknowledged.
                let state = current == DeliveryState.acknowledged.rawValue ? DeliveryState.acknowledged : move.state
                _ = try await Self.rows("""
                    UPDATE outbox SET state = \(state.rawValue), attempts = \(attempt), next_attempt_at = \(move.nextAttemptAt), last_error = \(move.lastError),
                    updated_at = \(timestamp), claimed_until = 0 WHERE sequence = \(sequence)
                    """, on: connection, logger: logger)
                try await Self.logAttempt(sequence: sequence, attempt: attempt, at: timestamp, outcome: move.outcome, detail: move.detail,
                                          retryIn: move.retryIn, on: connection, logger: logger)
            }
        }
    }

    public func deliveries(in state: DeliveryState?, limit: Int) async throws(LedgerError) -> [Delivery] {
        let query: PostgresQuery = state.map { state in
            "SELECT \(unescaped: Self.deliveryColumns), NULL::BYTEA FROM outbox o JOIN log l ON l.position = o.position WHERE o.state = \(state.rawValue) ORDER BY o.sequence DESC LIMIT \(max(0, limit))"
        } ?? "SELECT \(unescaped: Self.deliveryColumns), NULL::BYTEA FROM outbox o JOIN log l ON l.position = o.position ORDER BY o.sequence DESC LIMIT \(max(0, limit))"
        return try await reading { try await rows(query).map { try Self.message($0).delivery } }
    }

    public func deliveries(ofBulletin issuer: String, id: String) async throws(LedgerError) -> [Delivery] {
        try await reading {
            try await rows("""
                SELECT \(unescaped: Self.deliveryColumns), NULL::BYTEA FROM outbox o JOIN log l ON l.position = o.position
                WHERE l.issuer = \(issuer) AND l.id = \(id) AND l.outcome IN ('accepted', 'issued') ORDER BY o.recipient
                """).map { try Self.message($0).delivery }
        }
    }

    public func attempts(of sequence: Int) async throws(LedgerError) -> [DeliveryAttempt] {
        try await reading {
            try await rows("SELECT sequence, attempt, at, outcome, detail, retry_in_ms FROM delivery_log WHERE sequence = \(sequence) ORDER BY row").map { row in
                let (sequence, attempt, at, outcome, detail, retryIn) = try row.decode((Int, Int, String, String, String, Int?).self)
                guard let known = DeliveryOutcome(rawValue: outcome) else {
                    throw LedgerError.storageFailure("delivery \(sequence) has an attempt with the unknown outcome \"\(outcome)\"")
                }
                return DeliveryAttempt(sequence: sequence, attempt: attempt, at: at, outcome: known, detail: detail, retryInMilliseconds: retryIn)
            }
        }
    }

    public func deliveryCounts() async throws(LedgerError) -> [DeliveryState: Int] {
        try await reading {
            var counts: [DeliveryState: Int] = [:]
            for row in try await rows("SELECT state, COUNT(*) FROM outbox GROUP BY state") {
                let (state, count) = try row.decode((String, Int).self)
                if let known = DeliveryState(rawValue: state) { counts[known] = count }
            }
            return counts
        }
    }

    public func retry(_ sequences: [Int]?, at timestamp: String, now: Int64) async throws(LedgerError) -> Int {
        let logger = logger
        let query: PostgresQuery = sequences.map { chosen in
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = \(now), updated_at = \(timestamp), claimed_until = 0 WHERE state = 'dead' AND sequence = ANY(\(chosen)) RETURNING sequence"
        } ?? "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = \(now), updated_at = \(timestamp), claimed_until = 0 WHERE state = 'dead' RETURNING sequence"
        return try await reading {
            try await client.withConnection { connection in
                let changed = try await Self.rows(query, on: connection, logger: logger).map { try $0.decode(Int.self) }
                for sequence in changed {
                    try await Self.logAttempt(sequence: sequence, attempt: 0, at: timestamp, outcome: .retryRequested,
                                              detail: "an operator put the dead letter back in the outbox", retryIn: nil, on: connection, logger: logger)
                }
                return changed.count
            }
        }
    }

    private static func logAttempt(sequence: Int, attempt: Int, at: String, outcome: DeliveryOutcome, detail: String, retryIn: Int?,
                                   on connection: PostgresConnection, logger: Logger) async throws {
        _ = try await rows("""
            INSERT INTO delivery_log (sequence, attempt, at, outcome, detail, retry_in_ms)
            VALUES (\(sequence), \(attempt), \(at), \(outcome.rawValue), \(String(detail.prefix(500))), \(retryIn))
            """, on: connection, logger: logger)
    }

    private static func message(_ row: PostgresRow) throws -> OutboundMessage {
        let (sequence, position, recipient, issuer, id, type, state, attempts, next, lastError, updatedAt, bytes) =
            try row.decode((Int, Int, String, String, String, String, String, Int, Int64, String?, String, ByteBuffer?).self)
        guard let known = DeliveryState(rawValue: state) else { throw LedgerError.storageFailure("delivery \(sequence) is in the unknown state \"\(state)\"") }
        return OutboundMessage(
            delivery: Delivery(sequence: sequence, position: position, recipient: recipient, issuer: issuer, id: id, type: type,
                               state: known, attempts: attempts, nextAttemptAt: next, lastError: lastError, updatedAt: updatedAt),
            bytes: bytes.map { Array(buffer: $0) } ?? [])
    }
}
