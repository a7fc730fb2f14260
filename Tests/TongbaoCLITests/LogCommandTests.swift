import Foundation
import Testing
import TongbaoTestSupport
@testable import Ledger

@Suite("tongbao log verify")
struct LogCommandTests {
    @Test("an intact chain passes; a broken entry is named and exits 1; --database sqlite:PATH works too")
    func verify() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tongbao-log-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("tongbao.sqlite").path
        let log = try await RunningStore.open(.sqlite(path: path))
        for index in 0..<5 {
            _ = try await log.append(NewEntry(issuer: "440800-HEALTH", id: "L\(index)", type: "LicenceRevocation", sender: "440800-HEALTH",
                                        receivedAt: "2025-05-21T15:00:01+08:00", outcome: .accepted, bytes: Array("<b\(index)/>".utf8)))
        }
        let intact = try CLI.run(["log", "verify", "--data", folder.path])
        #expect(intact.status == 0)
        #expect(intact.stdout.hasPrefix("log: 5 entries, chain intact, every leaf in the Merkle tree, 0 signed checkpoints match; root "), "\(intact.stdout)")
        try SQLiteConnection(path: path).execute("UPDATE log SET id = 'L9' WHERE position = 3")
        let broken = try CLI.run(["log", "verify", "--database", "sqlite:\(path)"])
        #expect(broken.status == 1)
        #expect(broken.stdout == "log: entry 3 is broken: its recorded fields do not match its hash\n")
        #expect(try CLI.run(["log", "verify", "--data", folder.appendingPathComponent("nowhere").path]).status == 74)
        #expect(try CLI.run(["log", "verify", "--database", "mysql://localhost/x"]).status == 64)
        // A PostgreSQL that is not there: an I/O error that says so (the two-node test verifies a real one).
        let unreachable = try CLI.run(["log", "verify", "--database", "postgres://tongbao@127.0.0.1:1/x"])
        #expect(unreachable.status == 74)
        #expect(unreachable.stderr.contains("cannot open the ledger"))
    }
}
