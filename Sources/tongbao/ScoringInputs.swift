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

    /// Reads and checks every bulletin; collects up to 50 problems before giving up with exit 65.
    private func readFacts(pack: RulePack, command: String) throws -> [Fact] {
        let decoder = BulletinJSONDecoder()
        var xmlReader: BulletinReader?   // compiles the XSD, so only made when an XML file shows up
        let progress = Progress(enabled: StandardError.isTerminal)
        var facts: [Fact] = []
        var problems: [String] = []
        for path in files {
            var reader = try BulletinFileReader(path: path)
            let name = reader.name
            try reader.forEachDocument { bytes, line in
                guard problems.count < 50 else { return }
                do {
                    let bulletin: Bulletin
                    if bytes.first(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }) == UInt8(ascii: "<") {
                        let reader = try xmlReader ?? BulletinReader()
                        xmlReader = reader
                        bulletin = try reader.read(Array(bytes)).bulletin
                    } else {
                        bulletin = try decoder.decode(bytes, firstLine: line)
                    }
                    if let fact = try bulletin.fact(under: pack, line: line) {
                        facts.append(fact)
                    } else {
                        StandardError.write("tongbao \(command): ignored \(name):\(line): a \(bulletin.type.rawValue) is not a scoring fact\n")
                    }
                } catch let error as BulletinError {
                    let where_ = Self.line(of: error, in: bytes, firstLine: line)
                    problems.append("\(name):\(where_): \(error.location): \(error.message) [\(error.code)]")
                }
                if facts.count % 100_000 == 0 { progress.message("\(command): \(facts.count) bulletins read…") }
            }
        }
        progress.finish()
        guard problems.isEmpty else {
            let separator = "\ntongbao \(command): "
            throw CLIError.data(problems.joined(separator: separator) + (problems.count >= 50 ? separator + "(stopped after 50 problems)" : ""))
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
