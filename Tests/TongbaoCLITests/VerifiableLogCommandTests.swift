import AsyncHTTPClient
import Foundation
@testable import Ledger
import Testing
import TongbaoTestSupport
import TransparencyLog
import Trust

/// The verifiable log at the command line, as cli.md states it: `receipt verify`, `witness`, `log verify
/// --checkpoint/--receipt`, and `serve` refusing a store that does not verify.
@Suite("the verifiable log at the command line", .serialized)
struct VerifiableLogCommandTests {
    @Test("receipt verify, witness (growth, then a forked log: exit 1), log verify --checkpoint on a truncated log, serve refusing a tampered store")
    func verifiableLog() async throws {
        let (folder, port, server, _, credentials) = try SubmitCommandTests.startGateway("tongbao-vlog")
        defer { server.stop() }
        let url = "https://127.0.0.1:\(port)"
        let scratch = try ExternalCommand.scratchFolder("tongbao-vlog-files")
        func write(_ bytes: [UInt8], _ name: String) throws -> String {
            let path = scratch.appendingPathComponent(name).path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return path
        }
        let revocations = try signedRevocations(4, idPrefix: "VLC", personPrefix: "77", by: try folder.credentials("440800-HEALTH"))
        let files = try revocations.enumerated().map { try write($0.element, "revocation-\($0.offset).jws") }
        #expect(try CLI.run(["submit", "--url", url] + credentials + [files[0]], retryingUntilServerIsUp: true).status == 0)

        // The log key, from the data folder; a receipt verified with it, or with the key fetched and its binding checked.
        let vkey = try CLI.run(["log", "key", "--data", folder.data.path])
        #expect(vkey.status == 0 && vkey.stdout.hasPrefix("tongbao/440800-GATEWAY+"), "\(vkey.stdout)\(vkey.stderr)")
        let vkeyFile = try write(Array(vkey.stdout.utf8), "log.vkey")
        let client = try folder.client("440800-HEALTH")
        let receipt = try await client.execute(HTTPClientRequest(url: url + "/v1/bulletins/440800-HEALTH/VLC-0/receipt"), timeout: .seconds(10))
        let receiptFile = try write(Array(buffer: try await receipt.body.collect(upTo: 1 << 20)), "receipt.json")
        let verified = try CLI.run(["receipt", "verify", "--log-key", vkeyFile, receiptFile])
        #expect(verified.status == 0 && verified.stdout.contains("\(receiptFile): ok position "), "\(verified.stdout)\(verified.stderr)")
        let fetched = try CLI.run(["receipt", "verify", "--url", url] + credentials + [receiptFile])
        #expect(fetched.status == 0, "\(fetched.stdout)\(fetched.stderr)")
        let tampered = try write(Array(String(decoding: try Data(contentsOf: URL(fileURLWithPath: receiptFile)), as: UTF8.self)
            .replacingOccurrences(of: "\"id\":\"VLC-0\"", with: "\"id\":\"VLC-9\"").utf8), "tampered.json")
        let refused = try CLI.run(["receipt", "verify", "--log-key", vkeyFile, tampered])
        #expect(refused.status == 1 && refused.stdout.contains("leaf-mismatch"), "\(refused.stdout)")

        // A witness: first sight, then growth (consistent), cosigning each time.
        let state = scratch.appendingPathComponent("witness.state").path
        let witness = ["witness", "--url", url] + credentials + ["--state", state, "--cosign", scratch.appendingPathComponent("witness.key.pem").path]
        let first = try CLI.run(witness)
        #expect(first.status == 0 && first.stdout.contains("cosigned as 440800-HEALTH/witness+"), "\(first.stdout)\(first.stderr)")
        #expect(try CLI.run(["submit", "--url", url] + credentials + [files[1], files[2]]).status == 0)
        let grown = try CLI.run(witness)
        #expect(grown.status == 0, "\(grown.stdout)\(grown.stderr)")
        let heldCheckpoint = try String(contentsOfFile: state, encoding: .utf8)
        let checkpointFile = try write(Array(heldCheckpoint.utf8), "held.checkpoint")
        let held = try SignedCheckpoint(text: heldCheckpoint, logKey: try #require(NoteVerifierKey(text: vkey.stdout)))

        // A forked log: the witness kept a checkpoint of another history, signed by the same log key.
        let logKey = try Ed25519PrivateKey(pem: Array(try Data(contentsOf: folder.pki.appendingPathComponent("participants/440800-GATEWAY.log-key.pem"))))
        let signer = try #require(NoteSigner(name: "tongbao/440800-GATEWAY", key: logKey))
        let fork = try SignedCheckpoint(signing: Checkpoint(origin: signer.verifier.name, size: held.checkpoint.size - 1, root: Array(repeating: 9, count: 32)), with: signer)
        try Data(fork.text.utf8).write(to: URL(fileURLWithPath: state))
        let split = try CLI.run(witness)
        #expect(split.status == 1 && split.stdout.contains("inconsistent log") && split.stdout.contains("kept checkpoint size \(held.checkpoint.size - 1)"),
                "\(split.stdout)\(split.stderr)")
        try await client.shutdown()
        server.stop()

        // A truncated copy (its signed checkpoints truncated too): only the participant's checkpoint shows it.
        let database = folder.data.appendingPathComponent("tongbao.sqlite").path
        #expect(try CLI.run(["log", "verify", "--data", folder.data.path, "--log-key", vkeyFile, "--checkpoint", checkpointFile, "--receipt", receiptFile]).status == 0)
        let copy = try ExternalCommand.scratchFolder("tongbao-vlog-copy")
        #expect(try CLI.run(["backup", "--data", folder.data.path, "--out", copy.appendingPathComponent("b.sqlite").path]).status == 0)
        try FileManager.default.moveItem(at: copy.appendingPathComponent("b.sqlite"), to: copy.appendingPathComponent("tongbao.sqlite"))
        let keep = held.checkpoint.size - 2
        try SQLiteConnection(path: copy.appendingPathComponent("tongbao.sqlite").path).execute("""
            DELETE FROM delivery_log WHERE sequence IN (SELECT sequence FROM outbox WHERE position > \(keep));
            DELETE FROM outbox WHERE position > \(keep); DELETE FROM receipts WHERE position > \(keep);
            DELETE FROM log WHERE position > \(keep); DELETE FROM checkpoints WHERE size > \(keep);
            """)
        let truncated = try CLI.run(["log", "verify", "--data", copy.path, "--log-key", vkeyFile, "--checkpoint", checkpointFile])
        #expect(truncated.status == 1 && truncated.stdout.contains("entry \(keep + 1) is missing"), "\(truncated.stdout)\(truncated.stderr)")

        // A row of the gateway's own store changed while it was stopped: serve refuses to start, naming it.
        let connection = try SQLiteConnection(path: database)
        try connection.execute("UPDATE log SET bytes = X'00', sha256 = '\(SHA256.hex([0]))' WHERE position = 3")
        let restart = try CLI.run(["serve", "--data", folder.data.path, "--listen", "127.0.0.1:\(Int.random(in: 20_000...40_000))"])
        #expect(restart.status == 65 && restart.stderr.contains("the log does not verify at position 3"), "\(restart.stderr)")
        let audit = try CLI.run(["log", "verify", "--data", folder.data.path])
        #expect(audit.status == 1 && audit.stdout.contains("entry 3"), "\(audit.stdout)")
    }
}

@Suite("the write-ahead log removed under a running gateway", .serialized)
struct WALRemovalTests {
    /// Submits `files` one by one; how many were accepted.
    static func submit(_ files: [String], port: Int, credentials: [String]) throws -> Int {
        try files.reduce(0) { count, file in
            count + (try CLI.run(["submit", "--url", "https://127.0.0.1:\(port)"] + credentials + [file], retryingUntilServerIsUp: count == 0).status == 0 ? 1 : 0)
        }
    }

    @Test("the WAL removed, then a bulletin: the gateway copies what it held into the database and stops accepting; killed, nothing receipted is lost")
    func removedThenWritten() async throws {
        let (folder, port, server, _, credentials) = try SubmitCommandTests.startGateway("tongbao-wal")
        defer { server.stop() }
        let scratch = try ExternalCommand.scratchFolder("tongbao-wal-files")
        let files = try signedRevocations(4, idPrefix: "WAL", personPrefix: "66", by: try folder.credentials("440800-HEALTH")).enumerated().map { index, bytes in
            let path = scratch.appendingPathComponent("r\(index).jws").path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return path
        }
        #expect(try Self.submit(Array(files.prefix(3)), port: port, credentials: credentials) == 3)
        let database = folder.data.appendingPathComponent("tongbao.sqlite").path
        try FileManager.default.removeItem(atPath: database + "-wal")
        let refused = try CLI.run(["submit", "--url", "https://127.0.0.1:\(port)"] + credentials + [files[3]])
        #expect(refused.status == 1 && refused.stdout.contains("internal") && refused.stdout.contains("was removed"), "\(refused.stdout)")
        server.kill()
        let verify = try CLI.run(["log", "verify", "--data", folder.data.path])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        let log = try await RunningStore(try await SQLiteLedger.open(path: database))
        let accepted = try await log.entries(after: 0, limit: 1000).filter { $0.content.outcome == .accepted }.map(\.content.id)
        #expect(accepted == ["WAL-0", "WAL-1", "WAL-2"], "every receipted bulletin, and not the refused one")
    }

    @Test("the WAL removed, then the gateway killed before it wrote: the lost entries are detected at open, naming the first")
    func removedThenKilled() async throws {
        let (folder, port, server, _, credentials) = try SubmitCommandTests.startGateway("tongbao-wal-kill")
        defer { server.stop() }
        let scratch = try ExternalCommand.scratchFolder("tongbao-wal-kill-files")
        let files = try signedRevocations(3, idPrefix: "WALK", personPrefix: "65", by: try folder.credentials("440800-HEALTH")).enumerated().map { index, bytes in
            let path = scratch.appendingPathComponent("r\(index).jws").path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return path
        }
        #expect(try Self.submit(files, port: port, credentials: credentials) == 3)
        let database = folder.data.appendingPathComponent("tongbao.sqlite").path
        try FileManager.default.removeItem(atPath: database + "-wal")
        server.kill()
        // Whatever a checkpoint had copied into the database before is there; anything that was only in the
        // removed WAL is missing, and the store says so instead of opening a shorter log.
        let verify = try CLI.run(["log", "verify", "--data", folder.data.path])
        if verify.status == 0 {
            let log = try await RunningStore(try await SQLiteLedger.open(path: database))
            let accepted = try await log.entries(after: 0, limit: 1000).filter { $0.content.outcome == .accepted }.count
            #expect(accepted == 3, "a log that opens holds every receipted bulletin")
        } else {
            #expect(verify.status == 1 && verify.stdout.contains("were committed and receipted"), "\(verify.stdout)\(verify.stderr)")
            let serve = try CLI.run(["serve", "--data", folder.data.path, "--listen", "127.0.0.1:\(Int.random(in: 20_000...40_000))"])
            #expect(serve.status == 65 && serve.stderr.contains("does not verify at position"), "\(serve.stderr)")
        }
    }
}
