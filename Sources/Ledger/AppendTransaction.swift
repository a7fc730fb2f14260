import ParallelWork
import Trust

/// The steps of an append, as one store carries them out inside its transaction while holding its append
/// lock. The order of the steps — the duplicate check, the catch-up, what each entry causes, the
/// signatures, the entries, their forwarding and receipts — is written once, in
/// ``AppendTransaction/append(batch:catchingUpFrom:)`` and ``AppendTransaction/issue(_:)``, so that SQLite
/// and PostgreSQL cannot drift apart.
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

    /// The last entry's position (0 for an empty log).
    func headPosition() throws -> Int

    // A group commit's reads and writes, many rows at a time (one round trip each on PostgreSQL). Each
    // store appends a batch's rows its own way (the chain's head read once); for the others, the defaults
    // below do them one row at a time.

    /// The accepted entries among `keys`.
    func accepted(_ keys: [BulletinKey]) throws -> [BulletinKey: LogEntry]
    /// Which of `keys` the gateway issued.
    func issued(_ keys: [BulletinKey]) throws -> Set<BulletinKey>
    /// Appends the entries, in order, at the end of the chain.
    func insert(_ entries: [(entry: NewEntry, sha256: String)]) throws -> [LogEntry]
    /// Queues each entry for its recipients (once per recipient).
    func enqueue(_ deliveries: [(position: Int, recipients: [String], timestamp: String)]) throws
    /// Keeps the receipts (the first one stored for a position wins).
    func storeReceipts(_ receipts: [(position: Int, bytes: [UInt8])]) throws
}

/// A bulletin's identity in the log: its issuer and id.
struct BulletinKey: Hashable {
    let issuer: String
    let id: String
}

extension AppendTransaction {
    func accepted(_ keys: [BulletinKey]) throws -> [BulletinKey: LogEntry] {
        var found: [BulletinKey: LogEntry] = [:]
        for key in keys { found[key] = try accepted(issuer: key.issuer, id: key.id) }
        return found
    }

    func issued(_ keys: [BulletinKey]) throws -> Set<BulletinKey> {
        Set(try keys.filter { try issued(issuer: $0.issuer, id: $0.id) != nil })
    }

    func enqueue(_ deliveries: [(position: Int, recipients: [String], timestamp: String)]) throws {
        for delivery in deliveries { try enqueue(position: delivery.position, for: delivery.recipients, at: delivery.timestamp) }
    }

    func storeReceipts(_ receipts: [(position: Int, bytes: [UInt8])]) throws {
        for receipt in receipts { try storeReceipt(receipt.bytes, for: receipt.position) }
    }
}

/// One signature of a group commit's second pass.
private enum SigningJob: Sendable {
    case bulletin(BulletinToIssue)
    case receipt(ReceiptSubject, @Sendable (ReceiptSubject) throws -> [UInt8])

    func run() throws -> Signed {
        switch self {
        case .bulletin(let bulletin): .bulletin(try bulletin.sign())
        case .receipt(let subject, let make): .receipt(try make(subject))
        }
    }
}

/// An accepted item as the second pass laid it out: its forwarding, and where its receipt and the
/// bulletins it causes are among the batch's signing jobs.
private struct PlannedItem {
    let item: Int
    let forwardTo: [String]
    let receiptJob: Int?
    let bulletinJobs: Range<Int>
}

/// What a ``SigningJob`` made.
private enum Signed {
    case bulletin(IssuedBulletin)
    case receipt([UInt8])
}

/// What the first pass of a group commit decided for one item.
private enum Decision {
    /// New: append it, forward it to these recipients, and issue the bulletins at these indexes of the
    /// bulletins the batch causes.
    case append(forwardTo: [String], issuing: Range<Int>)
    /// Accepted before the batch, with the same bytes.
    case duplicate(LogEntry)
    /// The same bulletin as the batch's earlier item at this index.
    case duplicateOfItem(Int)
    /// Refused on its own; nothing of it is written.
    case refused(any Error)
}

extension AppendTransaction {
    /// ``MessageLog/append(batch:catchingUpFrom:)``, inside the store's transaction, holding its append lock,
    /// in passes:
    /// 1. In order, reading only: each item's duplicate check, then its consequences (other writers' entries
    ///    after `known` are read once, for the first item that derives anything). An item refused here
    ///    writes nothing; an accepted one is announced (``BatchedAppend/accepted``) before the next derives.
    /// 2. Every bulletin the accepted items cause (but those issued before under the same id) and every new
    ///    entry's receipt are signed, all at once, on every core. The rows go to the end of the chain in a
    ///    known order, so each receipt's position is known before anything is written.
    /// 3. In order: each entry and the bulletins it causes, then the deliveries and the receipts (the
    ///    positions are checked against the ones the receipts state).
    /// 4. A resubmission gets its original receipt.
    /// A failure in passes 2–4 throws, and the store commits nothing of the batch.
    func append(batch: [BatchedAppend], catchingUpFrom known: Int) throws -> BatchedCommit {
        var caughtUp = known == Int.max
        var lastPosition = caughtUp ? 0 : known
        func newer() throws -> [LogEntry] {
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

        // 1. Decide, in order. Entries accepted before the batch are looked up for all items at once.
        let digests = batch.map { SHA256.hex($0.entry.bytes) }
        let acceptedBefore = try accepted(batch.filter { $0.entry.outcome == "accepted" }.map { BulletinKey(issuer: $0.entry.issuer, id: $0.entry.id) })
        var decisions: [Decision] = []
        decisions.reserveCapacity(batch.count)
        var acceptedInBatch: [BulletinKey: Int] = [:]
        var caused: [BulletinToIssue] = []
        var causedKeys = Set<BulletinKey>()
        for (index, item) in batch.enumerated() {
            let entry = item.entry
            let key = BulletinKey(issuer: entry.issuer, id: entry.id)
            do {
                if entry.outcome == "accepted" {
                    if let earlier = acceptedInBatch[key] {
                        guard digests[earlier] == digests[index] else { throw Self.conflict(entry, position: nil) }
                        decisions.append(.duplicateOfItem(earlier))
                        continue
                    }
                    if let existing = acceptedBefore[key] {
                        guard existing.sha256 == digests[index] else { throw Self.conflict(entry, position: existing.position) }
                        decisions.append(.duplicate(existing))
                        continue
                    }
                    acceptedInBatch[key] = index
                }
                let (forwardTo, issuing) = try item.consequences(try newer())
                let first = caused.count
                for bulletin in issuing where causedKeys.insert(BulletinKey(issuer: bulletin.issuer, id: bulletin.id)).inserted {
                    caused.append(bulletin)
                }
                decisions.append(.append(forwardTo: forwardTo, issuing: first..<caused.count))
                item.accepted()
            } catch {
                if acceptedInBatch[key] == index { acceptedInBatch[key] = nil }
                decisions.append(.refused(error))
            }
        }

        // 2. Sign, all at once: what was not issued before, and every new entry's receipt. The rows are
        //    written in a known order at the end of the chain, so each one's position is known already.
        let issuedBefore = try issued(Array(causedKeys))
        var jobs: [SigningJob] = []
        var planned: [PlannedItem] = []
        var next = try headPosition()
        for (index, decision) in decisions.enumerated() {
            guard case .append(let forwardTo, let issuing) = decision else { continue }
            next += 1
            var receiptJob: Int?
            if let make = batch[index].receipt {
                receiptJob = jobs.count
                jobs.append(.receipt(ReceiptSubject(position: next, content: batch[index].entry, sha256: digests[index]), make))
            }
            let firstBulletin = jobs.count
            for bulletin in caused[issuing] where !issuedBefore.contains(BulletinKey(issuer: bulletin.issuer, id: bulletin.id)) {
                next += 1
                jobs.append(.bulletin(bulletin))
            }
            planned.append(PlannedItem(item: index, forwardTo: forwardTo, receiptJob: receiptJob, bulletinJobs: firstBulletin..<jobs.count))
        }
        let signed = try Parallel.map(jobs) { try $0.run() }

        // 3. Write, in order: every entry with the bulletins it causes right after it, then every delivery
        //    and receipt.
        var rows: [(entry: NewEntry, sha256: String)] = []
        var recipients: [[String]] = []
        var itemRow: [Int?] = Array(repeating: nil, count: batch.count)
        var receipts: [[UInt8]?] = Array(repeating: nil, count: batch.count)
        for plan in planned {
            itemRow[plan.item] = rows.count
            rows.append((batch[plan.item].entry, digests[plan.item]))
            recipients.append(plan.forwardTo)
            if let job = plan.receiptJob, case .receipt(let bytes) = signed[job] { receipts[plan.item] = bytes }
            for case .bulletin(let issued) in signed[plan.bulletinJobs] {
                rows.append((issued.entry, SHA256.hex(issued.entry.bytes)))
                recipients.append(issued.recipients)
            }
        }
        let written = try insert(rows)
        let first = next - rows.count + 1
        guard written.map(\.position) == Array(first..<(first + rows.count)) else {
            throw LedgerError(code: "storage-failure", message: "the log did not write the batch at the positions its receipts state")
        }
        try enqueue(zip(written, recipients).filter { !$0.1.isEmpty }.map { ($0.0.position, $0.1, $0.0.content.receivedAt) })
        if let last = written.last { lastPosition = max(lastPosition, last.position) }
        let logged = itemRow.map { $0.map { written[$0] } }
        try storeReceipts(batch.indices.compactMap { index in
            guard let bytes = receipts[index], let entry = logged[index] else { return nil }
            return (entry.position, bytes)
        })

        // 4. A resubmission gets the original receipt, byte for byte (made now only if none was kept: a log
        //    written before receipts were stored with their entry).
        func original(_ entry: LogEntry, receipt make: ((ReceiptSubject) throws -> [UInt8])?) throws -> [UInt8]? {
            guard let make else { return nil }
            if let kept = try storedReceipt(for: entry.position) { return kept }
            let bytes = try make(ReceiptSubject(entry))
            try storeReceipt(bytes, for: entry.position)
            return bytes
        }

        var results: [BatchedResult] = []
        results.reserveCapacity(batch.count)
        for (index, decision) in decisions.enumerated() {
            switch decision {
            case .append:
                guard let entry = logged[index] else { throw LedgerError(code: "storage-failure", message: "an accepted item was not written") }
                results.append(BatchedResult(outcome: .success(.appended(entry)), receipt: receipts[index]))
            case .duplicate(let existing):
                results.append(BatchedResult(outcome: .success(.duplicate(existing)), receipt: try original(existing, receipt: batch[index].receipt)))
            case .duplicateOfItem(let earlier):
                guard let entry = logged[earlier] else { throw LedgerError(code: "storage-failure", message: "a resubmitted item's original was not written") }
                let receipt = try receipts[earlier] ?? original(entry, receipt: batch[index].receipt)
                receipts[earlier] = receipt
                results.append(BatchedResult(outcome: .success(.duplicate(entry)), receipt: receipt))
            case .refused(let error):
                results.append(BatchedResult(outcome: .failure(error), receipt: nil))
            }
        }
        return BatchedCommit(results: results, lastPosition: lastPosition)
    }

    private static func conflict(_ entry: NewEntry, position: Int?) -> LedgerError {
        LedgerError(code: "duplicate-conflict",
                    message: "\(entry.issuer)/\(entry.id) was accepted before with other bytes" + (position.map { " (log position \($0))" } ?? " (earlier in the same batch)"))
    }

    /// ``MessageLog/issue(_:)``, inside the store's transaction: once per (issuer, id).
    func issue(_ bulletin: IssuedBulletin) throws -> AppendOutcome {
        if let existing = try issued(issuer: bulletin.entry.issuer, id: bulletin.entry.id) { return .duplicate(existing) }
        let issued = try insert(bulletin.entry, sha256: SHA256.hex(bulletin.entry.bytes))
        try enqueue(position: issued.position, for: bulletin.recipients, at: bulletin.entry.receivedAt)
        return .appended(issued)
    }
}


