import ArgumentParser
import Scoring

/// The `tongbao` command line (cli.md).
@main
struct Tongbao: AsyncParsableCommand {
    /// The release, printed by `tongbao --version`.
    static let version = "0.2.0"

    static let configuration = CommandConfiguration(
        commandName: "tongbao",
        abstract: "Tongbao (通报): signed bulletins between insurance, health and drug regulators, and the 12-point scoring core.",
        version: Tongbao.version,
        subcommands: [ReplayCommand.self, IndicatorsCommand.self, ValidateCommand.self, ConvertCommand.self, SchemasCommand.self, SignCommand.self, VerifyCommand.self, PKICommand.self, LogCommand.self, LedgerCommand.self, ServeCommand.self, SubmitCommand.self, ReceiptCommand.self, WitnessCommand.self, OutboxCommand.self, RefusalsCommand.self, BackupCommand.self, RestoreCommand.self, ReloadCommand.self, BulletinCommand.self, DeadlinesCommand.self, WorkdaysCommand.self, RulesCommand.self])
}

/// The option every command that reads rule data shares.
struct RulesDirectoryOption: ParsableArguments {
    @Option(name: .customLong("rules-dir"), help: "Folder holding packs/ and calendar/ (default: ./rules, or the checkout's rules/).")
    var rulesDirectory: String?

    func library() throws(CLIError) -> RuleLibrary { try RuleLibrary(explicit: rulesDirectory) }
}

/// Parses a `YYYY-MM-DD` command-line value.
struct DateArgument: ExpressibleByArgument {
    let date: CalendarDate

    init?(argument: String) {
        guard let date = CalendarDate(iso: argument) else { return nil }
        self.date = date
    }
}
