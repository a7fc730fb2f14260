import Foundation
import Testing
import TongbaoTestSupport
@testable import Ledger

@Suite("SQLite message log")
struct SQLiteMessageLogTests {
    func database() throws -> String {
        try ExternalCommand.scratchFolder("tongbao-ledger").appendingPathComponent("tongbao.sqlite").path
    }

    func entry(_ id: String, bytes: String = "<Bulletin/>", outcome: String = "accepted") -> NewEntry {
        NewEntry(issuer: "440800-HEALTH", id: id, type: "LicenceRevocation", sender: "440800-HEALTH",
                 receivedAt: "2025-05-21T15:00:01+08:00", outcome: outcome, errorCode: outcome == "rejected" ? "schema-invalid" : nil,
                 bytes: Array(bytes.utf8))
    }

    @Test("appends chain to each other; the same bulletin again is a duplicate; other bytes a conflict")
    func appendAndDuplicates() throws {
        let log = try SQLiteMessageLog(path: try database())
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
    }

    @Test("committed entries survive reopening")
    func durable() throws {
        let path = try database()
        do {
            let log = try SQLiteMessageLog(path: path)
            for index in 0..<20 { _ = try log.append(entry("E\(index)")) }
        }
        let reopened = try SQLiteMessageLog(path: path)
        #expect(try reopened.count() == 20)
        #expect(try reopened.entries(after: 18, limit: 10).map(\.content.id) == ["E18", "E19"])
        #expect(try reopened.verifyChain().firstBroken == nil)
    }

    @Test("tampering is found at the exact entry", arguments: [
        ("UPDATE log SET bytes = X'00' WHERE position = 3", 3, "SHA-256"),
        ("UPDATE log SET sender = '440800-DRUG' WHERE position = 2", 2, "fields"),
        ("DELETE FROM log WHERE position = 4", 4, "missing"),
        ("UPDATE log SET previous_hash = hash WHERE position = 5", 5, "chain"),
    ])
    func tampering(sql: String, position: Int, reason: String) throws {
        let path = try database()
        let log = try SQLiteMessageLog(path: path)
        for index in 0..<6 { _ = try log.append(entry("T\(index)")) }
        try SQLiteConnection(path: path).execute(sql)
        let report = try log.verifyChain()
        #expect(report.firstBroken?.position == position)
        #expect(report.firstBroken?.reason.contains(reason) == true)
    }

    @Test("appends from many threads keep one unbroken chain")
    func concurrentAppends() async throws {
        let log = try SQLiteMessageLog(path: try database())
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for index in 0..<25 { _ = try? log.append(entry("C\(task)-\(index)")) }
                }
            }
        }
        #expect(try log.count() == 200)
        #expect(try log.verifyChain() == ChainReport(entries: 200, firstBroken: nil))
    }
}
