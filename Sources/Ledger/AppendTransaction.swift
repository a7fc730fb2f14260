import Trust

/// The steps of an append, as one store carries them out inside its transaction while holding its append
/// lock. The order of the steps — the duplicate check, the catch-up, the entry, its forwarding, the
/// bulletins it causes, the receipt — is written once, in ``AppendTransaction/append(batch:catchingUpFrom:)``
/// and ``AppendTransaction/issue(_:)``, so that SQLite and PostgreSQL cannot drift apart.
protocol AppendTransaction {
    /// The accepted entry for (issuer, id).
    func accepted(issuer: String, id: String) throws -> LogEntry?
    /// The entry the gateway issued as (issuer, id).
    func issued(issuer: String, id: String) throws -> LogEntry?
    /// Entries after `position`, in order, at most `limit`.
    func entries(after position: Int, limit: Int) throws -> [LogEntry]
    /// Appends one entry at the end of the chain.
    func insert(_ entry: NewEntry, sha256: String) throws -> LogEntry
    /// Queues the entry at `position` for each recipient (once per recipient).
    func enqueue(position: Int, for recipients: [String], at timestamp: String) throws
    /// Keeps the receipt for `position` (the first one stored wins).
    func storeReceipt(_ bytes: [UInt8], for position: Int) throws
    /// The receipt kept for `position`.
    func storedReceipt(for position: Int) throws -> [UInt8]?
    /// Marks the start of one item, so that its failure undoes only its own writes.
    func beginItem() throws
    /// Keeps the item's writes in the transaction.
    func endItem() throws
    /// Undoes the item's writes (the transaction goes on).
    func undoItem() throws
}

extension AppendTransaction {
    /// ``MessageLog/append(batch:catchingUpFrom:)``, inside the store's transaction, holding its append lock.
    /// Each item is its own savepoint: a refused item undoes only its writes. Other writers' entries after
    /// `known` are read once, for the first item that derives anything; every later entry is the batch's own.
    func append(batch: [BatchedAppend], catchingUpFrom known: Int) throws -> BatchedCommit {
        var caughtUp = known == Int.max
        var lastPosition = caughtUp ? 0 : known
        var results: [BatchedResult] = []
        results.reserveCapacity(batch.count)
        for item in batch {
            try beginItem()
            do {
                let newer = { () throws -> [LogEntry] in
                    guard !caughtUp else { return [] }
                    var newer: [LogEntry] = []
                    while true {
                        let page = try entries(after: newer.last?.position ?? known, limit: 1000)
                        newer += page
                        if page.count < 1000 { break }
                    }
                    caughtUp = true
                    lastPosition = max(lastPosition, newer.last?.position ?? known)
                    return newer
                }
                let (outcome, written) = try append(item.entry, newer: newer, consequences: item.consequences)
                var receipt: [UInt8]?
                if let make = item.receipt {
                    func made(for entry: LogEntry) throws -> [UInt8] {
                        let bytes = try make(entry)
                        try storeReceipt(bytes, for: entry.position)
                        return bytes
                    }
                    switch outcome {
                    case .appended(let logged):
                        receipt = try made(for: logged)
                    case .duplicate(let original):
                        // The original receipt, byte for byte; made now only if none was kept (a log written
                        // before receipts were stored with their entry).
                        receipt = try storedReceipt(for: original.position) ?? made(for: original)
                    }
                }
                try endItem()
                lastPosition = max(lastPosition, written)
                if case .appended(let logged) = outcome { item.appended(logged) }
                results.append(BatchedResult(outcome: .success(outcome), receipt: receipt))
            } catch {
                try undoItem()
                results.append(BatchedResult(outcome: .failure(error), receipt: nil))
            }
        }
        return BatchedCommit(results: results, lastPosition: lastPosition)
    }

    /// One item: the duplicate check, the catch-up, the entry, its forwarding, the bulletins it causes.
    /// Returns the outcome and the last position written (0 for a duplicate).
    private func append(_ entry: NewEntry, newer: () throws -> [LogEntry],
                        consequences: ([LogEntry]) throws -> (forwardTo: [String], issuing: [IssuedBulletin])) throws -> (AppendOutcome, Int) {
        let sha256 = SHA256.hex(entry.bytes)
        if entry.outcome == "accepted", let existing = try accepted(issuer: entry.issuer, id: entry.id) {
            guard existing.sha256 == sha256 else {
                throw LedgerError(code: "duplicate-conflict",
                                  message: "\(entry.issuer)/\(entry.id) was accepted before with other bytes (log position \(existing.position))")
            }
            return (.duplicate(existing), 0)
        }
        let (forwardTo, issuing) = try consequences(try newer())
        let logged = try insert(entry, sha256: sha256)
        try enqueue(position: logged.position, for: forwardTo, at: entry.receivedAt)
        var written = logged.position
        for bulletin in issuing {
            if case .appended(let issued) = try issue(bulletin) { written = issued.position }
        }
        return (.appended(logged), written)
    }

    /// ``MessageLog/issue(_:)``, inside the store's transaction: once per (issuer, id).
    func issue(_ bulletin: IssuedBulletin) throws -> AppendOutcome {
        if let existing = try issued(issuer: bulletin.entry.issuer, id: bulletin.entry.id) { return .duplicate(existing) }
        let issued = try insert(bulletin.entry, sha256: SHA256.hex(bulletin.entry.bytes))
        try enqueue(position: issued.position, for: bulletin.recipients, at: bulletin.entry.receivedAt)
        return .appended(issued)
    }
}


