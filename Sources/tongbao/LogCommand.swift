import ArgumentParser
import Foundation
import Ledger
import TransparencyLog

/// `tongbao log`: the message log.
struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "log", abstract: "The gateway's message log.", subcommands: [Verify.self, Key.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify the message log: its hash chain, every leaf and the Merkle tree, its signed checkpoints, and consistency with checkpoints and receipts a participant holds.",
            discussion: """
                Recomputes every entry's leaf from the stored row and the tree from the leaves, and compares them with the \
                stored tree and every checkpoint the log signed. With --checkpoint and --receipt, also proves that the stored \
                log is the one those were issued from: a truncated log fails at the first missing position, a rewritten one \
                at the first position (or range) that differs. Exit 0 when everything verifies, 1 naming what does not.
                """)

        @Option(help: "The gateway's data folder (the log is DATA/tongbao.sqlite).")
        var data: String = "tongbao-data"

        @Option(help: "The database URL instead: sqlite:PATH or postgres://USER@HOST:PORT/DATABASE.")
        var database: String?

        @Option(help: "The log's verifier key (a file holding its C2SP vkey, as GET /v1/log/key and `tongbao log key` give it; one per line after a rotation): checks the signatures of the checkpoints.")
        var logKey: String?

        @Option(parsing: .singleValue, help: "A signed checkpoint (C2SP note) the stored log must be consistent with; repeat for several.")
        var checkpoint: [String] = []

        @Option(parsing: .singleValue, help: "A receipt (JSON or XML) whose entry the stored log must hold; repeat for several.")
        var receipt: [String] = []

        func run() async throws {
            try await runReportingErrors("log verify") {
                let key = try logKey.map { path throws(CLIError) in try LogKeyFile.read(path) }
                let held = try checkpoint.map { path throws(CLIError) in (path, try Self.checkpoint(path, key: key)) }
                let receipts = try receipt.map { path throws(CLIError) in (path, try Self.receipt(path, key: key)) }
                let sizes = Set(held.map(\.1.size) + receipts.map(\.1.1.size))
                let failures = try await Self.openedOrFailed(try ledgerAddress(data: data, database: database, mustExist: true)) { log in
                    let chain = try await log.verifyChain()
                    if let broken = chain.firstBroken { return ["log: entry \(broken.position) is broken: \(broken.reason)"] }
                    let tree = try await TreeAudit.walk(log, logKeys: key ?? [], rootsAt: sizes)
                    if let broken = tree.firstBroken { return ["log: entry \(broken.position) does not verify: \(broken.reason)"] }
                    var failures: [String] = []
                    for (path, checkpoint) in held {
                        if let failure = Self.consistency(of: tree, with: checkpoint) { failures.append("\(path): \(failure)") }
                    }
                    for (path, (receipt, checkpoint)) in receipts {
                        if let failure = Self.consistency(of: tree, with: checkpoint) {
                            failures.append("\(path): \(failure)")
                        } else if let stored = try await log.entries(after: receipt.position - 1, limit: 1).first, stored.position == receipt.position,
                                  stored.leaf.bytes != receipt.leaf {
                            failures.append("\(path): entry \(receipt.position) differs from the receipt's leaf")
                        }
                    }
                    if failures.isEmpty {
                        print("log: \(tree.entries) entries, chain intact, every leaf in the Merkle tree, \(tree.checkpoints) signed checkpoints match; root \(Data(tree.root).base64EncodedString())")
                        for (path, _) in held + receipts.map({ ($0.0, $0.1.1) }) { print("\(path): consistent") }
                    }
                    return failures
                }
                guard failures.isEmpty else {
                    for failure in failures { print(failure) }
                    throw ExitCode(1)
                }
            }
        }

        /// ``withOpenedLedger(_:_:)``, where a store that does not verify even as it opens (entries lost with
        /// its WAL) is this check's failure: its line, exit 1.
        static func openedOrFailed(_ address: LedgerAddress, _ body: (any LedgerStore) async throws -> [String]) async throws -> [String] {
            do {
                return try await withOpenedLedger(address, body)
            } catch let error as CLIError where error.exitCode == 65 && error.description.contains("[log-integrity]") {
                return ["log: \(error.description)"]
            }
        }

        /// Whether the recomputed tree agrees with a checkpoint a participant holds; the failure in words.
        static func consistency(of tree: TreeReport, with checkpoint: Checkpoint) -> String? {
            guard checkpoint.size <= tree.entries else {
                return "the log has \(tree.entries) entries, the checkpoint \(checkpoint.size): entry \(tree.entries + 1) is missing (the log was truncated)"
            }
            guard tree.roots[checkpoint.size] == checkpoint.root else {
                return "the log's first \(checkpoint.size) entries do not hash to the checkpoint's root: an entry at or before position \(checkpoint.size) was rewritten"
            }
            return nil
        }

        static func checkpoint(_ path: String, key: [NoteVerifierKey]?) throws(CLIError) -> Checkpoint {
            let text = String(decoding: try readInput(path), as: UTF8.self)
            do {
                if let key { return try SignedCheckpoint(text: text, logKeys: key).checkpoint }
                guard let note = SignedNote(text: text) else { throw LogError(.malformed, "not a signed note") }
                return try Checkpoint(body: note.body)
            } catch {
                throw CLIError.data("\(path): \(error)")
            }
        }

        static func receipt(_ path: String, key: [NoteVerifierKey]?) throws(CLIError) -> (LogReceipt, Checkpoint) {
            do {
                let receipt = try LogReceipt(bytes: try readInput(path))
                if let key { return (receipt, try receipt.verify(logKeys: key).checkpoint) }
                guard let note = SignedNote(text: receipt.checkpoint) else { throw LogError(.malformed, "the receipt's checkpoint is not a signed note") }
                return (receipt, try Checkpoint(body: note.body))
            } catch let error as CLIError {
                throw error
            } catch {
                throw CLIError.data("\(path): \(error)")
            }
        }
    }

    struct Key: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the log's verifier key (C2SP vkey), then those it rotated from, one per line: what participants, witnesses and `log verify --log-key` check checkpoints with.")

        @OptionGroup var options: GatewayOptions

        func run() throws {
            try runReportingErrors("log key") {
                for key in try GatewaySetup(options, requireLog: false).configuration.logVerifierKeys { print(key.text) }
            }
        }
    }
}

/// The ledger of a `--data` folder (its `tongbao.sqlite`), or of a `--database` URL: `sqlite:PATH` or
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`. With `mustExist`, a missing SQLite file is an error
/// rather than a new, empty log (the operator commands read an existing gateway's data).
/// `claimLease` is how long a node keeps a claimed push delivery (PostgreSQL, several nodes).
/// The ledger a command's `--data` and `--database` name; `mustExist` refuses an SQLite file that is not
/// there (the operator commands), otherwise its folder is made.
func ledgerAddress(data: String, database: String?, mustExist: Bool) throws(CLIError) -> LedgerAddress {
    let address: LedgerAddress
    if let database {
        guard let named = LedgerAddress(database: database) else {
            throw CLIError.usage("--database \(database): use sqlite:PATH or postgres://USER@HOST:PORT/DATABASE")
        }
        address = named
    } else {
        address = .sqlite(path: URL(fileURLWithPath: data).appendingPathComponent("tongbao.sqlite").path)
    }
    if case .sqlite(let path) = address {
        if mustExist, !FileManager.default.fileExists(atPath: path) { throw CLIError.io("\(path): no message log there") }
        if !mustExist {
            // The data folder holds the log and the keys: its owner's only.
            try? FileManager.default.createDirectory(at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true,
                                                     attributes: [.posixPermissions: 0o700])
        }
    }
    return address
}

/// Opens, migrates and runs the ledger at `address` while `body` uses it. The ledger's own errors are I/O
/// errors (exit 74); `body`'s CLI errors pass unchanged, and any other is bad data (exit 65).
func withOpenedLedger<Value: Sendable>(_ address: LedgerAddress, _ body: (any LedgerStore) async throws -> Value) async throws -> Value {
    let store: any LedgerStore
    do {
        store = try await address.open()
    } catch where error.code == .logIntegrity {
        throw CLIError.data("the ledger does not verify: \(error)")
    } catch {
        throw CLIError.io("cannot open the ledger: \(error)")
    }
    return try await store.whileRunning { store in
        do {
            try await store.migrate()
        } catch {
            throw CLIError.io("cannot open the ledger: \(error)")
        }
        do {
            return try await body(store)
        } catch let error as CLIError {
            throw error
        } catch let error as LedgerError where error.code == .logIntegrity {
            throw CLIError.data("the ledger does not verify: \(error)")
        } catch let error as LedgerError {
            throw CLIError.io("the ledger: \(error)")
        } catch {
            throw CLIError.data("\(error)")
        }
    }
}
