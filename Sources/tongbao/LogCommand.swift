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

        @Option(help: "The database URL instead: sqlite:PATH.")
        var database: String?

        func run() throws {
            try runReportingErrors("log verify") {
                let path = try databasePath(data: data, database: database)
                guard FileManager.default.fileExists(atPath: path) else { throw CLIError.io("\(path): no message log there") }
                let report: ChainReport
                do throws(LedgerError) {
                    report = try SQLiteMessageLog(path: path).verifyChain()
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

/// The SQLite file of a `--data` folder or a `--database sqlite:PATH` URL.
func databasePath(data: String, database: String?) throws(CLIError) -> String {
    guard let database else { return URL(fileURLWithPath: data).appendingPathComponent("tongbao.sqlite").path }
    guard database.hasPrefix("sqlite:") else {
        throw CLIError.usage("--database \(database): only sqlite:PATH is available so far (PostgreSQL arrives with the multi-node issue)")
    }
    return String(database.dropFirst("sqlite:".count))
}
