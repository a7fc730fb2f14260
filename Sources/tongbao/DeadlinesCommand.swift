import ArgumentParser
import Foundation
import Gateway
import Logging
import Scoring
import StrictJSON

/// `tongbao deadlines`: workflow deadlines and overdue items, from the gateway's log, or without a server from
/// bulletin files (the same report: one pure function of the facts, the pack, the calendar and the date).
struct DeadlinesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deadlines",
        abstract: "List workflow and referral deadlines: from the gateway's log (DUE STEP STATE ACT PERSONS), or from FILE... (JSON lines).",
        discussion: """
            States: open (not yet due), met (the gateway saw it done), late (done after the due date), overdue (due
            and not seen done), passed (due; the step happens outside the gateway), cancelled (replaced: a later
            referral of the person). --overdue lists only the overdue ones.
            With FILE... no gateway is read: the unsigned bulletins in the files (JSON or JSON Lines, - for stdin)
            are folded with --rules, a bulletin's acceptance date being its issuedAt date, and each item is one
            JSON object per line, sorted by due date then step:
              {"step":"referral-reply","state":"open","due":"2025-05-27","act":"440800-GATEWAY/REF-2","persons":["D440802000123"]}
            Bad input exits 65, as replay.
            """)

    @OptionGroup var options: GatewayOptions

    @Flag(help: "Only what is overdue.")
    var overdue = false

    @Option(help: "The date to judge on (YYYY-MM-DD; default: today in China).")
    var date: DateArgument?

    @Argument(help: "Bulletin files to compute the deadlines of without a gateway (with --rules); - reads standard input.")
    var files: [String] = []

    func run() async throws {
        try await runReportingErrors("deadlines") {
            let today = date?.date ?? Timestamps.chinaDate(Date())
            if !files.isEmpty {
                try printFromFiles(on: today)
                return
            }
            var logger = Logger(label: "tongbao.deadlines")
            logger.logLevel = .warning
            let setup = try GatewaySetup(options, requireLog: true)
            try await setup.withIntake(logger: logger) { intake in
                let projection = intake.projection
                for item in try DeadlineReport.items(facts: projection.allFacts(), scorer: projection.scoring, on: today, overdueOnly: overdue) {
                    print(([item.due.description, item.step, item.state.rawValue, item.act?.description ?? "-", item.persons.joined(separator: ",")]
                        + (item.provisional ? ["provisional"] : [])).joined(separator: "\t"))
                }
            }
        }
    }

    /// The report of the facts in `files`, one JSON object per line.
    private func printFromFiles(on today: CalendarDate) throws {
        let library = try options.rulesDirectory.library()
        let pack = try library.pack(options.rules)
        let facts = try FactReader(pack: pack, command: "deadlines").read(files, progress: Progress(enabled: StandardError.isTerminal))
        let scorer = Scorer(pack: pack, calendar: try library.calendar())
        let items: [DeadlineItem]
        do throws(ScoringError) {
            items = try DeadlineReport.items(facts: facts, scorer: scorer, on: today, overdueOnly: overdue)
        } catch {
            throw CLIError.data(error.description)
        }
        var output = StandardOutput()
        for item in items { output.writeLine(item.jsonLine) }
        output.flush()
    }
}

extension DeadlineItem {
    /// `{"step","state","due","act","persons"}` (and `"provisional":true` when so), as `tongbao deadlines FILE...` prints it.
    var jsonLine: String {
        JSONText.object([
            ("step", JSONText.quoted(step)), ("state", JSONText.quoted(state.rawValue)), ("due", JSONText.quoted(due.description)),
            ("act", act.map { JSONText.quoted($0.description) } ?? "null"), ("persons", JSONText.array(persons)),
        ] + (provisional ? [("provisional", "true")] : []))
    }
}
