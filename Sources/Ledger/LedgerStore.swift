import TransparencyLog

/// The ledger: the message log (the source of truth, append-only, a Merkle tree) and the per-recipient
/// outbox, in SQLite (embedded) or PostgreSQL (several nodes).
///
/// The store stores. It decides nothing about bulletins (duplicates, consequences and receipts are the
/// committer's), signs nothing and never calls back into its caller: a writer takes the append lock with
/// ``withAppendLock(_:)``, reads and writes through the ``LedgerWriter`` it is handed, and everything it
/// wrote commits when the body returns, or nothing does when it throws. Every call is `async`: no caller's
/// thread ever waits for the disk or the network (SQLite runs on threads of its own, PostgreSQL on a pool).
///
/// A store is a service: ``run()`` keeps its connections (PostgreSQL's pool) alive until graceful shutdown
/// or cancellation, and must be running while the store is used.
public protocol LedgerStore: Sendable {
    /// Runs `body` in one durable transaction holding the append lock, which every writer (thread, process
    /// or node) takes: committed when `body` returns (one `fsync` for everything it wrote), rolled back when
    /// it throws, and the error rethrown.
    func withAppendLock<Result: Sendable>(_ body: (any LedgerWriter) async throws -> Result) async throws -> Result

    /// Brings the layout up to date (creating it in an empty database). A pre-start step: run it once
    /// before serving; several nodes may run it at once.
    func migrate() async throws(LedgerError)

    /// Keeps the store's connections until graceful shutdown or cancellation, then closes them.
    func run() async throws

    /// Whether the caller runs on a thread of the store's own (a transaction's body on SQLite's writer
    /// thread), where blocking work blocks nobody else.
    var ownsCurrentThread: Bool { get }

    /// The accepted entry for (issuer, id).
    func accepted(issuer: String, id: String) async throws(LedgerError) -> LogEntry?
    /// The entry the gateway issued as (issuer, id).
    func issued(issuer: String, id: String) async throws(LedgerError) -> LogEntry?
    /// Committed entries after `position`, in order, at most `limit`.
    func entries(after position: Int, limit: Int) async throws(LedgerError) -> [LogEntry]
    /// The receipt kept for the entry at `position`.
    func receipt(for position: Int) async throws(LedgerError) -> [UInt8]?
    /// The number of entries.
    func count() async throws(LedgerError) -> Int

    // MARK: The Merkle tree (gateway.md §4a)

    /// The stored hashes among `nodes` (complete subtrees of the log's Merkle tree); those not stored are absent.
    func treeHashes(_ nodes: Set<TreeNodeID>) async throws(LedgerError) -> [TreeNodeID: TreeHash]
    /// The signed checkpoints of tree sizes from `size` up, smallest first, at most `limit`.
    func checkpoints(from size: Int, limit: Int) async throws(LedgerError) -> [StoredCheckpoint]
    /// The checkpoint of the largest tree size.
    func latestCheckpoint() async throws(LedgerError) -> StoredCheckpoint?
    /// Replaces the note of the checkpoint of `checkpoint.size` (with a witness's cosignature added).
    func replaceCheckpointNote(_ checkpoint: StoredCheckpoint) async throws(LedgerError)

    // MARK: Refusals

    /// Records a refusal in the bounded refusal record (not the log: refusals are not facts), dropping
    /// the oldest beyond the last `kept`.
    func recordRefusal(_ refusal: Refusal, keeping kept: Int) async throws(LedgerError)
    /// Refusals received at or after `since` (RFC 3339; all when nil), oldest first, at most `limit`.
    func refusals(since: String?, limit: Int) async throws(LedgerError) -> [Refusal]

    // MARK: Outbox

    /// The recipient's deliveries after the cursor `sequence`, in order, at most `limit` (pull).
    func inbox(of recipient: String, after sequence: Int, limit: Int) async throws(LedgerError) -> [OutboundMessage]
    /// Marks the recipient's deliveries acknowledged; returns how many were its own and not yet acknowledged.
    func acknowledge(_ sequences: [Int], by recipient: String, at timestamp: String) async throws(LedgerError) -> Int
    /// Pending deliveries to `recipients` whose next attempt is due at `now` (Unix ms), oldest first; on a
    /// store shared by several nodes each is claimed by one node at a time.
    func due(to recipients: Set<String>, now: Int64, limit: Int) async throws(LedgerError) -> [OutboundMessage]
    /// Records a push attempt and moves the delivery on.
    func record(_ result: PushResult, for sequence: Int, at timestamp: String, now: Int64) async throws(LedgerError)
    /// Deliveries, newest first; only those in `state` when given.
    func deliveries(in state: DeliveryState?, limit: Int) async throws(LedgerError) -> [Delivery]
    /// Every recipient's delivery of one bulletin (a broadcast's receipt ledger).
    func deliveries(ofBulletin issuer: String, id: String) async throws(LedgerError) -> [Delivery]
    /// The delivery log of one delivery, in order.
    func attempts(of sequence: Int) async throws(LedgerError) -> [DeliveryAttempt]
    /// The number of deliveries in each state.
    func deliveryCounts() async throws(LedgerError) -> [DeliveryState: Int]
    /// Puts dead deliveries back to pending with a fresh attempt count (all dead ones when `sequences` is
    /// nil); returns how many.
    func retry(_ sequences: [Int]?, at timestamp: String, now: Int64) async throws(LedgerError) -> Int
}

/// What a writer may do inside ``LedgerStore/withAppendLock(_:)``: read what is committed and what it
/// wrote itself, and append at the end of the chain. Used by one task at a time, only inside the body.
public protocol LedgerWriter: Sendable {
    /// The last entry's position (0 for an empty log).
    func headPosition() async throws(LedgerError) -> Int
    /// Entries after `position`, in order, at most `limit`.
    func entries(after position: Int, limit: Int) async throws(LedgerError) -> [LogEntry]
    /// The accepted entries among `keys`.
    func accepted(_ keys: [BulletinKey]) async throws(LedgerError) -> [BulletinKey: LogEntry]
    /// ``entries(after:limit:)`` and ``accepted(_:)`` in one call, for a store that can read both at once.
    func entriesAndAccepted(after position: Int, limit: Int, keys: [BulletinKey]) async throws(LedgerError) -> ([LogEntry], [BulletinKey: LogEntry])
    /// Which of `keys` the gateway issued.
    func issued(_ keys: [BulletinKey]) async throws(LedgerError) -> [BulletinKey: LogEntry]
    /// The last trust or configuration change of `type` (what changed: `participants`, `trust-store`, …).
    func latestChange(of type: String) async throws(LedgerError) -> LogEntry?
    /// Appends the entries, in order, at the end of the chain, each chained to the one before, and grows
    /// the Merkle tree by their leaves.
    func append(_ entries: [EntryToAppend]) async throws(LedgerError) -> [LogEntry]
    /// The hashes among `nodes` in the tree as this transaction has grown it (those not stored are absent).
    func treeHashes(_ nodes: Set<TreeNodeID>) async throws(LedgerError) -> [TreeNodeID: TreeHash]
    /// Keeps a signed checkpoint (the first one stored for a size wins).
    func storeCheckpoint(_ checkpoint: StoredCheckpoint) async throws(LedgerError)
    /// Queues each entry for its recipients (once per recipient).
    func enqueue(_ deliveries: [DeliveryToQueue]) async throws(LedgerError)
    /// Keeps the receipts (the first one stored for a position wins).
    func storeReceipts(_ receipts: [ReceiptToStore]) async throws(LedgerError)
    /// The receipt kept for `position`.
    func receipt(for position: Int) async throws(LedgerError) -> [UInt8]?
}

/// A bulletin's identity in the log: its issuer and id.
public struct BulletinKey: Hashable, Sendable {
    /// The issuer.
    public let issuer: String
    /// The id.
    public let id: String

    /// Creates a key.
    public init(issuer: String, id: String) {
        self.issuer = issuer
        self.id = id
    }
}

/// One row for ``LedgerWriter/append(_:)``: the entry and the SHA-256 of its bytes (computed once by the
/// caller, which compares it with earlier entries' digests).
public struct EntryToAppend: Sendable {
    /// What to record.
    public var entry: NewEntry
    /// SHA-256 of `entry.bytes`, lowercase hex.
    public var sha256: String

    /// A row whose digest is computed now.
    public init(_ entry: NewEntry) {
        self.init(entry, sha256: SHA256Digest.hex(entry.bytes))
    }

    /// A row with its digest computed before.
    public init(_ entry: NewEntry, sha256: String) {
        self.entry = entry
        self.sha256 = sha256
    }
}

/// One row for ``LedgerWriter/enqueue(_:)``: the entry at `position` for each of `recipients`.
public struct DeliveryToQueue: Sendable {
    /// The entry's log position.
    public var position: Int
    /// Who receives it (each once).
    public var recipients: [String]
    /// When it was queued (RFC 3339).
    public var timestamp: String

    /// Creates a row.
    public init(position: Int, recipients: [String], timestamp: String) {
        self.position = position
        self.recipients = recipients
        self.timestamp = timestamp
    }
}

/// One row for ``LedgerWriter/storeReceipts(_:)``.
public struct ReceiptToStore: Sendable {
    /// The entry's log position.
    public var position: Int
    /// The signed receipt.
    public var bytes: [UInt8]

    /// Creates a row.
    public init(position: Int, bytes: [UInt8]) {
        self.position = position
        self.bytes = bytes
    }
}

extension LedgerWriter {
    /// The two reads one after the other (SQLite's are on its own thread, without a round trip).
    public func entriesAndAccepted(after position: Int, limit: Int, keys: [BulletinKey]) async throws(LedgerError) -> ([LogEntry], [BulletinKey: LogEntry]) {
        (try await entries(after: position, limit: limit), try await accepted(keys))
    }
}

extension LedgerStore {
    /// False unless a store says so.
    public var ownsCurrentThread: Bool { false }

    /// Records a refusal, keeping the last ``Refusal/kept``.
    public func recordRefusal(_ refusal: Refusal) async throws(LedgerError) {
        try await recordRefusal(refusal, keeping: Refusal.kept)
    }

    /// Walks the whole chain and reports the first broken entry.
    public func verifyChain() async throws(LedgerError) -> ChainReport {
        try await ChainReport.walk(self)
    }

    /// Appends one entry durably, and in the same transaction, when it is new, queues it for `recipients`
    /// and logs and queues `issuing`: no fact without its bulletins. An accepted entry whose (issuer, id)
    /// was accepted before returns `.duplicate` with the same bytes and throws `duplicate-conflict` with
    /// other bytes; an issued bulletin already issued under its (issuer, id) is skipped. For tools and
    /// tests: intake appends through its committer.
    public func append(_ entry: NewEntry, deliverTo recipients: [String] = [], issuing: [IssuedBulletin] = []) async throws(LedgerError) -> AppendOutcome {
        do {
            return try await withAppendLock { write in
                let row = EntryToAppend(entry)
                let key = BulletinKey(issuer: entry.issuer, id: entry.id)
                if entry.outcome == .accepted, let existing = try await write.accepted([key])[key] {
                    guard existing.sha256 == row.sha256 else { throw LedgerError.duplicateConflict(key, position: existing.position) }
                    return .duplicate(existing)
                }
                let issuedBefore = try await write.issued(issuing.map { BulletinKey(issuer: $0.entry.issuer, id: $0.entry.id) })
                let new = issuing.filter { issuedBefore[BulletinKey(issuer: $0.entry.issuer, id: $0.entry.id)] == nil }
                let written = try await write.append([row] + new.map { EntryToAppend($0.entry) })
                guard let logged = written.first else { throw LedgerError.storageFailure("the log wrote nothing") }
                let queued = zip(written, [recipients] + new.map(\.recipients)).map { entry, recipients in
                    DeliveryToQueue(position: entry.position, recipients: recipients, timestamp: entry.content.receivedAt)
                }
                try await write.enqueue(queued.filter { !$0.recipients.isEmpty })
                return .appended(logged)
            }
        } catch {
            throw LedgerError.wrapping(error)
        }
    }

    /// Logs and queues a bulletin the gateway issues on its own. One already issued with the same
    /// (issuer, id) is returned as `.duplicate`, whatever its bytes: it is issued once.
    public func issue(_ bulletin: IssuedBulletin) async throws(LedgerError) -> AppendOutcome {
        do {
            return try await withAppendLock { write in
                let key = BulletinKey(issuer: bulletin.entry.issuer, id: bulletin.entry.id)
                if let existing = try await write.issued([key])[key] { return .duplicate(existing) }
                let written = try await write.append([EntryToAppend(bulletin.entry)])
                guard let logged = written.first else { throw LedgerError.storageFailure("the log wrote nothing") }
                try await write.enqueue([DeliveryToQueue(position: logged.position, recipients: bulletin.recipients, timestamp: logged.content.receivedAt)])
                return .appended(logged)
            }
        } catch {
            throw LedgerError.wrapping(error)
        }
    }

    /// Keeps the receipt for `position` (the first one stored wins), in a transaction of its own.
    public func storeReceipt(_ bytes: [UInt8], for position: Int) async throws(LedgerError) {
        do {
            try await withAppendLock { write in try await write.storeReceipts([ReceiptToStore(position: position, bytes: bytes)]) }
        } catch {
            throw LedgerError.wrapping(error)
        }
    }
}
