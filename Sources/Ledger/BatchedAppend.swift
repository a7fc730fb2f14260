/// One bulletin of a group commit (``MessageLog/append(batch:catchingUpFrom:)``): the entry, what it causes,
/// and its receipt, all written in the batch's one transaction.
public struct BatchedAppend {
    /// What to record.
    public var entry: NewEntry
    /// Called, when the entry is new, with the entries other writers appended since the batch's known
    /// position that no earlier item of the batch was shown; returns what to queue. Its errors refuse this
    /// item only.
    public var consequences: ([LogEntry]) throws -> (forwardTo: [String], issuing: [IssuedBulletin])
    /// Makes the receipt for the new entry, kept in the same transaction (``MessageLog/receipt(for:)``). For a
    /// resubmission the kept receipt is returned instead (made and kept now if there is none).
    public var receipt: ((LogEntry) throws -> [UInt8])?
    /// Called once the item is part of the transaction (it can no longer be refused, only the whole batch
    /// can fail to commit): the place to make it visible to the items after it.
    public var appended: (LogEntry) -> Void

    /// Creates an item.
    public init(entry: NewEntry,
                consequences: @escaping ([LogEntry]) throws -> (forwardTo: [String], issuing: [IssuedBulletin]) = { _ in ([], []) },
                receipt: ((LogEntry) throws -> [UInt8])? = nil,
                appended: @escaping (LogEntry) -> Void = { _ in }) {
        self.entry = entry
        self.consequences = consequences
        self.receipt = receipt
        self.appended = appended
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
