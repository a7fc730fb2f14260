import ArgumentParser
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

    @OptionGroup var inputs: ScoringInputs

    @Flag(help: "Add, per person, the acts, the points per finding and the rule-pack keys used.")
    var explain = false

    func run() throws {
        try runReportingErrors("replay") {
            let evaluation = try inputs.evaluate(command: "replay", explain: explain)
            var output = StandardOutput()
            for lines in ReplayLine.renderAll(evaluation.persons, explain: explain) {
                output.write(lines)
            }
            output.flush()
        }
    }
}

/// `tongbao indicators`: each institution's indicators for the as-of year (scoring.md §7).
struct IndicatorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "indicators",
        abstract: "Print each institution's over-threshold and key-supervision indicators for the year of --as-of.",
        discussion: """
            Prints one JSON object per institution named in the bulletins, sorted by code:
              {"institution":"H44080200001","year":2025,"sanctionedPersonTimes":3,"registeredPersons":4,"overThreshold":true,"keySupervision":true,"fraudActs":["440800-INS-ADMIN/…"]}
            overThreshold: sanctioned person-times exceed the pack's share of registered persons (guangdong: 50%).
            keySupervision: the institution had a fraud-flagged act in the year (重点监管).
            """)

    @OptionGroup var inputs: ScoringInputs

    func run() throws {
        try runReportingErrors("indicators") {
            let evaluation = try inputs.evaluate(command: "indicators", explain: false)
            var output = StandardOutput()
            for institution in evaluation.institutions {
                output.writeLine(IndicatorLine.render(institution))
            }
            output.flush()
        }
    }
}
