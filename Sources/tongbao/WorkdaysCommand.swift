import ArgumentParser
import Scoring

/// `tongbao workdays`: the working-day calendar of scoring.md §10.
struct WorkdaysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workdays",
        abstract: "Working days in mainland China (State Council holiday arrangements, 调休 included).",
        subcommands: [List.self, Add.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print every working day of a year, one YYYY-MM-DD per line.")

        @Option(help: "The year.")
        var year: Int

        @OptionGroup var rulesDirectory: RulesDirectoryOption

        func run() throws {
            try runReportingErrors("workdays list") {
                let calendar = try rulesDirectory.library().calendar()
                let days: [CalendarDate]
                do throws(ScoringError) {
                    days = try calendar.workingDays(in: year)
                } catch {
                    throw CLIError.data(error.message)
                }
                var output = StandardOutput()
                for day in days { output.writeLine(day.description) }
                output.flush()
            }
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the N-th working day after a date (before it when N is negative); the date itself is not counted.")

        @Option(help: "The start date (YYYY-MM-DD).")
        var from: DateArgument

        @Option(help: "How many working days; negative counts backwards (write it as --days=-15).")
        var days: Int

        @OptionGroup var rulesDirectory: RulesDirectoryOption

        func validate() throws {
            guard abs(days) <= 1000 else { throw ValidationError("--days must be between -1000 and 1000") }
        }

        func run() throws {
            try runReportingErrors("workdays add") {
                let calendar = try rulesDirectory.library().calendar()
                do throws(ScoringError) {
                    print(try calendar.addWorkingDays(days, to: from.date))
                } catch {
                    throw CLIError.data(error.message)
                }
            }
        }
    }
}
