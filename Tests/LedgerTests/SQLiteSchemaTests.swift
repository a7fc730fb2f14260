import Foundation
import Testing
import TongbaoTestSupport
@testable import Ledger

/// The SQLite layout: its value checks, and the migration of a database an earlier version wrote.
@Suite("SQLite layout and migrations")
struct SQLiteSchemaTests {
    /// The log and outbox tables exactly as layout version 2 created them (value checks with `IN (…)`).
    static let version2Tables = """
        CREATE TABLE log (
            position INTEGER PRIMARY KEY,
            issuer TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, sender TEXT NOT NULL,
            received_at TEXT NOT NULL, outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'rejected', 'issued')),
            error_code TEXT, bytes BLOB NOT NULL, sha256 TEXT NOT NULL,
            previous_hash TEXT NOT NULL, hash TEXT NOT NULL
        );
        CREATE TABLE outbox (
            sequence INTEGER PRIMARY KEY,
            position INTEGER NOT NULL REFERENCES log (position),
            recipient TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'acknowledged', 'dead')),
            attempts INTEGER NOT NULL, next_attempt_at INTEGER NOT NULL, last_error TEXT, updated_at TEXT NOT NULL,
            UNIQUE (position, recipient)
        );
        """

    private func scratchPath() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tongbao-schema-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.appendingPathComponent("tongbao.sqlite").path
    }

    /// The VDBE opcodes SQLite compiles `sql` to.
    private func opcodes(_ sql: String, _ connection: SQLiteConnection) throws -> [String] {
        let explain = try connection.prepare("EXPLAIN " + sql)
        var opcodes: [String] = []
        while try explain.step() { opcodes.append(explain.text(1)) }
        return opcodes
    }

    @Test("inserting a log entry or a delivery builds no temporary B-tree for the value checks, and the checks still refuse")
    func checksWithoutTemporaryTables() async throws {
        let path = try scratchPath()
        _ = try await RunningStore(try await SQLiteLedger.open(path: path))
        let connection = try SQLiteConnection(path: path)
        let logInsert = try opcodes("""
            INSERT INTO log (position, issuer, id, type, sender, received_at, outcome, error_code, bytes, sha256, previous_hash, hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, connection)
        let outboxInsert = try opcodes("""
            INSERT OR IGNORE INTO outbox (position, recipient, state, attempts, next_attempt_at, updated_at)
            VALUES (?, ?, 'pending', 0, 0, ?)
            """, connection)
        #expect(logInsert.contains("Insert") && outboxInsert.contains("Insert"))
        #expect(!logInsert.contains("OpenEphemeral"), "\(logInsert)")
        #expect(!outboxInsert.contains("OpenEphemeral"), "\(outboxInsert)")

        #expect(throws: LedgerError.self) {
            try connection.execute("INSERT INTO log VALUES (1, 'I', 'X', 'T', 'S', 't', 'forwarded', NULL, X'00', 's', 'p', 'h')")
        }
        try connection.execute("INSERT INTO log VALUES (1, 'I', 'X', 'T', 'S', 't', 'issued', NULL, X'00', 's', 'p', 'h')")
        #expect(throws: LedgerError.self) {
            try connection.execute("INSERT INTO outbox (position, recipient, state, attempts, next_attempt_at, updated_at) VALUES (1, 'R', 'lost', 0, 0, 't')")
        }
    }

    @Test("a version-2 database is migrated with every entry, receipt, delivery and attempt kept, and its chain intact")
    func migratesVersion2() async throws {
        let path = try scratchPath()
        // A log with entries, a receipt, deliveries and an attempt, written by the current code…
        var before: [LogEntry] = []
        do {
            let log = try await RunningStore(try await SQLiteLedger.open(path: path))
            guard case .appended(let accepted) = try await log.append(entry("A")) else { Issue.record("not appended"); return }
            _ = try await log.append(entry("R", outcome: .rejected))
            _ = try await log.issue(issued("REF-1", to: ["440800-DRUG", "440800-HEALTH"]))
            try await log.storeReceipt(Array("receipt of A".utf8), for: accepted.position)
            let due = try await log.due(to: ["440800-DRUG"], now: 1_000, limit: 10)
            let sequence = try #require(due.first?.delivery.sequence)
            try await log.record(.retry(detail: "HTTP 503", afterMilliseconds: 500), for: sequence, at: "t1", now: 1_000)
            before = try await log.entries(after: 0, limit: 100)
        }
        // …then given version 2's tables, as a database that version wrote would have them.
        do {
            let connection = try SQLiteConnection(path: path)
            try connection.execute("PRAGMA foreign_keys=OFF")
            try connection.transaction { () throws(LedgerError) in
                try connection.execute("""
                    ALTER TABLE log RENAME TO log_current; ALTER TABLE outbox RENAME TO outbox_current;
                    \(Self.version2Tables)
                    INSERT INTO log SELECT * FROM log_current; INSERT INTO outbox SELECT * FROM outbox_current;
                    DROP TABLE outbox_current; DROP TABLE log_current;
                    PRAGMA user_version = 2;
                    """)
            }
            let schema = try connection.prepare("SELECT group_concat(sql, ';') FROM sqlite_master WHERE name IN ('log', 'outbox')")
            #expect(try schema.step() && schema.text(0).contains("outcome IN ('accepted'"))
        }

        let log = try await RunningStore(try await SQLiteLedger.open(path: path))
        let connection = try SQLiteConnection(path: path)
        let version = try connection.prepare("PRAGMA user_version")
        #expect(try version.step() && version.integer(0) == SQLiteSchema.version)
        let schema = try connection.prepare("SELECT group_concat(sql, ';') FROM sqlite_master WHERE name IN ('log', 'outbox')")
        #expect(try schema.step() && !schema.text(0).contains(" IN ("))

        #expect(try await log.entries(after: 0, limit: 100) == before)
        let chain = try await log.verifyChain()
        #expect(chain.entries == before.count && chain.firstBroken == nil)
        #expect(try await log.receipt(for: 1) == Array("receipt of A".utf8))
        #expect(try await log.deliveries(ofBulletin: "440800-GATEWAY", id: "REF-1").map { "\($0.recipient) \($0.state) \($0.attempts)" }
                == ["440800-DRUG pending 1", "440800-HEALTH pending 0"])
        let drug = try #require(try await log.deliveries(ofBulletin: "440800-GATEWAY", id: "REF-1").first)
        #expect(try await log.attempts(of: drug.sequence).map(\.outcome) == [.failed])
        // The migrated tables take new rows, and the indexes were made again.
        guard case .appended(let next) = try await log.append(entry("B")) else { Issue.record("not appended"); return }
        #expect(next.position == before.count + 1)
        #expect(try await log.append(entry("A")) == .duplicate(before[0]))
        #expect(try await log.issue(issued("REF-1", to: ["440800-DRUG"])) == .duplicate(before[2]))
    }
}
