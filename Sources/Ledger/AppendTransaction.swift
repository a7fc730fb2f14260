import Trust

/// The steps of an append, as one store carries them out inside its transaction while holding its append
/// lock. The order of the steps — the duplicate check, the catch-up, the entry, its forwarding, the
/// bulletins it causes — is written once, in ``AppendTransaction/append(_:catchingUpFrom:consequences:)``
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
}

extension AppendTransaction {
    /// ``MessageLog/append(_:catchingUpFrom:consequences:)``, inside the store's transaction.
    func append(_ entry: NewEntry, catchingUpFrom known: Int,
                consequences: ([LogEntry]) throws -> (forwardTo: [String], issuing: [IssuedBulletin])) throws -> AppendOutcome {
        let sha256 = SHA256.hex(entry.bytes)
        if entry.outcome == "accepted", let existing = try accepted(issuer: entry.issuer, id: entry.id) {
            guard existing.sha256 == sha256 else {
                throw LedgerError(code: "duplicate-conflict",
                                  message: "\(entry.issuer)/\(entry.id) was accepted before with other bytes (log position \(existing.position))")
            }
            return .duplicate(existing)
        }
        var newer: [LogEntry] = []
        while known < Int.max {
            let batch = try entries(after: newer.last?.position ?? known, limit: 1000)
            newer += batch
            if batch.count < 1000 { break }
        }
        let (forwardTo, issuing) = try consequences(newer)
        let logged = try insert(entry, sha256: sha256)
        try enqueue(position: logged.position, for: forwardTo, at: entry.receivedAt)
        for bulletin in issuing {
            _ = try issue(bulletin)
        }
        return .appended(logged)
    }

    /// ``MessageLog/issue(_:)``, inside the store's transaction: once per (issuer, id).
    func issue(_ bulletin: IssuedBulletin) throws -> AppendOutcome {
        if let existing = try issued(issuer: bulletin.entry.issuer, id: bulletin.entry.id) { return .duplicate(existing) }
        let issued = try insert(bulletin.entry, sha256: SHA256.hex(bulletin.entry.bytes))
        try enqueue(position: issued.position, for: bulletin.recipients, at: bulletin.entry.receivedAt)
        return .appended(issued)
    }
}
