import ArgumentParser
import Bulletins
import Foundation
import Scoring

/// The inputs every scoring command shares: a rule pack, an as-of date and bulletin files.
struct ScoringInputs: ParsableArguments {
    @Option(help: "Rule pack: guangdong, shanghai, inner-mongolia, shandong, national, or a path to a pack file.")
    var rules: String

    @Option(name: .customLong("as-of"), help: "The date to report on (YYYY-MM-DD).")
    var asOf: DateArgument

    @OptionGroup var rulesDirectory: RulesDirectoryOption

    @Argument(help: "Bulletin files (one JSON bulletin, or JSON Lines); - reads standard input.")
    var files: [String]

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one bulletin file, or - for standard input") }
    }

    /// Loads the pack and calendar, reads every bulletin and folds them; says skipped facts on stderr.
    func evaluate(command: String, explain: Bool) throws -> Evaluation {
        let library = try rulesDirectory.library()
        let pack = try library.pack(rules)
        let calendar = try library.calendar()
        let facts = try readFacts(pack: pack, command: command)
        let progress = Progress(enabled: StandardError.isTerminal)
        progress.message("\(command): folding \(facts.count) facts…")
        let evaluation: Evaluation
        do throws(ScoringError) {
            evaluation = try Scorer(pack: pack, calendar: calendar).evaluate(facts, asOf: asOf.date, explain: explain)
        } catch {
            throw CLIError.data(error.description)
        }
        progress.finish()
        for diagnostic in evaluation.diagnostics {
            let verb = diagnostic.applied ? "note" : "skipped"
            StandardError.write("tongbao \(command): \(verb) \(diagnostic.fact): \(diagnostic.message) [\(diagnostic.code)]\n")
        }
        return evaluation
    }

    /// Reads and checks every bulletin (on every core); collects up to 50 problems before giving up with exit 65.
    private func readFacts(pack: RulePack, command: String) throws -> [Fact] {
        try FactReader(pack: pack, command: command).read(files, progress: Progress(enabled: StandardError.isTerminal))
    }
}

/// Progress on stderr for long work, only when stderr is a terminal (never in piped output).
final class Progress {
    private let enabled: Bool
    private var shown = false

    init(enabled: Bool) { self.enabled = enabled }

    func message(_ text: String) {
        guard enabled else { return }
        StandardError.write("\r\u{1B}[K" + text)
        shown = true
    }

    func finish() {
        guard enabled, shown else { return }
        StandardError.write("\r\u{1B}[K")
        shown = false
    }
}
