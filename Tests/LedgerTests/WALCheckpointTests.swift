import Foundation
import Testing
import TongbaoTestSupport
@testable import Ledger

/// SQLite's write-ahead log is copied back into the database file by the log's own checkpointing thread,
/// not by the connection that commits appends.
@Suite("SQLite WAL checkpoints off the commit path")
struct WALCheckpointTests {
    static func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }

    @Test("the checkpointing thread copies committed pages into the database file while the writer does not")
    func backgroundCheckpoint() async throws {
        let path = try ExternalCommand.scratchFolder("tongbao-wal").appendingPathComponent("tongbao.sqlite").path
        let ledger = try await SQLiteLedger.open(path: path)
        let log = try await RunningStore(ledger)
        // The writer checkpoints only past the backstop, far beyond what this test writes (~0.7 MB).
        let backstop = try await ledger.writer.run { connection throws(LedgerError) -> Int in
            try connection.withStatement("PRAGMA wal_autocheckpoint") { (statement) throws(LedgerError) -> Int in
                _ = try statement.step()
                return statement.integer(0)
            }
        }
        #expect(backstop == WALCheckpointer.backstopPages)
        let initial = Self.size(path)
        let bulletin = String(repeating: "<Bulletin/>", count: 2_500)   // ~27 KB: several pages per entry
        for index in 0..<(3 * WALCheckpointer.commitsPerCheckpoint) {
            _ = try await log.append(entry("W\(index)", bytes: bulletin + "\(index)"))
        }
        // Only a checkpoint writes the database file itself; the thread runs after every 8th commit.
        let deadline = Date().addingTimeInterval(20)
        while Self.size(path) < initial + 500_000, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(Self.size(path) >= initial + 500_000, "the database file did not grow: no checkpoint ran")
        #expect(try await log.count() == 3 * WALCheckpointer.commitsPerCheckpoint)
        #expect(try await log.verifyChain().firstBroken == nil)
    }

    @Test("releasing the ledger stops its threads and closes all three connections (SQLite then removes the WAL)")
    func closeStopsTheThread() async throws {
        let path = try ExternalCommand.scratchFolder("tongbao-wal").appendingPathComponent("tongbao.sqlite").path
        do {
            let log = try await RunningStore(try await SQLiteLedger.open(path: path))
            for index in 0..<40 { _ = try await log.append(entry("C\(index)")) }
            #expect(FileManager.default.fileExists(atPath: path + "-wal"))
        }
        // The threads end on their own (nobody waits for them), so their connections close soon after: once
        // the store's run task has seen its cancellation, which needs a cooperative thread — in a full
        // parallel test run, other suites' helpers that wait for external programs can hold both for a while.
        let deadline = Date().addingTimeInterval(60)
        while FileManager.default.fileExists(atPath: path + "-wal"), Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"), "a connection is still open")
        let reopened = try await RunningStore(try await SQLiteLedger.open(path: path))
        #expect(try await reopened.count() == 40)
        #expect(try await reopened.verifyChain().firstBroken == nil)
    }
}
