import ArgumentParser
import Bulletins
import Foundation
import Scoring

/// `tongbao replay`: applies unsigned bulletins with a rule pack and prints each person's state.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Apply unsigned JSON bulletins with a rule pack and print every person's state on a date.",
        discussion: """
            Prints one JSON object per person, sorted by person code:
              {"person":"D440802000123","year":2025,"points":10,"status":"suspended","until":"2025-10-01","actions":[...]}
            Bad input (malformed, unknown field, bad date or enum, a situation the pack does not have) exits 65
            naming the file, the line and the JSON pointer. Repairs the rules do not allow are skipped and
            reported on stderr.
            """)

    @Option(help: "Rule pack: guangdong, shanghai, inner-mongolia, shandong, national, or a path to a pack file.")
    var rules: String

    @Option(name: .customLong("as-of"), help: "The date to report on (YYYY-MM-DD).")
    var asOf: DateArgument

    @Flag(help: "Add, per person, the acts, the points per finding and the rule-pack keys used.")
    var explain = false

    @OptionGroup var rulesDirectory: RulesDirectoryOption

    @Argument(help: "Bulletin files (one JSON bulletin, or JSON Lines); - reads standard input.")
    var files: [String]

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one bulletin file, or - for standard input") }
    }

    func run() throws {
        try runReportingErrors("replay") {
            let library = try rulesDirectory.library()
            let pack = try library.pack(rules)
            let calendar = try library.calendar()
            let facts = try readFacts(pack: pack)
            let progress = Progress(enabled: StandardError.isTerminal)
            progress.message("replay: folding \(facts.count) facts…")
            let evaluation: Evaluation
            do throws(ScoringError) {
                evaluation = try Scorer(pack: pack, calendar: calendar).evaluate(facts, asOf: asOf.date, explain: explain)
            } catch {
                throw CLIError.data(error.description)
            }
            progress.finish()
            for diagnostic in evaluation.diagnostics {
                let verb = diagnostic.applied ? "note" : "skipped"
                StandardError.write("tongbao replay: \(verb) \(diagnostic.fact): \(diagnostic.message) [\(diagnostic.code)]\n")
            }
            var output = StandardOutput()
            for person in evaluation.persons {
                output.writeLine(ReplayLine.render(person, explain: explain))
            }
            output.flush()
        }
    }

    /// Reads and checks every bulletin; collects up to 50 problems before giving up with exit 65.
    private func readFacts(pack: RulePack) throws -> [Fact] {
        let decoder = BulletinJSONDecoder()
        let progress = Progress(enabled: StandardError.isTerminal)
        var facts: [Fact] = []
        var problems: [String] = []
        for path in files {
            var reader = try BulletinFileReader(path: path)
            let name = reader.name
            try reader.forEachDocument { bytes, line in
                guard problems.count < 50 else { return }
                do {
                    let bulletin = try decoder.decode(bytes, firstLine: line)
                    facts.append(try bulletin.fact(under: pack, line: line))
                } catch let error as BulletinError {
                    problems.append("\(name):\(Self.line(of: error, in: bytes, firstLine: line)): \(error.pointer.isEmpty ? "/" : error.pointer): \(error.message) [\(error.code)]")
                }
                if facts.count % 100_000 == 0 { progress.message("replay: \(facts.count) bulletins read…") }
            }
        }
        progress.finish()
        guard problems.isEmpty else {
            throw CLIError.data(problems.joined(separator: "\ntongbao replay: ") + (problems.count >= 50 ? "\ntongbao replay: (stopped after 50 problems)" : ""))
        }
        return facts
    }

    /// The line of an error: decoding errors carry it; pack errors are located by their pointer.
    private static func line(of error: BulletinError, in bytes: ArraySlice<UInt8>, firstLine: Int) -> Int {
        guard error.code == "rules-invalid" else { return error.line }
        return BulletinJSONDecoder.line(of: error.pointer, in: bytes, firstLine: firstLine) ?? error.line
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
