import ArgumentParser
import Foundation
import Gateway
import Ledger
import Scoring

/// `tongbao ledger`: maintenance of the ledger's projections.
struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ledger", abstract: "The ledger's projections.", subcommands: [Rebuild.self])

    struct Rebuild: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild the projections (person states, institution indicators) from the message log.",
            discussion: """
                Writes one line per person (as `tongbao replay`) and then one per institution (as `tongbao indicators`)
                on --as-of, to --out or stdout. The same log always gives the same bytes: this is the code the gateway
                runs at start to rebuild what it serves.
                """)

        @Option(help: "The gateway's data folder (the log is DATA/tongbao.sqlite).")
        var data: String = "tongbao-data"

        @Option(help: "The database URL instead: sqlite:PATH or postgres://USER@HOST:PORT/DATABASE.")
        var database: String?

        @Option(name: .customLong("as-of"), help: "The date of the projections (YYYY-MM-DD).")
        var asOf: DateArgument

        @Option(help: "The rule pack for bulletins that name none.")
        var rules: String = "guangdong"

        @Option(help: "A file to write instead of stdout.")
        var out: String?

        @OptionGroup var rulesDirectory: RulesDirectoryOption

        func run() async throws {
            try await runReportingErrors("ledger rebuild") {
                let address = try ledgerAddress(data: data, database: database, mustExist: true)
                let library = try rulesDirectory.library()
                var packs: [String: RulePack] = [:]
                for name in RuleLibrary.packNames { packs[name] = try library.pack(name) }
                guard let pack = packs[rules] else { throw CLIError.usage("--rules \(rules): no such pack") }
                let scorer = Scorer(pack: pack, calendar: try library.calendar())
                let text = try await withOpenedLedger(address) { log in
                    try ProjectionBuilder.projections(of: try await ProjectionBuilder.facts(from: log, packs: packs, defaultPack: rules), scorer: scorer, on: asOf.date)
                }
                if let out {
                    do {
                        try Data(text.utf8).write(to: URL(fileURLWithPath: out), options: .atomic)
                    } catch {
                        throw CLIError.io("cannot write \(out): \(error.localizedDescription)")
                    }
                } else {
                    FileHandle.standardOutput.write(Data(text.utf8))
                }
            }
        }
    }
}
