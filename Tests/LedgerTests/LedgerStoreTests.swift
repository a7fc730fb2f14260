import Foundation
import Testing
import TongbaoTestSupport
@testable import Ledger

/// The stores the ledger suite runs against, unchanged: the embedded SQLite file and a real PostgreSQL
/// server the tests start themselves (`initdb` + `pg_ctl`).
enum Store: String, CaseIterable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }

    /// A new, empty store: how to open it (again: every opening is migrated and running), and how to run raw
    /// SQL on it (to tamper).
    func make() throws -> (open: @Sendable () async throws -> RunningStore, sql: (String) throws -> Void) {
        switch self {
        case .sqlite:
            let path = try ExternalCommand.scratchFolder("tongbao-ledger").appendingPathComponent("tongbao.sqlite").path
            return ({ try await RunningStore(try await SQLiteLedger.open(path: path)) }, { try SQLiteConnection(path: path).execute($0) })
        case .postgres:
            let server = try PostgresServer.shared()
            let url = try server.newDatabase()
            return ({ try await RunningStore(try PostgresLedger(url: url)) },
                    { _ = try server.psql($0.replacingOccurrences(of: "X'00'", with: "'\\x00'::bytea"), database: url) })
        }
    }
}

func entry(_ id: String, bytes: String = "<Bulletin/>", outcome: EntryOutcome = .accepted) -> NewEntry {
    NewEntry(issuer: "440800-HEALTH", id: id, type: "LicenceRevocation", sender: "440800-HEALTH",
             receivedAt: "2025-05-21T15:00:01+08:00", outcome: outcome, errorCode: outcome == .rejected ? "schema-invalid" : nil,
             bytes: Array(bytes.utf8))
}

func issued(_ id: String, to recipients: [String]) -> IssuedBulletin {
    IssuedBulletin(entry: NewEntry(issuer: "440800-GATEWAY", id: id, type: "Referral", sender: "440800-GATEWAY",
                                   receivedAt: "2025-05-21T15:00:02+08:00", outcome: .issued, bytes: Array("{\"id\":\"\(id)\"}".utf8)),
                   recipients: recipients)
}

@Suite("ledger store: message log and outbox (SQLite and PostgreSQL)", .serialized)
struct LedgerStoreTests {
    @Test("appends chain to each other; the same bulletin again is a duplicate; other bytes a conflict", arguments: Store.allCases)
    func appendAndDuplicates(store: Store) async throws {
        let log = try await store.make().open()
        guard case .appended(let first) = try await log.append(entry("A")) else { Issue.record("not appended"); return }
        #expect(first.position == 1)
        #expect(first.previousHash == LogEntry.genesisHash)
        guard case .appended(let second) = try await log.append(entry("B")) else { Issue.record("not appended"); return }
        #expect(second.previousHash == first.hash)
        #expect(try await log.append(entry("A")) == .duplicate(first))
        await #expect(throws: LedgerError.duplicateConflict(BulletinKey(issuer: "", id: ""), position: nil)) {
            try await log.append(entry("A", bytes: "<Other/>"))
        }
        // Rejected bulletins are logged too, and never block a corrected resubmission.
        _ = try await log.append(entry("C", bytes: "<Broken", outcome: .rejected))
        _ = try await log.append(entry("C", bytes: "<Broken2", outcome: .rejected))
        guard case .appended(let corrected) = try await log.append(entry("C")) else { Issue.record("not appended"); return }
        #expect(corrected.position == 5)
        #expect(try await log.count() == 5)
        #expect(try await log.accepted(issuer: "440800-HEALTH", id: "C") == corrected)
        #expect(try await log.verifyChain() == ChainReport(entries: 5, firstBroken: nil))
        // Receipts: the first stored wins.
        try await log.storeReceipt(Array("R1".utf8), for: 1)
        try await log.storeReceipt(Array("R2".utf8), for: 1)
        #expect(try await log.receipt(for: 1) == Array("R1".utf8))
        #expect(try await log.receipt(for: 2) == nil)
    }

    @Test("the refusal record keeps what was refused (never the bytes), lists it since a time, and keeps only the last ones", arguments: Store.allCases)
    func refusalRecord(store: Store) async throws {
        let made = try store.make()
        let log = try await made.open()
        func refusal(_ id: String, at time: String) -> Refusal {
            Refusal(receivedAt: time, issuer: "440800-HEALTH", id: id, type: "LicenceRevocation", sender: "440800-HEALTH",
                    code: "schema-invalid", reason: id == "R1" ? nil : "finer", sha256: String(repeating: "a", count: 64), size: 1_000_000)
        }
        for (index, time) in ["2025-05-20T10:00:00+08:00", "2025-05-21T10:00:00+08:00", "2025-05-22T10:00:00+08:00"].enumerated() {
            try await log.recordRefusal(refusal("R\(index + 1)", at: time))
        }
        let all = try await log.refusals(since: nil, limit: 100)
        #expect(all.map(\.id) == ["R1", "R2", "R3"])
        #expect(all.first?.reason == nil && all.last?.reason == "finer" && all.last?.size == 1_000_000)
        #expect(all.map(\.sequence) == all.map(\.sequence).sorted() && Set(all.map(\.sequence)).count == 3)
        #expect(try await log.refusals(since: "2025-05-21T00:00:00+08:00", limit: 100).map(\.id) == ["R2", "R3"])
        #expect(try await log.refusals(since: nil, limit: 1).map(\.id) == ["R1"])
        #expect(try await log.count() == 0, "refusals do not grow the log")
        // Bounded: the oldest go.
        try await log.recordRefusal(refusal("R4", at: "2025-05-23T10:00:00+08:00"), keeping: 2)
        #expect(try await log.refusals(since: nil, limit: 100).map(\.id) == ["R3", "R4"])
    }

    @Test("committed entries survive reopening", arguments: Store.allCases)
    func durable(store: Store) async throws {
        let made = try store.make()
        do {
            let log = try await made.open()
            for index in 0..<20 { _ = try await log.append(entry("E\(index)")) }
        }
        let reopened = try await made.open()
        #expect(try await reopened.count() == 20)
        #expect(try await reopened.entries(after: 18, limit: 10).map(\.content.id) == ["E18", "E19"])
        #expect(try await reopened.verifyChain().firstBroken == nil)
    }

    @Test("tampering is found at the exact entry", arguments: Store.allCases, [
        ("UPDATE log SET bytes = X'00' WHERE position = 3", 3, "SHA-256"),
        ("UPDATE log SET sender = '440800-DRUG' WHERE position = 2", 2, "fields"),
        ("DELETE FROM log WHERE position = 4", 4, "missing"),
        ("UPDATE log SET previous_hash = hash WHERE position = 5", 5, "chain"),
    ])
    func tampering(store: Store, tamper: (sql: String, position: Int, reason: String)) async throws {
        let made = try store.make()
        let log = try await made.open()
        for index in 0..<6 { _ = try await log.append(entry("T\(index)")) }
        try made.sql(tamper.sql)
        let report = try await log.verifyChain()
        #expect(report.firstBroken?.position == tamper.position)
        #expect(report.firstBroken?.reason.contains(tamper.reason) == true)
    }

    @Test("several writers (tasks, or stores as nodes would have) keep one unbroken chain", arguments: Store.allCases)
    func concurrentAppends(store: Store) async throws {
        let made = try store.make()
        var stores: [RunningStore] = []
        for _ in 0..<4 { stores.append(try await made.open()) }
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                let log = stores[task % stores.count]
                group.addTask {
                    for index in 0..<25 {
                        _ = try? await log.append(entry("C\(task)-\(index)"), deliverTo: ["440800-HEALTH"], issuing: [issued("R\(task)-\(index)", to: ["440800-DRUG"])])
                    }
                }
            }
        }
        let log = stores[0]
        #expect(try await log.count() == 400)
        #expect(try await log.verifyChain() == ChainReport(entries: 400, firstBroken: nil))
        // Outbox sequence numbers follow log order: a cursor never skips a row.
        let inbox = try await log.inbox(of: "440800-DRUG", after: 0, limit: 1000)
        #expect(inbox.count == 200)
        #expect(inbox.map(\.delivery.position) == inbox.map(\.delivery.position).sorted())
    }

    @Test("a fact and the bulletins it causes are appended together; issued once per id", arguments: Store.allCases)
    func consequencesTogether(store: Store) async throws {
        let log = try await store.make().open()
        _ = try await log.append(entry("A"), deliverTo: ["440800-INS-AGENCY"], issuing: [issued("SN-1", to: ["440800-INS-AGENCY"]), issued("REF-1", to: ["440800-HEALTH"])])
        #expect(try await log.count() == 3)
        #expect(try await log.inbox(of: "440800-INS-AGENCY", after: 0, limit: 10).map(\.delivery.position) == [1, 2])
        let first = try #require(try await log.issued(issuer: "440800-GATEWAY", id: "SN-1"))
        #expect(try await log.issue(issued("SN-1", to: ["440800-INS-AGENCY"])) == .duplicate(first))
        // Issued with a new fact: an id issued before is not written again.
        _ = try await log.append(entry("B"), issuing: [issued("SN-1", to: ["440800-INS-AGENCY"]), issued("SN-2", to: ["440800-INS-AGENCY"])])
        #expect(try await log.entries(after: 3, limit: 10).map(\.content.id) == ["B", "SN-2"])
    }

    @Test("a writer's transaction: rows chained at the end, queued and receipted together; its reads see its own writes", arguments: Store.allCases)
    func writerTransaction(store: Store) async throws {
        let log = try await store.make().open()
        _ = try await log.append(entry("BEFORE"))
        let seen = try await log.withAppendLock { write in
            let head = try await write.headPosition()
            let written = try await write.append([EntryToAppend(entry("A")), EntryToAppend(issued("SN-A", to: []).entry), EntryToAppend(entry("C"))])
            try await write.enqueue([DeliveryToQueue(position: written[1].position, recipients: ["440800-INS-AGENCY", "440800-INS-AGENCY", "440800-DRUG"],
                                                     timestamp: "t")])
            try await write.storeReceipts([ReceiptToStore(position: written[0].position, bytes: Array("receipt of A".utf8)),
                                           ReceiptToStore(position: written[0].position, bytes: Array("second".utf8))])
            let keys = [BulletinKey(issuer: "440800-HEALTH", id: "A"), BulletinKey(issuer: "440800-HEALTH", id: "NONE")]
            return (head, written.map(\.position), written.map(\.previousHash) == [try await write.entries(after: 0, limit: 1)[0].hash, written[0].hash, written[1].hash],
                    try await write.accepted(keys).keys.map(\.id), try await write.issued([BulletinKey(issuer: "440800-GATEWAY", id: "SN-A")]).count,
                    try await write.headPosition(), try await write.receipt(for: written[0].position))
        }
        #expect(seen.0 == 1)
        #expect(seen.1 == [2, 3, 4])
        #expect(seen.2, "each row chains to the one before it")
        #expect(seen.3 == ["A"])
        #expect(seen.4 == 1)
        #expect(seen.5 == 4)
        #expect(seen.6 == Array("receipt of A".utf8))
        #expect(try await log.receipt(for: 2) == Array("receipt of A".utf8))
        #expect(try await log.inbox(of: "440800-INS-AGENCY", after: 0, limit: 10).map(\.delivery.position) == [3])
        #expect(try await log.inbox(of: "440800-DRUG", after: 0, limit: 10).map(\.delivery.id) == ["SN-A"])
        #expect(try await log.verifyChain() == ChainReport(entries: 4, firstBroken: nil))
    }

    @Test("a transaction whose body throws after writing commits nothing, and the store goes on", arguments: Store.allCases)
    func abandonedTransaction(store: Store) async throws {
        let log = try await store.make().open()
        _ = try await log.append(entry("BEFORE"))
        struct KeyUnavailable: Error {}
        await #expect(throws: KeyUnavailable.self) {
            try await log.withAppendLock { write in
                let written = try await write.append([EntryToAppend(entry("A"))])
                try await write.storeReceipts([ReceiptToStore(position: written[0].position, bytes: Array("receipt".utf8))])
                throw KeyUnavailable()
            }
        }
        #expect(try await log.entries(after: 0, limit: 10).map(\.content.id) == ["BEFORE"])
        #expect(try await log.receipt(for: 2) == nil)
        guard case .appended(let again) = try await log.append(entry("A")) else { Issue.record("not appended"); return }
        #expect(again.position == 2)
        #expect(try await log.verifyChain() == ChainReport(entries: 2, firstBroken: nil))
    }

    @Test("a transaction with a row the store refuses commits nothing at all, and the store goes on", arguments: Store.allCases)
    func refusedWrite(store: Store) async throws {
        // PostgreSQL's writes are sent without waiting for their answers and confirmed with COMMIT; a failed
        // statement turns that COMMIT into a rollback, which must fail the transaction, not pass for a commit.
        let log = try await store.make().open()
        _ = try await log.append(entry("BEFORE"))
        await #expect(throws: (any Error).self) {
            try await log.withAppendLock { write in
                let written = try await write.append([EntryToAppend(entry("A"))])
                try await write.enqueue([DeliveryToQueue(position: written[0].position, recipients: ["440800-INS-AGENCY"], timestamp: "t")])
                try await write.storeReceipts([ReceiptToStore(position: written[0].position, bytes: Array("receipt A".utf8))])
                // A delivery of an entry that does not exist: the outbox's foreign key refuses it.
                try await write.enqueue([DeliveryToQueue(position: 999, recipients: ["440800-DRUG"], timestamp: "t")])
            }
        }
        #expect(try await log.entries(after: 0, limit: 10).map(\.content.id) == ["BEFORE"])
        #expect(try await log.receipt(for: 2) == nil)
        #expect(try await log.inbox(of: "440800-INS-AGENCY", after: 0, limit: 10).isEmpty)
        #expect(try await log.verifyChain() == ChainReport(entries: 1, firstBroken: nil))
        // The same store commits the next transaction.
        _ = try await log.append(entry("A"), deliverTo: ["440800-INS-AGENCY"])
        #expect(try await log.inbox(of: "440800-INS-AGENCY", after: 0, limit: 10).map(\.delivery.position) == [2])
        #expect(try await log.verifyChain() == ChainReport(entries: 2, firstBroken: nil))
    }

    @Test("the outbox: pull with a cursor, acknowledge, push attempts with backoff, dead letters and retry", arguments: Store.allCases)
    func outbox(store: Store) async throws {
        let log = try await store.make().open()
        _ = try await log.append(entry("A"), deliverTo: [], issuing: [issued("B1", to: ["440800-HEALTH", "440800-DRUG"]), issued("B2", to: ["440800-HEALTH"])])
        let inbox = try await log.inbox(of: "440800-HEALTH", after: 0, limit: 10)
        #expect(inbox.map(\.delivery.id) == ["B1", "B2"])
        #expect(inbox.first?.bytes == Array("{\"id\":\"B1\"}".utf8))
        #expect(try await log.inbox(of: "440800-HEALTH", after: inbox[0].delivery.sequence, limit: 10).map(\.delivery.id) == ["B2"])
        // Only one's own items can be acknowledged.
        #expect(try await log.acknowledge([inbox[0].delivery.sequence], by: "440800-DRUG", at: "t") == 0)
        #expect(try await log.acknowledge([inbox[0].delivery.sequence], by: "440800-HEALTH", at: "t") == 1)
        #expect(try await log.deliveries(ofBulletin: "440800-GATEWAY", id: "B1").map { "\($0.recipient) \($0.state)" } == ["440800-DRUG pending", "440800-HEALTH acknowledged"])

        // Push to drug: due now, claimed (not handed out twice), failed, then dead.
        let due = try await log.due(to: ["440800-DRUG"], now: 1_000, limit: 10)
        #expect(due.map(\.delivery.id) == ["B1"])
        let sequence = try #require(due.first?.delivery.sequence)
        if store == .postgres { #expect(try await log.due(to: ["440800-DRUG"], now: 1_000, limit: 10).isEmpty) }
        try await log.record(.retry(detail: "HTTP 503", afterMilliseconds: 500), for: sequence, at: "t1", now: 1_000)
        #expect(try await log.due(to: ["440800-DRUG"], now: 1_200, limit: 10).isEmpty)
        #expect(try await log.due(to: ["440800-DRUG"], now: 1_500, limit: 10).count == 1)
        try await log.record(.dead(detail: "HTTP 503"), for: sequence, at: "t2", now: 1_500)
        #expect(try await log.deliveries(in: .dead, limit: 10).map(\.attempts) == [2])
        #expect(try await log.deliveryCounts() == [.dead: 1, .acknowledged: 1, .pending: 1])
        #expect(try await log.retry(nil, at: "t3", now: 2_000) == 1)
        try await log.record(.delivered(detail: "HTTP 202"), for: sequence, at: "t4", now: 2_000)
        #expect(try await log.attempts(of: sequence).map(\.outcome) == [.failed, .dead, .retryRequested, .delivered])
        #expect(try await log.attempts(of: sequence).first?.retryInMilliseconds == 500)
        #expect(try await log.deliveries(in: .delivered, limit: 10).map(\.id) == ["B1"])
        await #expect(throws: LedgerError.notFound("")) { try await log.record(.delivered(detail: "x"), for: 12_345, at: "t5", now: 3_000) }
    }

    @Test("trust and configuration changes are logged and grow the tree; the latest of a type is found; a layout from before them is migrated with its entries kept",
          arguments: Store.allCases)
    func changesAndTheirMigration(store: Store) async throws {
        let made = try store.make()
        do {
            let log = try await made.open()
            _ = try await log.append(entry("A"))
        }
        // The layout as it was before the change outcomes: the log's outcome check without them.
        switch store {
        case .sqlite:
            try made.sql("""
                PRAGMA foreign_keys=OFF;
                ALTER TABLE log RENAME TO log_current;
                CREATE TABLE log (
                    position INTEGER PRIMARY KEY,
                    issuer TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, sender TEXT NOT NULL,
                    received_at TEXT NOT NULL,
                    outcome TEXT NOT NULL CHECK (outcome = 'accepted' OR outcome = 'rejected' OR outcome = 'issued'),
                    error_code TEXT, bytes BLOB NOT NULL, sha256 TEXT NOT NULL,
                    previous_hash TEXT NOT NULL, hash TEXT NOT NULL
                );
                INSERT INTO log SELECT * FROM log_current; DROP TABLE log_current;
                PRAGMA user_version = 5;
                """)
        case .postgres:
            try made.sql("""
                ALTER TABLE log DROP CONSTRAINT log_outcome_check;
                ALTER TABLE log ADD CONSTRAINT outcome_values_of_an_older_version CHECK (outcome IN ('accepted', 'rejected', 'issued'));
                UPDATE schema_version SET version = 2;
                """)
        }
        #expect(throws: (any Error).self, "the old layout refuses a change entry") {
            try made.sql("INSERT INTO log VALUES (9, 'I', 'X', 'T', 'S', 't', 'trust', NULL, X'00', 's', 'p', 'h')")
        }

        let log = try await made.open()
        func change(_ what: String, _ kind: EntryOutcome, _ manifest: String) -> EntryToAppend {
            EntryToAppend(NewEntry(issuer: "440800-GATEWAY", id: "\(kind.rawValue)-\(what)-\(manifest.count)", type: what, sender: "gw-1",
                                   receivedAt: "2026-12-04T10:00:00+08:00", outcome: kind, bytes: Array(manifest.utf8)))
        }
        let written = try await log.withAppendLock { write in
            try await write.append([change("participants", .trust, "p1"), change("rules", .configuration, "r1"), change("participants", .trust, "p2..")])
        }
        #expect(written.map(\.position) == [2, 3, 4])
        #expect(written.map(\.leaf.kind) == [.trust, .configuration, .trust])
        let latest = try await log.withAppendLock { write in
            (try await write.latestChange(of: "participants"), try await write.latestChange(of: "rules"), try await write.latestChange(of: "trust-store"))
        }
        #expect(latest.0?.position == 4 && latest.0?.content.bytes == Array("p2..".utf8))
        #expect(latest.1?.position == 3 && latest.1?.content.outcome == .configuration)
        #expect(latest.2 == nil)
        #expect(try await log.entries(after: 0, limit: 10).first?.content.id == "A", "the entry from before the migration is kept")
        #expect(try await log.verifyChain() == ChainReport(entries: 4, firstBroken: nil))
        let report = try await TreeAudit.walk(log, logKey: nil)
        #expect(report.isIntact && report.entries == 4)
        // The unique indexes came back with the rebuilt table: a second copy of A is still a duplicate.
        #expect(try await log.append(entry("A")) == .duplicate(try #require(try await log.entries(after: 0, limit: 1).first)))
    }
}
