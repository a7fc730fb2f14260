/// What became of a logged bulletin.
public enum EntryOutcome: String, Sendable, CaseIterable {
    /// Received and accepted: a fact.
    case accepted
    /// Received and refused (the entry's `errorCode` says why); kept as evidence, never a fact.
    case rejected
    /// Made and signed by the gateway itself.
    case issued
    /// A change of trust that took effect (participants, roots, intermediates, CRLs): the entry's bytes are
    /// its change manifest (who, what, the digest of every file in force).
    case trust
    /// A change of configuration that took effect (rule packs, the working-day calendar), recorded the same way.
    case configuration

    /// Whether the entry records a trust or configuration change rather than a bulletin.
    public var isChange: Bool { self == .trust || self == .configuration }
}

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
    /// What became of it.
    public var outcome: EntryOutcome
    /// The rejection code, for rejected bulletins.
    public var errorCode: String?
    /// The exact bytes received.
    public var bytes: [UInt8]

    /// Creates an entry.
    public init(issuer: String, id: String, type: String, sender: String, receivedAt: String, outcome: EntryOutcome, errorCode: String? = nil, bytes: [UInt8]) {
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
        for text in [content.issuer, content.id, content.type, content.sender, content.receivedAt, content.outcome.rawValue,
                     content.errorCode ?? "", sha256] {
            field(text)
        }
        return SHA256Digest.hex(material)
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
    public static func walk(_ log: some LedgerStore) async throws(LedgerError) -> ChainReport {
        var previous = LogEntry.genesisHash
        var expectedPosition = 1
        var checked = 0
        while true {
            let batch = try await log.entries(after: expectedPosition - 1, limit: 1000)
            if batch.isEmpty { break }
            for entry in batch {
                checked += 1
                if entry.position != expectedPosition {
                    return ChainReport(entries: checked, firstBroken: (expectedPosition, "entry \(expectedPosition) is missing"))
                }
                if SHA256Digest.hex(entry.content.bytes) != entry.sha256 {
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
