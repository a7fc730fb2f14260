import ArgumentParser
import Foundation
import Gateway
import Logging
import Scoring

/// `tongbao deadlines`: workflow deadlines and overdue items from the gateway's log.
struct DeadlinesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deadlines",
        abstract: "List workflow deadlines (scoring.md §10): DUE STEP STATE ACT PERSONS, by due date.",
        discussion: """
            States: open (not yet due), met (the gateway saw it done), overdue (due and not seen done), passed (due;
            the step happens outside the gateway). --overdue lists only the overdue ones.
            """)

    @OptionGroup var options: GatewayOptions

    @Flag(help: "Only what is overdue.")
    var overdue = false

    @Option(help: "The date to judge on (YYYY-MM-DD; default: today in China).")
    var date: DateArgument?

    func run() async throws {
        try await runReportingErrors("deadlines") {
            var logger = Logger(label: "tongbao.deadlines")
            logger.logLevel = .warning
            let setup = try GatewaySetup(options, requireLog: true)
            let today = date?.date ?? Timestamps.chinaDate(Date())
            try await setup.withIntake(logger: logger) { intake in
                let projection = intake.projection
                for item in try DeadlineReport.items(facts: projection.allFacts(), scorer: projection.scoring, on: today, overdueOnly: overdue) {
                    print(([item.due.description, item.step, item.state.rawValue, item.act?.description ?? "-", item.persons.joined(separator: ",")]
                        + (item.provisional ? ["provisional"] : [])).joined(separator: "\t"))
                }
            }
        }
    }
}
