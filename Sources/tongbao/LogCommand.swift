import ArgumentParser
import Foundation
import Ledger

/// `tongbao log`: the message log.
struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "log", abstract: "The gateway's message log.", subcommands: [Verify.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Walk the hash chain of the message log; exit 1 at the first broken entry, naming it.")

        @Option(help: "The gateway's data folder (the log is DATA/tongbao.sqlite).")
        var data: String = "tongbao-data"

        @Option(help: "The database URL instead: sqlite:PATH or postgres://USER@HOST:PORT/DATABASE.")
        var database: String?

        func run() throws {
            try runReportingErrors("log verify") {
                let log = try openLedger(data: data, database: database, mustExist: true)
                let report: ChainReport
                do throws(LedgerError) {
                    report = try log.verifyChain()
                } catch {
                    throw CLIError.io(error.description)
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
func openLedger(data: String, database: String?, mustExist: Bool, claimLease: Int64 = 120_000) throws(CLIError) -> any MessageLog & Outbox {
    do {
        if let database, database.hasPrefix("postgres://") || database.hasPrefix("postgresql://") {
            return try PostgresMessageLog(url: database, claimLeaseMilliseconds: claimLease)
        }
        let path: String
        if let database {
            guard database.hasPrefix("sqlite:") else {
                throw CLIError.usage("--database \(database): use sqlite:PATH or postgres://USER@HOST:PORT/DATABASE")
            }
            path = String(database.dropFirst("sqlite:".count))
        } else {
            path = URL(fileURLWithPath: data).appendingPathComponent("tongbao.sqlite").path
        }
        if mustExist, !FileManager.default.fileExists(atPath: path) { throw CLIError.io("\(path): no message log there") }
        if !mustExist {
            try? FileManager.default.createDirectory(at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
        }
        return try SQLiteMessageLog(path: path)
    } catch let error as CLIError {
        throw error
    } catch {
        throw CLIError.io("cannot open the ledger: \(error)")
    }
}
