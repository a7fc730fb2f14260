import Foundation
import Testing
import TongbaoTestSupport
@testable import Ledger

/// The stores the ledger suite runs against, unchanged: the embedded SQLite file and a real PostgreSQL
/// server the tests start themselves (`initdb` + `pg_ctl`).
enum Store: String, CaseIterable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }

    /// A new, empty store: how to open it (again), and how to run raw SQL on it (to tamper).
    func make() throws -> (open: () throws -> any MessageLog & Outbox, sql: (String) throws -> Void) {
        switch self {
        case .sqlite:
            let path = try ExternalCommand.scratchFolder("tongbao-ledger").appendingPathComponent("tongbao.sqlite").path
            return ({ try SQLiteMessageLog(path: path) }, { try SQLiteConnection(path: path).execute($0) })
        case .postgres:
            let server = try PostgresServer.shared()
            let url = try server.newDatabase()
            return ({ try PostgresMessageLog(url: url) }, { _ = try server.psql($0.replacingOccurrences(of: "X'00'", with: "'\\x00'::bytea"), database: url) })
        }
    }
}

func entry(_ id: String, bytes: String = "<Bulletin/>", outcome: String = "accepted") -> NewEntry {
    NewEntry(issuer: "440800-HEALTH", id: id, type: "LicenceRevocation", sender: "440800-HEALTH",
             receivedAt: "2025-05-21T15:00:01+08:00", outcome: outcome, errorCode: outcome == "rejected" ? "schema-invalid" : nil,
             bytes: Array(bytes.utf8))
}

func issued(_ id: String, to recipients: [String]) -> IssuedBulletin {
    IssuedBulletin(entry: NewEntry(issuer: "440800-GATEWAY", id: id, type: "Referral", sender: "440800-GATEWAY",
                                   receivedAt: "2025-05-21T15:00:02+08:00", outcome: "issued", bytes: Array("{\"id\":\"\(id)\"}".utf8)),
                   recipients: recipients)
}

@Suite("message log and outbox (SQLite and PostgreSQL)", .serialized)
struct MessageLogTests {
    @Test("appends chain to each other; the same bulletin again is a duplicate; other bytes a conflict", arguments: Store.allCases)
    func appendAndDuplicates(store: Store) throws {
        let log = try store.make().open()
        guard case .appended(let first) = try log.append(entry("A")) else { Issue.record("not appended"); return }
        #expect(first.position == 1)
        #expect(first.previousHash == LogEntry.genesisHash)
        guard case .appended(let second) = try log.append(entry("B")) else { Issue.record("not appended"); return }
        #expect(second.previousHash == first.hash)
        #expect(try log.append(entry("A")) == .duplicate(first))
        #expect(throws: LedgerError(code: "duplicate-conflict", message: "")) { try log.append(entry("A", bytes: "<Other/>")) }
        // Rejected bulletins are logged too, and never block a corrected resubmission.
        _ = try log.append(entry("C", bytes: "<Broken", outcome: "rejected"))
        _ = try log.append(entry("C", bytes: "<Broken2", outcome: "rejected"))
        guard case .appended(let corrected) = try log.append(entry("C")) else { Issue.record("not appended"); return }
        #expect(corrected.position == 5)
        #expect(try log.count() == 5)
        #expect(try log.accepted(issuer: "440800-HEALTH", id: "C") == corrected)
        #expect(try log.verifyChain() == ChainReport(entries: 5, firstBroken: nil))
        // Receipts: the first stored wins.
        try log.storeReceipt(Array("R1".utf8), for: 1)
        try log.storeReceipt(Array("R2".utf8), for: 1)
        #expect(try log.receipt(for: 1) == Array("R1".utf8))
        #expect(try log.receipt(for: 2) == nil)
    }

    @Test("committed entries survive reopening", arguments: Store.allCases)
    func durable(store: Store) throws {
        let made = try store.make()
        do {
            let log = try made.open()
            for index in 0..<20 { _ = try log.append(entry("E\(index)")) }
        }
        let reopened = try made.open()
        #expect(try reopened.count() == 20)
        #expect(try reopened.entries(after: 18, limit: 10).map(\.content.id) == ["E18", "E19"])
        #expect(try reopened.verifyChain().firstBroken == nil)
    }

    @Test("tampering is found at the exact entry", arguments: Store.allCases, [
        ("UPDATE log SET bytes = X'00' WHERE position = 3", 3, "SHA-256"),
        ("UPDATE log SET sender = '440800-DRUG' WHERE position = 2", 2, "fields"),
        ("DELETE FROM log WHERE position = 4", 4, "missing"),
        ("UPDATE log SET previous_hash = hash WHERE position = 5", 5, "chain"),
    ])
    func tampering(store: Store, tamper: (sql: String, position: Int, reason: String)) throws {
        let made = try store.make()
        let log = try made.open()
        for index in 0..<6 { _ = try log.append(entry("T\(index)")) }
        try made.sql(tamper.sql)
        let report = try log.verifyChain()
        #expect(report.firstBroken?.position == tamper.position)
        #expect(report.firstBroken?.reason.contains(tamper.reason) == true)
    }

    @Test("several writers (threads, or connections as nodes would have) keep one unbroken chain", arguments: Store.allCases)
    func concurrentAppends(store: Store) async throws {
        let made = try store.make()
        let writers = try (0..<4).map { _ in try made.open() }
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                let log = writers[task % writers.count]
                group.addTask {
                    for index in 0..<25 {
                        _ = try? log.append(entry("C\(task)-\(index)"), deliverTo: ["440800-HEALTH"], issuing: [issued("R\(task)-\(index)", to: ["440800-DRUG"])])
                    }
                }
            }
        }
        let log = writers[0]
        #expect(try log.count() == 400)
        #expect(try log.verifyChain() == ChainReport(entries: 400, firstBroken: nil))
        // Outbox sequence numbers follow log order: a cursor never skips a row.
        let inbox = try log.inbox(of: "440800-DRUG", after: 0, limit: 1000)
        #expect(inbox.count == 200)
        #expect(inbox.map(\.delivery.position) == inbox.map(\.delivery.position).sorted())
    }

    @Test("a fact and the bulletins it causes are appended together, or not at all", arguments: Store.allCases)
    func consequencesAreAtomic(store: Store) throws {
        let log = try store.make().open()
        _ = try log.append(entry("A"), deliverTo: ["440800-INS-AGENCY"], issuing: [issued("SN-1", to: ["440800-INS-AGENCY"]), issued("REF-1", to: ["440800-HEALTH"])])
        #expect(try log.count() == 3)
        // A derivation that fails leaves nothing behind.
        struct Failed: Error {}
        #expect(throws: Failed.self) {
            try log.append(entry("B"), catchingUpFrom: 0) { _ in throw Failed() }
        }
        #expect(try log.count() == 3)
        #expect(try log.accepted(issuer: "440800-HEALTH", id: "B") == nil)
        // The catch-up sees what was appended after the known position.
        let seen = SeenEntries()
        _ = try log.append(entry("C"), catchingUpFrom: 1) { newer in
            seen.ids = newer.map(\.content.id)
            return ([], [])
        }
        #expect(seen.ids == ["SN-1", "REF-1"])
        // Issued once per id.
        let first = try #require(try log.issued(issuer: "440800-GATEWAY", id: "SN-1"))
        #expect(try log.issue(issued("SN-1", to: ["440800-INS-AGENCY"])) == .duplicate(first))
    }

    @Test("a group commit: one transaction, items in order with their receipts; a refused item writes nothing and the others go on", arguments: Store.allCases)
    func groupCommit(store: Store) throws {
        let log = try store.make().open()
        _ = try log.append(entry("BEFORE"))   // another writer's entry, after the batch's known position 0
        _ = try log.append(entry("OLD"), deliverTo: [], issuing: [issued("SN-OLD", to: ["440800-INS-AGENCY"])])
        struct Refused: Error {}
        let shown = SeenEntries()
        let accepted = SeenEntries()
        let signed = SeenEntries()
        func toIssue(_ id: String) -> BulletinToIssue {
            BulletinToIssue(issuer: "440800-GATEWAY", id: id) {
                signed.withLock { $0.append(id) }
                return issued(id, to: ["440800-INS-AGENCY"])
            }
        }
        let batch = [
            BatchedAppend(entry: entry("A"), consequences: { newer in
                shown.ids += newer.map(\.content.id)
                // SN-OLD was issued before and SN-A is named twice: SN-A is signed and issued once, SN-OLD not again.
                return (["440800-INS-AGENCY"], [toIssue("SN-A"), toIssue("SN-A"), toIssue("SN-OLD")])
            }, receipt: { logged in Array("receipt of \(logged.position)".utf8) }, accepted: { accepted.ids.append("A") }),
            // Refused while deriving: nothing of it is written, nothing it would cause is signed.
            BatchedAppend(entry: entry("B"), consequences: { newer in
                shown.ids += newer.map(\.content.id)
                _ = toIssue("SN-B")
                throw Refused()
            }, receipt: { _ in Array("never made".utf8) }, accepted: { accepted.ids.append("B") }),
            BatchedAppend(entry: entry("A"), receipt: { _ in Array("never made".utf8) }),   // the same bulletin again, in the same batch
            BatchedAppend(entry: entry("A", bytes: "<Other/>")),                             // other bytes under the same id
            BatchedAppend(entry: entry("OLD"), receipt: { logged in Array("late receipt of \(logged.position)".utf8) }),   // accepted before the batch
            BatchedAppend(entry: entry("C"), consequences: { newer in
                shown.ids += newer.map(\.content.id)
                return ([], [toIssue("SN-C")])
            }, receipt: { logged in Array("receipt of \(logged.position)".utf8) }, accepted: { accepted.ids.append("C") }),
        ]
        let commit = try log.append(batch: batch, catchingUpFrom: 0)
        // The other writer's entries are shown once, to the first item that derives; later items see none.
        #expect(shown.ids == ["BEFORE", "OLD", "SN-OLD"])
        #expect(accepted.ids == ["A", "C"])
        #expect(signed.withLock { $0.sorted() } == ["SN-A", "SN-C"])
        #expect(commit.results.count == 6)
        guard case .success(.appended(let a)) = commit.results[0].outcome, case .success(.appended(let c)) = commit.results[5].outcome else {
            Issue.record("A and C were not appended: \(commit.results.map(\.outcome))")
            return
        }
        #expect((a.position, c.position) == (4, 6))   // SN-A is 5; B left no gap
        #expect(commit.results[0].receipt == Array("receipt of 4".utf8))
        #expect(throws: Refused.self) { try commit.results[1].outcome.get() }
        #expect(commit.results[1].receipt == nil)
        #expect(try commit.results[2].outcome.get() == .duplicate(a))
        #expect(commit.results[2].receipt == Array("receipt of 4".utf8))   // the original receipt, not a new one
        #expect(throws: LedgerError(code: "duplicate-conflict", message: "")) { try commit.results[3].outcome.get() }
        // Accepted before the batch without a kept receipt: made now, and kept.
        #expect(try commit.results[4].outcome.get() == .duplicate(try #require(try log.accepted(issuer: "440800-HEALTH", id: "OLD"))))
        #expect(commit.results[4].receipt == Array("late receipt of 2".utf8))
        #expect(commit.lastPosition == 7)
        #expect(try log.entries(after: 0, limit: 10).map(\.content.id) == ["BEFORE", "OLD", "SN-OLD", "A", "SN-A", "C", "SN-C"])
        #expect(try log.receipt(for: 2) == Array("late receipt of 2".utf8))
        #expect(try log.receipt(for: 4) == Array("receipt of 4".utf8))
        #expect(try log.receipt(for: 6) == Array("receipt of 6".utf8))
        #expect(try log.inbox(of: "440800-INS-AGENCY", after: 0, limit: 10).map(\.delivery.position) == [3, 4, 5, 7])
        #expect(try log.verifyChain() == ChainReport(entries: 7, firstBroken: nil))
    }

    @Test("a batch whose bulletin or receipt cannot be signed commits nothing at all", arguments: Store.allCases)
    func unsignableBatch(store: Store) throws {
        let log = try store.make().open()
        _ = try log.append(entry("BEFORE"))
        struct KeyUnavailable: Error {}
        let accepted = SeenEntries()
        let unsignedBulletin = [
            BatchedAppend(entry: entry("A"), receipt: { _ in Array("receipt".utf8) }, accepted: { accepted.ids.append("A") }),
            BatchedAppend(entry: entry("B"), consequences: { _ in
                ([], [BulletinToIssue(issuer: "440800-GATEWAY", id: "SN-B") { throw KeyUnavailable() }])
            }, accepted: { accepted.ids.append("B") }),
        ]
        #expect(throws: KeyUnavailable.self) { try log.append(batch: unsignedBulletin, catchingUpFrom: 1) }
        let unmadeReceipt = [
            BatchedAppend(entry: entry("C"), receipt: { _ in Array("receipt".utf8) }),
            BatchedAppend(entry: entry("D"), receipt: { _ in throw KeyUnavailable() }),
        ]
        #expect(throws: KeyUnavailable.self) { try log.append(batch: unmadeReceipt, catchingUpFrom: 1) }
        // Both items were accepted before the signing failed (the caller takes back what it projected).
        #expect(accepted.ids == ["A", "B"])
        #expect(try log.entries(after: 0, limit: 10).map(\.content.id) == ["BEFORE"])
        #expect(try log.receipt(for: 2) == nil)
        #expect(try log.verifyChain() == ChainReport(entries: 1, firstBroken: nil))
        // The log goes on: the same bulletins commit afterwards.
        let again = try log.append(batch: [BatchedAppend(entry: entry("A")), BatchedAppend(entry: entry("C"))], catchingUpFrom: 1)
        #expect(again.results.compactMap { try? $0.outcome.get() }.count == 2)
        #expect(try log.verifyChain() == ChainReport(entries: 3, firstBroken: nil))
    }

    @Test("a batch with a row the store refuses commits nothing at all, and the log goes on", arguments: Store.allCases)
    func refusedWrite(store: Store) throws {
        // PostgreSQL's writes are sent without waiting for their answers and confirmed with COMMIT; a failed
        // statement turns that COMMIT into a rollback, which must fail the append, not pass for a commit.
        let log = try store.make().open()
        _ = try log.append(entry("BEFORE"))
        let batch = [
            BatchedAppend(entry: entry("A"), consequences: { _ in (["440800-INS-AGENCY"], [BulletinToIssue(signed: issued("SN-A", to: ["440800-DRUG"]))]) },
                          receipt: { _ in Array("receipt A".utf8) }),
            // An outcome the log's check refuses: the insert fails after the batch's reads are done.
            BatchedAppend(entry: entry("B", outcome: "lost"), receipt: { _ in Array("receipt B".utf8) }),
        ]
        #expect(throws: (any Error).self) { try log.append(batch: batch, catchingUpFrom: 1) }
        #expect(try log.entries(after: 0, limit: 10).map(\.content.id) == ["BEFORE"])
        #expect(try log.receipt(for: 2) == nil)
        #expect(try log.inbox(of: "440800-INS-AGENCY", after: 0, limit: 10).isEmpty)
        #expect(try log.inbox(of: "440800-DRUG", after: 0, limit: 10).isEmpty)
        #expect(try log.verifyChain() == ChainReport(entries: 1, firstBroken: nil))
        // The same connection commits the next batch.
        let again = try log.append(batch: [batch[0]], catchingUpFrom: 1)
        #expect(again.results.compactMap { try? $0.outcome.get() }.count == 1)
        #expect(try log.receipt(for: 2) == Array("receipt A".utf8))
        #expect(try log.inbox(of: "440800-INS-AGENCY", after: 0, limit: 10).map(\.delivery.position) == [2])
        #expect(try log.inbox(of: "440800-DRUG", after: 0, limit: 10).map(\.delivery.id) == ["SN-A"])
        #expect(try log.verifyChain() == ChainReport(entries: 3, firstBroken: nil))
    }

    @Test("the outbox: pull with a cursor, acknowledge, push attempts with backoff, dead letters and retry", arguments: Store.allCases)
    func outbox(store: Store) throws {
        let log = try store.make().open()
        _ = try log.append(entry("A"), deliverTo: [], issuing: [issued("B1", to: ["440800-HEALTH", "440800-DRUG"]), issued("B2", to: ["440800-HEALTH"])])
        let inbox = try log.inbox(of: "440800-HEALTH", after: 0, limit: 10)
        #expect(inbox.map(\.delivery.id) == ["B1", "B2"])
        #expect(inbox.first?.bytes == Array("{\"id\":\"B1\"}".utf8))
        #expect(try log.inbox(of: "440800-HEALTH", after: inbox[0].delivery.sequence, limit: 10).map(\.delivery.id) == ["B2"])
        // Only one's own items can be acknowledged.
        #expect(try log.acknowledge([inbox[0].delivery.sequence], by: "440800-DRUG", at: "t") == 0)
        #expect(try log.acknowledge([inbox[0].delivery.sequence], by: "440800-HEALTH", at: "t") == 1)
        #expect(try log.deliveries(ofBulletin: "440800-GATEWAY", id: "B1").map { "\($0.recipient) \($0.state)" } == ["440800-DRUG pending", "440800-HEALTH acknowledged"])

        // Push to drug: due now, claimed (not handed out twice), failed, then dead.
        let due = try log.due(to: ["440800-DRUG"], now: 1_000, limit: 10)
        #expect(due.map(\.delivery.id) == ["B1"])
        let sequence = try #require(due.first?.delivery.sequence)
        if store == .postgres { #expect(try log.due(to: ["440800-DRUG"], now: 1_000, limit: 10).isEmpty) }
        try log.record(.retry(detail: "HTTP 503", afterMilliseconds: 500), for: sequence, at: "t1", now: 1_000)
        #expect(try log.due(to: ["440800-DRUG"], now: 1_200, limit: 10).isEmpty)
        #expect(try log.due(to: ["440800-DRUG"], now: 1_500, limit: 10).count == 1)
        try log.record(.dead(detail: "HTTP 503"), for: sequence, at: "t2", now: 1_500)
        #expect(try log.deliveries(in: .dead, limit: 10).map(\.attempts) == [2])
        #expect(try log.deliveryCounts() == [.dead: 1, .acknowledged: 1, .pending: 1])
        #expect(try log.retry(nil, at: "t3", now: 2_000) == 1)
        try log.record(.delivered(detail: "HTTP 202"), for: sequence, at: "t4", now: 2_000)
        #expect(try log.attempts(of: sequence).map(\.outcome) == ["failed", "dead", "retry-requested", "delivered"])
        #expect(try log.attempts(of: sequence).first?.retryInMilliseconds == 500)
        #expect(try log.deliveries(in: .delivered, limit: 10).map(\.id) == ["B1"])
    }
}

/// What a catch-up closure saw (the closure is not escaping, but the compiler cannot tell a test that).
final class SeenEntries: @unchecked Sendable {
    var ids: [String] = []
    private let lock = NSLock()

    /// For what is seen from several threads at once (bulletins signed on every core).
    func withLock<T>(_ body: (inout [String]) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&ids)
    }
}
