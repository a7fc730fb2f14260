import Logging
import NIOCore
import PostgresNIO
import Synchronization
import TransparencyLog

/// The writer of one PostgreSQL append transaction, on the connection that holds it. It remembers the
/// chain's head once read (no other writer can move it while the append lock is held), saving a round
/// trip per batch.
///
/// Statements are sent without waiting for their answers (postgres-nio runs a connection's statements one
/// after another in the order sent): writes are confirmed by the next read or by `COMMIT`, and a read waits
/// once for its own answer and every answer before it. `BEGIN`, the lock, the chain head and the body's first
/// read travel together. So a batch costs one round trip per read and one for `COMMIT`, however many
/// statements it writes.
/// Every statement's answer is checked, in order, and the first error fails the append: PostgreSQL
/// answers `COMMIT` of a transaction in which a statement failed by rolling it back, so a `COMMIT` that
/// seems to succeed is never taken for a commit unless everything before it did. No write is sent before
/// `BEGIN` and the lock are confirmed, so nothing can run outside the transaction.
final class PostgresTransaction: LedgerWriter {
    private struct State {
        /// The last entry's position and hash, once known.
        var head: (position: Int, hash: String)?
        /// The answer of the chain head's query, sent at the start of the transaction.
        var headAnswer: EventLoopFuture<PostgresQueryResult>?
        /// Statements sent whose answers are not yet checked, in the order sent.
        var unconfirmed: [EventLoopFuture<PostgresQueryResult>] = []
        /// Whether `BEGIN` and the lock (the first statements sent) are confirmed.
        var open = false
        /// The Merkle tree's right edge: the store's remembered one until the first append checks it against
        /// the chain's head, then the tree as this transaction grew it.
        var frontier: TreeFrontier?
        /// Every subtree this transaction completed.
        var grown: [TreeNodeID: TreeHash] = [:]
        /// Whether `frontier` is known to be the chain head's (an append checked or made it).
        var frontierChecked = false
    }

    /// Used only inside the transaction's body, which owns the leased connection (`PostgresConnection` is
    /// Sendable; the pool lends it to this transaction alone).
    private let connection: PostgresConnection
    private let logger: Logger
    private let state = Mutex(State())

    init(connection: PostgresConnection, logger: Logger, frontier: TreeFrontier? = nil) {
        self.connection = connection
        self.logger = logger
        state.withLock { $0.frontier = frontier }
    }

    /// The tree's right edge as the transaction's appends left it (nil when it appended nothing).
    var grownFrontier: TreeFrontier? { state.withLock { $0.frontierChecked ? $0.frontier : nil } }

    /// Sends `query` without waiting for its answer.
    func send(_ query: PostgresQuery) {
        let answer = PostgresLedger.sent(query, on: connection, logger: logger)
        state.withLock { $0.unconfirmed.append(answer) }
    }

    /// Sends the query of the chain's head (read by the first append), to travel with what follows it.
    func prefetchHead() {
        let answer = PostgresLedger.sent("SELECT position, hash FROM log ORDER BY position DESC LIMIT 1", on: connection, logger: logger)
        state.withLock { state in
            state.unconfirmed.append(answer)
            state.headAnswer = answer
        }
    }

    /// Waits for the answers of every statement sent, and throws the first error in the order sent; returns
    /// the answers in that order. One wait for them all: awaiting each future on its own costs a hop to the
    /// connection's event loop and back per statement, even for answers already in.
    @discardableResult
    func confirm() async throws -> [PostgresQueryResult] {
        let sent = state.withLock { state in
            defer { state.unconfirmed = [] }
            return state.unconfirmed
        }
        var answers: [PostgresQueryResult] = []
        if let final = sent.last {
            for answer in try await EventLoopFuture.whenAllComplete(sent, on: final.eventLoop).get() { answers.append(try answer.get()) }
        }
        state.withLock { $0.open = true }
        return answers
    }

    /// Sends a write once the transaction is confirmed open; its answer is checked by the next confirmation.
    private func write(_ query: PostgresQuery) async throws {
        if !state.withLock({ $0.open }) { try await confirm() }
        send(query)
    }

    /// The rows `query` reads: sent after everything sent before it, and waited for together with it.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        send(query)
        guard let answer = try await confirm().last else { throw LedgerError.storageFailure("PostgreSQL gave no answer to a read") }
        return Array(answer.rows)
    }

    /// Runs `body`, its errors as ledger errors.
    private func ledger<Value>(_ body: () async throws -> Value) async throws(LedgerError) -> Value {
        do {
            return try await body()
        } catch {
            throw PostgresLedger.ledgerError(error)
        }
    }

    /// The chain's last position and hash: remembered, or read once (after confirming what was sent).
    private func chainHead() async throws -> (position: Int, hash: String) {
        let (known, prefetched) = state.withLock { ($0.head, $0.headAnswer) }
        if let known { return known }
        let rows: [PostgresRow]
        if let prefetched {
            try await confirm()   // the prefetched answer is checked in order with the rest
            rows = Array(try await prefetched.get().rows)
        } else {
            rows = try await self.rows("SELECT position, hash FROM log ORDER BY position DESC LIMIT 1")
        }
        let last = try rows.first.map { try $0.decode((Int, String).self) }
        let head = last ?? (0, LogEntry.genesisHash)
        state.withLock { $0.head = head }
        return head
    }

    func headPosition() async throws(LedgerError) -> Int {
        try await ledger { try await chainHead().position }
    }

    func entries(after position: Int, limit: Int) async throws(LedgerError) -> [LogEntry] {
        try await ledger { try await rows(Self.entriesQuery(after: position, limit: limit)).map(PostgresLedger.entry) }
    }

    /// Both reads sent at once and waited for together: one round trip for the two.
    func entriesAndAccepted(after position: Int, limit: Int, keys: [BulletinKey]) async throws(LedgerError) -> ([LogEntry], [BulletinKey: LogEntry]) {
        guard !keys.isEmpty else { return (try await entries(after: position, limit: limit), [:]) }
        return try await ledger {
            send(Self.entriesQuery(after: position, limit: limit))
            send(Self.keysQuery(keys, outcome: .accepted))
            let answers = try await confirm()
            guard answers.count >= 2 else { throw LedgerError.storageFailure("PostgreSQL gave no answer to a read") }
            let entries = try answers[answers.count - 2].rows.map(PostgresLedger.entry)
            return (entries, Self.byKey(try answers[answers.count - 1].rows.map(PostgresLedger.entry)))
        }
    }

    static func entriesQuery(after position: Int, limit: Int) -> PostgresQuery {
        "SELECT \(unescaped: PostgresLedger.columns) FROM log WHERE position > \(position) ORDER BY position LIMIT \(limit)"
    }

    func accepted(_ keys: [BulletinKey]) async throws(LedgerError) -> [BulletinKey: LogEntry] {
        try await entries(keys, outcome: .accepted)
    }

    func issued(_ keys: [BulletinKey]) async throws(LedgerError) -> [BulletinKey: LogEntry] {
        try await entries(keys, outcome: .issued)
    }

    func latestChange(of type: String) async throws(LedgerError) -> LogEntry? {
        try await ledger {
            try await rows("""
                SELECT \(unescaped: PostgresLedger.columns) FROM log WHERE outcome IN ('trust', 'configuration') AND type = \(type)
                ORDER BY position DESC LIMIT 1
                """).first.map(PostgresLedger.entry)
        }
    }

    /// The entries among `keys` with `outcome`, in one statement. The outcome is written out, not bound:
    /// only then can PostgreSQL use the partial unique index on it.
    private func entries(_ keys: [BulletinKey], outcome: EntryOutcome) async throws(LedgerError) -> [BulletinKey: LogEntry] {
        guard !keys.isEmpty else { return [:] }
        return try await ledger { Self.byKey(try await rows(Self.keysQuery(keys, outcome: outcome)).map(PostgresLedger.entry)) }
    }

    static func keysQuery(_ keys: [BulletinKey], outcome: EntryOutcome) -> PostgresQuery {
        """
        SELECT \(unescaped: PostgresLedger.columns) FROM log WHERE outcome = '\(unescaped: outcome.rawValue)'
        AND (issuer, id) IN (SELECT * FROM unnest(\(keys.map(\.issuer))::text[], \(keys.map(\.id))::text[]))
        """
    }

    static func byKey(_ entries: [LogEntry]) -> [BulletinKey: LogEntry] {
        Dictionary(entries.map { (BulletinKey(issuer: $0.content.issuer, id: $0.content.id), $0) }) { first, _ in first }
    }

    func append(_ entries: [EntryToAppend]) async throws(LedgerError) -> [LogEntry] {
        guard !entries.isEmpty else { return [] }
        return try await ledger {
            var current = try await chainHead()
            var logged: [LogEntry] = []
            logged.reserveCapacity(entries.count)
            for chunk in entries.chunked(by: 1000) {
                var values: [String] = []
                var bindings = PostgresBindings(capacity: chunk.count * 12)
                for row in chunk {
                    let (entry, sha256) = (row.entry, row.sha256)
                    let (position, previous) = (current.position + 1, current.hash)
                    let hash = LogEntry.chainHash(position: position, content: entry, sha256: sha256, previousHash: previous)
                    values.append(Self.placeholders(from: bindings.count + 1, count: 12))
                    bindings.append(position)
                    for text in [entry.issuer, entry.id, entry.type, entry.sender, entry.receivedAt, entry.outcome.rawValue] { bindings.append(text) }
                    bindings.append(entry.errorCode)
                    bindings.append(ByteBuffer(bytes: entry.bytes))
                    for text in [sha256, previous, hash] { bindings.append(text) }
                    logged.append(LogEntry(position: position, content: entry, sha256: sha256, previousHash: previous, hash: hash))
                    current = (position, hash)
                }
                try await write(PostgresQuery(unsafeSQL: """
                    INSERT INTO log (\(PostgresLedger.columns)) VALUES \(values.joined(separator: ", "))
                    """, binds: bindings))
            }
            state.withLock { [current] in $0.head = current }
            try await growTree(by: logged)
            return logged
        }
    }

    /// Extends the tree by the leaves of `entries`: from the remembered right edge when it is the chain
    /// head's (no read), else from the stored one.
    private func growTree(by entries: [LogEntry]) async throws {
        guard let first = entries.first else { return }
        let size = first.position - 1
        var frontier: TreeFrontier
        if let known = state.withLock({ $0.frontier }), known.size == size {
            frontier = known
        } else {
            frontier = try TreeGrowth.frontier(size: size, from: try await storedHashes(Set(TreeFrontier.nodes(ofSize: size))))
        }
        let edge = frontier.hashes   // the right edge it grew from: a new leaf's proof reads those it merged
        let completed = try TreeGrowth.completed(by: entries, extending: &frontier)
        for chunk in completed.chunked(by: 1000) {
            try await write("""
                INSERT INTO merkle_nodes (level, idx, hash)
                SELECT * FROM unnest(\(chunk.map { $0.0.level })::int[], \(chunk.map { $0.0.index })::bigint[], \(chunk.map { ByteBuffer(bytes: $0.1) })::bytea[])
                """)
        }
        state.withLock { [frontier] state in
            state.frontier = frontier
            state.frontierChecked = true
            for (node, hash) in edge { state.grown[node] = hash }
            for (node, hash) in completed { state.grown[node] = hash }
        }
    }

    /// Computes the Merkle tree's hashes of entries logged before the store kept a tree (a migration step).
    func growTreeToLog() async throws {
        while true {
            let size = try await rows("SELECT COALESCE(MAX(idx) + 1, 0) FROM merkle_nodes WHERE level = 0").first.map { try $0.decode(Int.self) } ?? 0
            let entries = try await rows(Self.entriesQuery(after: size, limit: 10_000)).map(PostgresLedger.entry)
            guard !entries.isEmpty else { return }
            state.withLock { $0.frontierChecked = false }
            try await growTree(by: entries)
        }
    }

    /// The stored hashes among `nodes`, read after everything sent before.
    private func storedHashes(_ nodes: Set<TreeNodeID>) async throws -> [TreeNodeID: TreeHash] {
        guard !nodes.isEmpty else { return [:] }
        let list = Array(nodes)
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

    /// From what the transaction grew and the right edge it started from, without a round trip when they hold
    /// every hash asked for (a receipt's proof and a checkpoint's root always are).
    func treeHashes(_ nodes: Set<TreeNodeID>) async throws(LedgerError) -> [TreeNodeID: TreeHash] {
        try await ledger {
            var found: [TreeNodeID: TreeHash] = [:]
            let (grown, edge) = state.withLock { ($0.grown, $0.frontierChecked ? $0.frontier?.hashes ?? [:] : [:]) }
            for node in nodes { found[node] = grown[node] ?? edge[node] }
            let missing = nodes.filter { found[$0] == nil }
            if !missing.isEmpty { found.merge(try await storedHashes(missing)) { kept, _ in kept } }
            return found
        }
    }

    func storeCheckpoint(_ checkpoint: StoredCheckpoint) async throws(LedgerError) {
        try await ledger {
            try await write("INSERT INTO checkpoints (size, note) VALUES (\(checkpoint.size), \(checkpoint.note)) ON CONFLICT DO NOTHING")
        }
    }

    func enqueue(_ deliveries: [DeliveryToQueue]) async throws(LedgerError) {
        let rows = deliveries.flatMap { delivery in Set(delivery.recipients).sorted().map { (delivery.position, $0, delivery.timestamp) } }
        guard !rows.isEmpty else { return }
        try await ledger {
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
                try await write(PostgresQuery(unsafeSQL: """
                    INSERT INTO outbox (sequence, position, recipient, state, attempts, next_attempt_at, updated_at)
                    SELECT base.sequence + added.k, added.position, added.recipient, 'pending', 0, 0, added.updated_at
                    FROM (SELECT COALESCE(MAX(sequence), 0) AS sequence FROM outbox) AS base,
                         (VALUES \(values.joined(separator: ", "))) AS added (k, position, recipient, updated_at)
                    ORDER BY added.k
                    ON CONFLICT (position, recipient) DO NOTHING
                    """, binds: bindings))
            }
        }
    }

    func storeReceipts(_ receipts: [ReceiptToStore]) async throws(LedgerError) {
        guard !receipts.isEmpty else { return }
        try await ledger {
            for chunk in receipts.chunked(by: 1000) {
                var values: [String] = []
                var bindings = PostgresBindings(capacity: chunk.count * 2)
                for receipt in chunk {
                    values.append(Self.placeholders(from: bindings.count + 1, count: 2))
                    bindings.append(receipt.position)
                    bindings.append(ByteBuffer(bytes: receipt.bytes))
                }
                try await write(PostgresQuery(unsafeSQL: """
                    INSERT INTO receipts (position, bytes) VALUES \(values.joined(separator: ", ")) ON CONFLICT DO NOTHING
                    """, binds: bindings))
            }
        }
    }

    func receipt(for position: Int) async throws(LedgerError) -> [UInt8]? {
        try await ledger {
            try await rows("SELECT bytes FROM receipts WHERE position = \(position)").first.map { Array(buffer: try $0.decode(ByteBuffer.self)) }
        }
    }

    /// `($first, $first+1, …)`: one row's placeholders in a multi-row INSERT.
    private static func placeholders(from first: Int, count: Int) -> String {
        "(" + (first..<(first + count)).map { "$\($0)" }.joined(separator: ", ") + ")"
    }
}

private extension Array {
    /// The elements in consecutive pieces of at most `size` (a multi-row statement's rows, within PostgreSQL's
    /// limit of 65,535 parameters).
    func chunked(by size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
