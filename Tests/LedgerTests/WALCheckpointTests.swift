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
    func backgroundCheckpoint() throws {
        let path = try ExternalCommand.scratchFolder("tongbao-wal").appendingPathComponent("tongbao.sqlite").path
        let log = try SQLiteMessageLog(path: path)
        // The writer checkpoints only past the backstop, far beyond what this test writes (~0.7 MB).
        let backstop = try log.connection.withLock { (box) throws(LedgerError) -> Int in
            try box.connection.withStatement("PRAGMA wal_autocheckpoint") { (statement) throws(LedgerError) -> Int in
                _ = try statement.step()
                return statement.integer(0)
            }
        }
        #expect(backstop == WALCheckpointer.backstopPages)
        let initial = Self.size(path)
        let bulletin = String(repeating: "<Bulletin/>", count: 2_500)   // ~27 KB: several pages per entry
        for index in 0..<(3 * WALCheckpointer.commitsPerCheckpoint) {
            _ = try log.append(entry("W\(index)", bytes: bulletin + "\(index)"))
        }
        // Only a checkpoint writes the database file itself; the thread runs after every 8th commit.
        let deadline = Date().addingTimeInterval(20)
        while Self.size(path) < initial + 500_000, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(Self.size(path) >= initial + 500_000, "the database file did not grow: no checkpoint ran")
        #expect(try log.count() == 3 * WALCheckpointer.commitsPerCheckpoint)
        #expect(try log.verifyChain().firstBroken == nil)
    }

    @Test("closing the log stops the thread and closes both connections (SQLite then removes the WAL)")
    func closeStopsTheThread() throws {
        let path = try ExternalCommand.scratchFolder("tongbao-wal").appendingPathComponent("tongbao.sqlite").path
        do {
            let log = try SQLiteMessageLog(path: path)
            for index in 0..<40 { _ = try log.append(entry("C\(index)")) }
            #expect(FileManager.default.fileExists(atPath: path + "-wal"))
        }
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"), "a connection is still open")
        let reopened = try SQLiteMessageLog(path: path)
        #expect(try reopened.count() == 40)
        #expect(try reopened.verifyChain().firstBroken == nil)
    }
}
