/// One bulletin of a group commit (``MessageLog/append(batch:catchingUpFrom:)``): the entry, what it causes,
/// and its receipt, all written in the batch's one transaction.
public struct BatchedAppend {
    /// What to record.
    public var entry: NewEntry
    /// Called, when the entry is new, with the entries other writers appended since the batch's known
    /// position that no earlier item of the batch was shown; returns whom to forward the entry to and the
    /// bulletins it causes (signed later, for the whole batch at once). Its errors refuse this item only.
    public var consequences: ([LogEntry]) throws -> (forwardTo: [String], issuing: [BulletinToIssue])
    /// Makes the receipt for the new entry, kept in the same transaction (``MessageLog/receipt(for:)``);
    /// called on any thread, together with the signing of the batch's bulletins, before the entries are
    /// written (their positions are known by then). For a resubmission the kept receipt is returned
    /// instead (made and kept now if there is none).
    public var receipt: (@Sendable (ReceiptSubject) throws -> [UInt8])?
    /// Called as soon as the item is accepted, before the next item derives its consequences: the place to
    /// make it visible to the items after it. From then on only the whole batch can fail, not the item alone.
    public var accepted: () -> Void

    /// Creates an item.
    public init(entry: NewEntry,
                consequences: @escaping ([LogEntry]) throws -> (forwardTo: [String], issuing: [BulletinToIssue]) = { _ in ([], []) },
                receipt: (@Sendable (ReceiptSubject) throws -> [UInt8])? = nil,
                accepted: @escaping () -> Void = {}) {
        self.entry = entry
        self.consequences = consequences
        self.receipt = receipt
        self.accepted = accepted
    }
}

/// What a receipt states about its entry: where it is in the log, what was received, and its digest.
public struct ReceiptSubject: Sendable, Equatable {
    /// The entry's log position.
    public var position: Int
    /// The entry as received.
    public var content: NewEntry
    /// SHA-256 of the received bytes, lowercase hex.
    public var sha256: String

    /// Creates a subject.
    public init(position: Int, content: NewEntry, sha256: String) {
        self.position = position
        self.content = content
        self.sha256 = sha256
    }

    /// The subject of a logged entry.
    public init(_ entry: LogEntry) {
        self.init(position: entry.position, content: entry.content, sha256: entry.sha256)
    }
}

/// A bulletin an appended entry causes the gateway to issue, signed when its batch is signed: every
/// bulletin of a batch is signed at once, on every core, outside the one-at-a-time derivation.
public struct BulletinToIssue: Sendable {
    /// The issuer (the gateway).
    public var issuer: String
    /// The bulletin id: it is issued once per (issuer, id), and not signed at all when it already was.
    public var id: String
    /// Signs it.
    public var sign: @Sendable () throws -> IssuedBulletin

    /// A bulletin to sign with `sign`.
    public init(issuer: String, id: String, sign: @escaping @Sendable () throws -> IssuedBulletin) {
        self.issuer = issuer
        self.id = id
        self.sign = sign
    }

    /// A bulletin signed already.
    public init(signed bulletin: IssuedBulletin) {
        self.init(issuer: bulletin.entry.issuer, id: bulletin.entry.id) { bulletin }
    }
}

/// What became of one item of a group commit.
public struct BatchedResult: Sendable {
    /// The outcome, or why this item (only) was refused.
    public var outcome: Result<AppendOutcome, any Error>
    /// The receipt: made for a new entry, the original one for a resubmission (when the item has `receipt`).
    public var receipt: [UInt8]?
}

/// What a group commit did: one result per item, in order, and the log position up to which the caller
/// has now seen every entry (the others' entries it was shown, and its own).
public struct BatchedCommit: Sendable {
    /// One result per item.
    public var results: [BatchedResult]
    /// The last position the batch read or wrote.
    public var lastPosition: Int
}
