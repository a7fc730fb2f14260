import Bulletins
import Foundation
import Ledger
import Logging
import NIOPosix
import ParallelWork
import Scoring
import StrictJSON
import Synchronization
import TransparencyLog
import Trust

/// A verified, authorized bulletin waiting for its group commit (refusals go to the refusal record, not here).
struct PendingAppend: Sendable {
    /// What to record.
    let entry: NewEntry
    /// The verified bulletin.
    let bulletin: Bulletin
    /// Its scoring fact, if it has one.
    let fact: Fact?
    /// The encoding the receipt is made in (the sender's).
    let encoding: BulletinEncoding
    /// The signing time of what the bulletin causes.
    let now: Date
}

/// What the group commit did with one bulletin.
struct CommittedAppend: Sendable {
    /// New or a resubmission.
    let outcome: AppendOutcome
    /// The signed receipt: made in the same transaction for a new entry, the original one for a resubmission.
    let receipt: [UInt8]?
}

/// The one write path of the gateway: it appends bulletins to the ledger, batch by batch, with what they
/// cause, the checkpoint and the receipts, and issues the periodic bulletins; and it keeps the in-memory projection
/// and directory in step with the ledger (which stays the source of truth).
///
/// A batch is committed inside one append lock, in passes:
/// 1. What other writers (another node, `tongbao` beside the gateway) appended since the projected position
///    is read and projected, so that everything derived takes every earlier fact into account.
/// 2. In order, in memory: each item's duplicate check, then what it causes, derived from every earlier fact
///    (the batch's earlier items included: an accepted item's fact joins the projection before the next
///    derives). An item refused here writes nothing and the others go on.
/// 3. Every bulletin the accepted items cause (but those issued before under the same id) is signed, all
///    at once, on every core, off Swift's cooperative pool.
/// 4. The entries (each followed by the bulletins it causes) and the deliveries are written; the store grows
///    the Merkle tree by their leaves; one checkpoint of the grown tree is signed (Ed25519, one signature per
///    batch) and each new entry's receipt, its inclusion proof in that checkpoint, is kept.
/// 5. A resubmission gets its original receipt.
/// A failure in passes 3–5 fails the whole batch: the ledger commits nothing of it, and the facts projected
/// for it are taken back.
final class Committer: Sendable {
    let ledger: any LedgerStore
    let projection: FactProjection
    let directory: Directory
    /// The first id of every accepted decision, so that one sent again under a new id is refused.
    let decisionRegister = DecisionRegister()
    let derivation: DerivedBulletins
    /// The checks of a referral reply against its referral, in the batch's order.
    let referralReplies: ReferralReplyRules
    let signer: OutboundSigner
    /// Signs the checkpoints and makes the receipts.
    let treeHead: TreeHeadSigner
    private let configuration: GatewayConfiguration
    private let reader: BulletinReader
    private let logger: Logger
    /// Derivation, append and projection happen one batch at a time (and catching up between batches), so
    /// that every derived bulletin is computed from a projection that holds every fact logged before it.
    private let sequencing = AsyncLock()
    /// Why the last group commit failed, until one succeeds: the store does not take writes (health).
    let lastFailure = Mutex<String?>(nil)
    /// The log position up to which every accepted bulletin is in the projection.
    private let projectedPosition = Mutex(0)
    /// The thread group commits run on (the committing task prefers it as its executor): their passes
    /// — in-order derivation, the signing they wait for, the store's answers — run there and resume there
    /// after each await, instead of queueing behind the requests' verification on the cooperative pool's
    /// two threads, which cost a third of intake's throughput when tried. (SQLite's transactions run on its
    /// writer's thread instead, for the same reason.) One for the process: commits are serial per store.
    static let thread = SerialThread(name: "tongbao-commit")
    /// Where signing runs when the commit is on neither thread: threads for blocking work, so that waiting for the other cores' signatures never
    /// holds a cooperative thread.
    private let signingThreads: NIOThreadPool

    init(configuration: GatewayConfiguration, ledger: any LedgerStore, projection: FactProjection, liveTrust: LiveTrust, logger: Logger,
         signingThreads: NIOThreadPool = .singleton) throws {
        self.configuration = configuration
        self.ledger = ledger
        self.projection = projection
        self.logger = logger
        self.signingThreads = signingThreads
        directory = Directory()
        derivation = DerivedBulletins(
            routing: OutboundRouting(live: liveTrust, homeRegion: configuration.region), projection: projection, directory: directory)
        referralReplies = ReferralReplyRules(projection: projection, ledger: ledger)
        signer = OutboundSigner(code: configuration.code, key: configuration.signingKey, certificate: configuration.signingCertificate)
        treeHead = TreeHeadSigner(signer: try configuration.logSigner, previous: configuration.previousLogKeys)
        reader = try BulletinReader()
    }

    /// Opens the log (a pre-start step): walks the whole log against its Merkle tree and signed checkpoints
    /// and projects each page only once it verified (``TreeAudit``), so no fact comes from bytes the tree
    /// does not vouch for; throws `log-integrity` naming the first position that does not verify. Then, when
    /// `signing`, signs a checkpoint of the tree if it outgrew the last one (a log written by an older
    /// version or by another writer, or an empty log that has none).
    func open(signing: Bool) async throws {
        try await sequencing.withLock { () async throws in
            let report = try await TreeAudit.walk(ledger, logKeys: treeHead.verifiers) { page in try project(page) }
            if let (position, reason) = report.firstBroken { throw LedgerError.logIntegrity(position: position, reason) }
        }
        if signing { try await checkpointIfGrown() }
    }

    /// Signs a checkpoint of the tree when the latest one is of a smaller tree (what other writers appended),
    /// or when there is none: the log's checkpoint follows it within the follower's interval.
    func checkpointIfGrown() async throws {
        guard try await ledger.latestCheckpoint()?.size != (try await ledger.count()) else { return }
        try await ledger.withAppendLock { write in
            let size = try await write.headPosition()
            _ = try await self.treeHead.sign(size: size, write: write)
        }
    }

    /// Reads the log after the projected position and projects what was appended there (what other
    /// writers append). Reading twice is harmless.
    /// Each entry's bytes and leaf are checked against the leaf hash the tree holds before it is projected.
    func catchUp() async throws {
        try await sequencing.withLock { () async throws in
            let appended = try await Self.everything(after: projectedPosition.withLock { $0 }) { try await ledger.entries(after: $0, limit: $1) }
            try await Self.verifyLeaves(appended, in: ledger)
            try project(appended)
        }
    }

    /// Throws `log-integrity` for the first entry whose bytes do not match their digest or whose leaf is not
    /// the one the tree holds.
    static func verifyLeaves(_ entries: [LogEntry], in ledger: any LedgerStore) async throws {
        guard !entries.isEmpty else { return }
        let stored = try await ledger.treeHashes(Set(entries.map { TreeNodeID(level: 0, index: $0.position - 1) }))
        for entry in entries where SHA256.hex(entry.content.bytes) != entry.sha256 || stored[TreeNodeID(level: 0, index: entry.position - 1)] != entry.leaf.hash {
            throw LedgerError.logIntegrity(position: entry.position, "another writer's entry does not match the leaf hash the tree holds; it is not projected")
        }
    }

    /// Every entry after `position`, read a page at a time with `page`.
    private static func everything(after position: Int, _ page: (Int, Int) async throws -> [LogEntry]) async throws -> [LogEntry] {
        var found: [LogEntry] = []
        while true {
            let next = try await page(found.last?.position ?? position, 1000)
            found += next
            if next.count < 1000 { return found }
        }
    }

    /// Projects accepted entries (idempotent) and advances the projected position past them.
    private func project(_ entries: [LogEntry]) throws {
        for entry in entries {
            if let (bulletin, fact) = try ProjectionBuilder.read(entry, reader: reader, packs: configuration.packs, defaultPack: configuration.defaultPack) {
                directory.learn(bulletin)
                decisionRegister.apply(bulletin)
                if let fact { projection.add(fact) }
            }
        }
        if let last = entries.last?.position { projectedPosition.withLock { $0 = max($0, last) } }
    }

    /// Commits a batch in one transaction (see the type's passes). One outcome per item, in order.
    func commit(_ items: [PendingAppend]) async -> [Result<CommittedAppend, GatewayError>] {
        await sequencing.withLock { () async -> [Result<CommittedAppend, GatewayError>] in
            let added = Mutex(BatchAdditions())
            do {
                let results = try await ledger.withAppendLock { write in try await self.passes(items, write: write, added: added) }
                lastFailure.withLock { $0 = nil }
                return results
            } catch {
                lastFailure.withLock { $0 = "\(error)" }
                // Nothing of the batch is in the log, so neither may its facts and decisions be in the projection.
                let (facts, decisions) = added.withLock { ($0.facts, $0.decisions) }
                projection.remove(facts)
                decisionRegister.undo(decisions)
                logger.error("the log could not commit a batch", metadata: ["bulletins": .stringConvertible(items.count), "error": .string("\(error)")])
                let failure = GatewayError(.internal, "the log could not commit: \(error)")
                return items.map { _ in .failure(failure) }
            }
        }
    }

    private func passes(_ items: [PendingAppend], write: any LedgerWriter, added: borrowing Mutex<BatchAdditions>) async throws -> [Result<CommittedAppend, GatewayError>] {
        // 1. Catch up with other writers; the entries accepted before the batch are looked up with the first
        //    page, for all items at once (one round trip for both on PostgreSQL).
        let (firstPage, acceptedBefore) = try await write.entriesAndAccepted(after: projectedPosition.withLock { $0 }, limit: 1000,
                                                                             keys: items.map(\.key))
        var caughtUp = firstPage
        if let last = firstPage.last, firstPage.count == 1000 {
            caughtUp += try await Self.everything(after: last.position) { try await write.entries(after: $0, limit: $1) }
        }
        try project(caughtUp)

        // 2. Decide and derive, in order.
        let digests = items.map { SHA256.hex($0.entry.bytes) }
        var decisions: [Decision] = []
        decisions.reserveCapacity(items.count)
        var acceptedInBatch: [BulletinKey: Int] = [:]
        var caused: [BulletinToIssue] = []
        var causedKeys = Set<BulletinKey>()
        for (index, item) in items.enumerated() {
            let key = item.key
            do {
                // The same content is the same bulletin, whoever re-signed it and however.
                if let earlier = acceptedInBatch[key] {
                    guard digests[earlier] == digests[index] || items[earlier].bulletin == item.bulletin else {
                        throw LedgerError.duplicateConflict(key, position: nil)
                    }
                    decisions.append(.duplicateOfItem(earlier))
                    continue
                }
                if let existing = acceptedBefore[key] {
                    guard existing.sha256 == digests[index] || sameContent(existing, as: item) else {
                        throw LedgerError.duplicateConflict(key, position: existing.position)
                    }
                    decisions.append(.duplicate(existing))
                    continue
                }
                let bulletin = item.bulletin
                if let (identity, earlierID) = decisionRegister.earlier(of: bulletin) {
                    throw GatewayError(.duplicateDecision, "\(bulletin.issuer) sent decision \(identity.decisionNo) as \(bulletin.issuer)/\(earlierID) before; send a Correction to amend it", reason: earlierID)
                }
                if case .referralReply(let reply)? = item.fact { _ = try await referralReplies.check(reply, sender: item.entry.sender) }
                let (forwardTo, issuing) = try consequences(of: item)
                acceptedInBatch[key] = index
                let changes = decisionRegister.apply(bulletin)
                added.withLock { $0.decisions += changes }
                let first = caused.count
                for bulletin in issuing where causedKeys.insert(bulletin.key).inserted { caused.append(bulletin) }
                decisions.append(.append(forwardTo: forwardTo, issuing: first..<caused.count))
                if let fact = item.fact {
                    projection.add(fact)
                    added.withLock { $0.facts.append(fact.id) }
                }
            } catch {
                decisions.append(.refused(Self.problem(error)))
            }
        }

        // 3. Sign, all at once, what the accepted items cause and was not issued before. The rows are
        //    written in a known order at the end of the chain.
        let issuedBefore = try await write.issued(Array(causedKeys))
        var jobs: [BulletinToIssue] = []
        var planned: [PlannedItem] = []
        for (index, decision) in decisions.enumerated() {
            guard case .append(let forwardTo, let issuing) = decision else { continue }
            let firstBulletin = jobs.count
            jobs += caused[issuing].filter { issuedBefore[$0.key] == nil }
            planned.append(PlannedItem(item: index, forwardTo: forwardTo, bulletinJobs: firstBulletin..<jobs.count))
        }
        let signed = try await sign(jobs)

        // 4. Write, in order: every entry with the bulletins it causes right after it, then every delivery;
        //    then sign the checkpoint of the grown tree (one signature for the batch) and keep each new
        //    entry's receipt, its inclusion proof in that checkpoint.
        var rows: [EntryToAppend] = []
        var recipients: [[String]] = []
        var itemRow: [Int?] = Array(repeating: nil, count: items.count)
        for plan in planned {
            itemRow[plan.item] = rows.count
            rows.append(EntryToAppend(items[plan.item].entry, sha256: digests[plan.item]))
            recipients.append(plan.forwardTo)
            for issued in signed[plan.bulletinJobs] {
                rows.append(EntryToAppend(issued.entry))
                recipients.append(issued.recipients)
            }
        }
        let written = try await write.append(rows)
        guard written.count == rows.count else { throw LedgerError.storageFailure("the log did not write the whole batch") }
        try projectIssuedReferrals(written, added: added)
        try await write.enqueue(zip(written, recipients).filter { !$0.1.isEmpty }.map {
            DeliveryToQueue(position: $0.0.position, recipients: $0.1, timestamp: $0.0.content.receivedAt)
        })
        let logged = itemRow.map { $0.map { written[$0] } }
        var receipts: [[UInt8]?] = Array(repeating: nil, count: items.count)
        if let last = written.last?.position {
            let receipted = planned.compactMap { plan in logged[plan.item].map { (plan.item, $0) } }
            let made = try await treeHead.checkpoint(size: last, receipting: receipted.map { ($0.1, items[$0.0].encoding) }, write: write)
            for ((item, _), bytes) in zip(receipted, made.receipts) { receipts[item] = bytes }
            try await write.storeReceipts(zip(receipted, made.receipts).map { ReceiptToStore(position: $0.0.1.position, bytes: $0.1) })
            projectedPosition.withLock { $0 = max($0, last) }
        }

        // 5. Answer. A resubmission gets the original receipt, byte for byte (made now only if none was kept:
        //    a log written before receipts were stored with their entry).
        var results: [Result<CommittedAppend, GatewayError>] = []
        results.reserveCapacity(items.count)
        for (index, decision) in decisions.enumerated() {
            switch decision {
            case .append:
                guard let entry = logged[index] else { throw LedgerError.storageFailure("an accepted item was not written") }
                results.append(.success(CommittedAppend(outcome: .appended(entry), receipt: receipts[index])))
            case .duplicate(let existing):
                results.append(.success(CommittedAppend(outcome: .duplicate(existing), receipt: try await original(existing, items[index], write: write))))
            case .duplicateOfItem(let earlier):
                guard let entry = logged[earlier] else { throw LedgerError.storageFailure("a resubmitted item's original was not written") }
                var receipt = receipts[earlier]
                if receipt == nil { receipt = try await original(entry, items[index], write: write) }
                receipts[earlier] = receipt
                results.append(.success(CommittedAppend(outcome: .duplicate(entry), receipt: receipt)))
            case .refused(let problem):
                results.append(.failure(problem))
            }
        }
        return results
    }

    /// Puts the referrals just written on their persons' files, read back from the entries exactly as a
    /// rebuild from the log reads them (their replies are checked against them).
    private func projectIssuedReferrals(_ written: [LogEntry], added: borrowing Mutex<BatchAdditions>) throws {
        for entry in written where entry.content.outcome == .issued && entry.content.type == BulletinType.referral.rawValue {
            guard let (bulletin, fact) = try ProjectionBuilder.read(entry, reader: reader, packs: configuration.packs, defaultPack: configuration.defaultPack),
                  let fact else { continue }
            directory.learn(bulletin)
            projection.add(fact)
            added.withLock { $0.facts.append(fact.id) }
        }
    }

    /// Whom to forward an item to and the bulletins it causes.
    private func consequences(of item: PendingAppend) throws -> (forwardTo: [String], issuing: [BulletinToIssue]) {
        let bulletin = item.bulletin
        directory.learn(bulletin)
        let consequences = try derivation.consequences(of: bulletin, fact: item.fact, issuedAt: item.entry.receivedAt)
        let signer = signer
        return (consequences.forwardTo, consequences.drafts.map { draft in
            BulletinToIssue(key: BulletinKey(issuer: signer.code, id: draft.id)) { try signer.signAsBuilt(draft, now: item.now) }
        })
    }

    /// Whether a logged entry holds the same bulletin as `item` (the same content, signed again).
    private func sameContent(_ entry: LogEntry, as item: PendingAppend) -> Bool {
        (try? ProjectionBuilder.bulletin(of: entry, reader: reader)) == item.bulletin
    }

    /// The receipt kept for `entry`, or one made and kept now (a log written before receipts were kept
    /// with their entries), with its proof in a checkpoint of the tree as it is.
    private func original(_ entry: LogEntry, _ item: PendingAppend, write: any LedgerWriter) async throws -> [UInt8] {
        if let kept = try await write.receipt(for: entry.position) { return kept }
        let made = try await treeHead.checkpoint(size: try await write.headPosition(), receipting: [(entry, item.encoding)], write: write)
        guard let bytes = made.receipts.first else { throw LedgerError.storageFailure("no receipt was made for entry \(entry.position)") }
        try await write.storeReceipts([ReceiptToStore(position: entry.position, bytes: bytes)])
        return bytes
    }

    /// Signs the bulletins on every core, results in order: on the thread the commit runs on when it is one
    /// of its own (which then waits for the other cores), else on the blocking-work threads.
    private func sign(_ jobs: [BulletinToIssue]) async throws -> [IssuedBulletin] {
        guard !jobs.isEmpty else { return [] }
        if Self.thread.isCurrent || ledger.ownsCurrentThread { return try Parallel.map(jobs) { try $0.sign() } }
        return try await signingThreads.runIfActive { try Parallel.map(jobs) { try $0.sign() } }
    }

    /// Signs the periodic bulletins and issues them into the outbox, through the same append lock as intake.
    /// A bulletin already issued under its id is left as it is (`.duplicate`): each is issued once.
    func issue(_ drafts: [OutboundDraft], now: Date) async throws -> [AppendOutcome] {
        let signer = signer
        let keys = drafts.map { BulletinKey(issuer: signer.code, id: $0.id) }
        return try await ledger.withAppendLock { write in
            let issuedBefore = try await write.issued(keys)
            let new = drafts.filter { issuedBefore[BulletinKey(issuer: signer.code, id: $0.id)] == nil }
            let signed = try await signingThreads.runIfActive { try Parallel.map(new) { try signer.sign($0, now: now) } }
            let written = try await write.append(signed.map { EntryToAppend($0.entry) })
            try await write.enqueue(zip(written, signed).map {
                DeliveryToQueue(position: $0.0.position, recipients: $0.1.recipients, timestamp: $0.0.content.receivedAt)
            })
            if let last = written.last?.position { _ = try await treeHead.sign(size: last, write: write) }
            var fresh = written.makeIterator()
            return try keys.map { key throws(LedgerError) -> AppendOutcome in
                if let existing = issuedBefore[key] { return .duplicate(existing) }
                guard let entry = fresh.next() else { throw LedgerError.storageFailure("a periodic bulletin was not written") }
                return .appended(entry)
            }
        }
    }

    /// Records a trust or configuration change that took effect, through the same append lock as intake,
    /// with a checkpoint of the grown tree; nothing when the last change of the same `what` recorded lists
    /// the same files and digests (nothing changed). The new entry, or nil.
    func record(_ change: ConfigurationChange, now: Date) async throws -> LogEntry? {
        let entry = change.entry(issuer: configuration.code, receivedAt: Timestamps.chinaStandardTime(now))
        return try await ledger.withAppendLock { write in
            if let last = try await write.latestChange(of: change.what), change.sameFiles(as: last.content.bytes) { return nil }
            let written = try await write.append([EntryToAppend(entry)])
            if let last = written.last?.position { _ = try await treeHead.sign(size: last, write: write) }
            return written.first
        }
    }

    /// The problem for an item refused before it was written.
    private static func problem(_ error: any Error) -> GatewayError {
        switch error {
        case let error as LedgerError where error.code == .duplicateConflict:
            return GatewayError(.duplicateConflict, error.message)
        case let error as LedgerError:
            return GatewayError(.internal, error.message)
        case let error as GatewayError:
            return error
        default:
            return GatewayError(.internal, "cannot derive the outbound bulletins: \(error)")
        }
    }
}

extension PendingAppend {
    /// The bulletin's identity in the log.
    var key: BulletinKey { BulletinKey(issuer: entry.issuer, id: entry.id) }
}

/// A bulletin an accepted entry causes the gateway to issue, signed when its batch is signed.
struct BulletinToIssue: Sendable {
    /// Its identity: it is issued once per (issuer, id), and not signed at all when it already was.
    let key: BulletinKey
    /// Signs it.
    let sign: @Sendable () throws -> IssuedBulletin
}

/// An accepted item as the third pass laid it out: its forwarding, and where the bulletins it causes are
/// among the batch's signing jobs.
private struct PlannedItem {
    let item: Int
    let forwardTo: [String]
    let bulletinJobs: Range<Int>
}

/// What a batch added to the in-memory state, taken back when the batch does not commit.
struct BatchAdditions: Sendable {
    var facts: [FactID] = []
    var decisions: [DecisionRegister.Change] = []
}

/// What the second pass decided for one item.
private enum Decision {
    /// New: append it, forward it to these recipients, and issue the bulletins at these indexes of the
    /// bulletins the batch causes.
    case append(forwardTo: [String], issuing: Range<Int>)
    /// Accepted before the batch, with the same bytes.
    case duplicate(LogEntry)
    /// The same bulletin as the batch's earlier item at this index.
    case duplicateOfItem(Int)
    /// Refused on its own; nothing of it is written.
    case refused(GatewayError)
}
