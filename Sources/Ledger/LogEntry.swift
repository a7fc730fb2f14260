import Trust

/// What the gateway records for one received bulletin, before it has a place in the log.
public struct NewEntry: Sendable, Equatable {
    /// The bulletin's issuer (empty when the bulletin could not be read far enough to know it).
    public var issuer: String
    /// The bulletin's id (empty when unknown).
    public var id: String
    /// The bulletin type (empty when unknown).
    public var type: String
    /// The participant whose TLS identity sent it.
    public var sender: String
    /// When it was received (RFC 3339).
    public var receivedAt: String
    /// `accepted` or `rejected` (received), or `issued` (made and signed by the gateway).
    public var outcome: String
    /// The rejection code, for rejected bulletins.
    public var errorCode: String?
    /// The exact bytes received.
    public var bytes: [UInt8]

    /// Creates an entry.
    public init(issuer: String, id: String, type: String, sender: String, receivedAt: String, outcome: String, errorCode: String? = nil, bytes: [UInt8]) {
        self.issuer = issuer
        self.id = id
        self.type = type
        self.sender = sender
        self.receivedAt = receivedAt
        self.outcome = outcome
        self.errorCode = errorCode
        self.bytes = bytes
    }
}

/// One entry of the append-only message log, committed to the entry before it by a hash chain.
public struct LogEntry: Sendable, Equatable {
    /// The position, 1 for the first entry.
    public var position: Int
    /// What was recorded.
    public var content: NewEntry
    /// SHA-256 of the exact bytes, lower-case hex.
    public var sha256: String
    /// The previous entry's hash (64 zeros for the first).
    public var previousHash: String
    /// This entry's hash: SHA-256 over the previous hash and every recorded field.
    public var hash: String

    /// The hash that entry `position` with `content` must carry after `previousHash`.
    public static func chainHash(position: Int, content: NewEntry, sha256: String, previousHash: String) -> String {
        var material: [UInt8] = []
        func field(_ text: String) {
            let bytes = Array(text.utf8)
            withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { material += $0 }
            material += bytes
        }
        field(previousHash)
        withUnsafeBytes(of: UInt64(position).bigEndian) { material += $0 }
        for text in [content.issuer, content.id, content.type, content.sender, content.receivedAt, content.outcome,
                     content.errorCode ?? "", sha256] {
            field(text)
        }
        return SHA256.hex(material)
    }

    /// The hash the first entry chains to.
    public static let genesisHash = String(repeating: "0", count: 64)
}

/// The outcome of an append.
public enum AppendOutcome: Sendable, Equatable {
    /// A new entry was committed.
    case appended(LogEntry)
    /// The same (issuer, id) with the same bytes was accepted before: the original entry, nothing new.
    case duplicate(LogEntry)
}

/// The result of walking the hash chain.
public struct ChainReport: Sendable, Equatable {
    /// How many entries were checked.
    public var entries: Int
    /// The first entry that does not match the chain, and why; nil when the chain is intact.
    public var firstBroken: (position: Int, reason: String)?

    public static func == (lhs: ChainReport, rhs: ChainReport) -> Bool {
        lhs.entries == rhs.entries && lhs.firstBroken?.position == rhs.firstBroken?.position
    }

    /// Walks `log` from the first entry: positions without gaps, bytes matching their digest, each entry
    /// chained to the one before and its fields matching its hash. The same check for every store.
    public static func walk(_ log: some MessageLog) throws(LedgerError) -> ChainReport {
        var previous = LogEntry.genesisHash
        var expectedPosition = 1
        var checked = 0
        while true {
            let batch = try log.entries(after: expectedPosition - 1, limit: 1000)
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
}

/// The message log: the source of truth, append-only and hash-chained; SQLite (embedded) or PostgreSQL (several nodes).
public protocol MessageLog: Sendable {
    /// Appends a batch in one durable transaction (group commit: one `fsync` for all), holding the log's
    /// append lock (which every writer, process or node takes). Items are appended in order, each with its
    /// forwarding, the bulletins it causes and its receipt; a refused item (its `consequences` threw, or
    /// `duplicate-conflict`) writes nothing and the others go on. Each item's `consequences` sees the entries
    /// other writers appended after `known` that no earlier item was shown (pass `Int.max` for none). The
    /// bulletins the batch causes, and its receipts, are signed all at once on every core.
    /// Throws, and commits nothing, when the transaction itself fails or a signature or receipt cannot be made.
    func append(batch: [BatchedAppend], catchingUpFrom known: Int) throws -> BatchedCommit
    /// Logs and queues a bulletin the gateway issues on its own (a periodic bulletin). One already issued
    /// with the same (issuer, id) is returned as `.duplicate`, whatever its bytes: it is issued once.
    func issue(_ bulletin: IssuedBulletin) throws(LedgerError) -> AppendOutcome
    /// The entry issued by the gateway as (issuer, id).
    func issued(issuer: String, id: String) throws(LedgerError) -> LogEntry?
    /// The accepted entry for (issuer, id).
    func accepted(issuer: String, id: String) throws(LedgerError) -> LogEntry?
    /// Entries after `position`, in order, at most `limit`.
    func entries(after position: Int, limit: Int) throws(LedgerError) -> [LogEntry]
    /// Keeps the signed receipt sent for the entry at `position` (the first one stored wins), so that a
    /// resubmission gets the very same receipt.
    func storeReceipt(_ bytes: [UInt8], for position: Int) throws(LedgerError)
    /// The receipt stored for `position`.
    func receipt(for position: Int) throws(LedgerError) -> [UInt8]?
    /// The number of entries.
    func count() throws(LedgerError) -> Int
    /// Walks the whole chain and reports the first broken entry.
    func verifyChain() throws(LedgerError) -> ChainReport
}

extension MessageLog {
    /// Appends one entry durably (committed before it returns) while holding the log's append lock:
    /// `consequences` is first called with the entries appended after `known` by others, so that what it
    /// derives takes every earlier fact into account, and returns what to queue. Not called for a
    /// resubmission (`.duplicate`). Its errors abort the append.
    public func append(_ entry: NewEntry, catchingUpFrom known: Int,
                       consequences: @escaping ([LogEntry]) throws -> (forwardTo: [String], issuing: [IssuedBulletin])) throws -> AppendOutcome {
        let item = BatchedAppend(entry: entry) { newer in
            let (forwardTo, issuing) = try consequences(newer)
            return (forwardTo, issuing.map(BulletinToIssue.init(signed:)))
        }
        let commit = try append(batch: [item], catchingUpFrom: known)
        guard let only = commit.results.first else { throw LedgerError(code: "storage-failure", message: "the append returned no result") }
        return try only.outcome.get()
    }

    /// Appends durably (committed before it returns). An accepted bulletin whose (issuer, id) was accepted
    /// before returns `.duplicate` with the same bytes and throws `duplicate-conflict` with other bytes.
    public func append(_ entry: NewEntry) throws(LedgerError) -> AppendOutcome {
        try append(entry, deliverTo: [], issuing: [])
    }

    /// Appends like ``append(_:)`` and, in the same transaction when the entry is new, queues it for
    /// `recipients` (forwarding) and logs and queues the bulletins it causes: no fact without its
    /// bulletins, no bulletin without its fact. A duplicate adds nothing.
    public func append(_ entry: NewEntry, deliverTo recipients: [String], issuing: [IssuedBulletin]) throws(LedgerError) -> AppendOutcome {
        do {
            return try append(entry, catchingUpFrom: Int.max) { _ in (recipients, issuing) }
        } catch {
            throw LedgerError.storage(error)
        }
    }
}
