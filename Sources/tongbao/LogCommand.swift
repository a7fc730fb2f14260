import ArgumentParser
import Foundation
import Ledger

/// `tongbao log`: the message log.
struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "log", abstract: "The gateway's message log.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Walk the hash chain of the message log; exit 1 at the first broken entry, naming it.")

        @Option(help: "The gateway's data folder (the log is DATA/tongbao.sqlite).")
        var data: String = "tongbao-data"

        @Option(help: "The database URL instead: sqlite:PATH or postgres://USER@HOST:PORT/DATABASE.")
        var database: String?

        func run() async throws {
            try await runReportingErrors("log verify") {
                let report = try await withOpenedLedger(try ledgerAddress(data: data, database: database, mustExist: true)) { log in
                    try await log.verifyChain()
                }
                if let broken = report.firstBroken {
                    print("log: entry \(broken.position) is broken: \(broken.reason)")
                    throw ExitCode(1)
                }
                print("log: \(report.entries) entries, chain intact")
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
        } catch let error as LedgerError {
            throw CLIError.io("the ledger: \(error)")
        } catch {
            throw CLIError.data("\(error)")
        }
    }
}
