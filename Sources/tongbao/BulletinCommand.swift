import ArgumentParser
import Bulletins
import Foundation
import Gateway
import Ledger
import Logging
import StrictJSON

extension ReportingPeriod: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

/// `tongbao bulletin`: the periodic score bulletin (and credit ratings) of a region for a period.
struct BulletinCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bulletin",
        abstract: "Print (or issue) the periodic ScoreBulletin or CreditRatings of a region for a period.",
        discussion: """
            Computed from the gateway's log as of the period's last day; the same log gives the same bytes (the
            bulletin before signing). With --issue, signs it with the gateway's key and puts it in the outbox for
            the region's health and drug participants (once: an id already issued is left alone).
            """)

    @OptionGroup var options: GatewayOptions

    @Option(help: "The region code (for example 440800).")
    var region: String

    @Option(help: "The period: YYYY-MM (month), YYYY-Qn (quarter) or YYYY (year).")
    var period: ReportingPeriod

    @Option(help: "score-bulletin, or credit-rating (one bulletin per institution, one per line).")
    var kind: String = "score-bulletin"

    @Option(help: "Print as json or xml.")
    var to: String = "json"

    @Flag(help: "Sign and put in the outbox as well.")
    var issue = false

    func run() async throws {
        try await runReportingErrors("bulletin") {
            guard ["score-bulletin", "credit-rating"].contains(kind) else { throw CLIError.usage("--kind is score-bulletin or credit-rating") }
            guard ["json", "xml"].contains(to) else { throw CLIError.usage("--to is json or xml") }
            var logger = Logger(label: "tongbao.bulletin")
            logger.logLevel = .warning
            let setup = try GatewaySetup(options, requireLog: true)
            let model = try setup.library.creditModel()
            try await setup.withIntake(logger: logger) { intake in
                let (bulletin, ratings) = try intake.periodicDrafts(region: region, period: period, creditModel: model)
                for draft in kind == "score-bulletin" ? [bulletin] : ratings {
                    let text = try intake.unsignedText(draft)
                    if to == "xml" {
                        print(try BulletinXML.xml(from: try JSONParser().parse(Array(text.utf8))), terminator: "")
                    } else {
                        print(text, terminator: "")
                    }
                }
                if issue {
                    let outcomes = try await intake.issuePeriodic(region: region, period: period, creditModel: model)
                    for outcome in outcomes {
                        switch outcome {
                        case .appended(let entry): StandardError.write("issued \(entry.content.id) at log position \(entry.position)\n")
                        case .duplicate(let entry): StandardError.write("\(entry.content.id) was issued before (log position \(entry.position)); left as it is\n")
                        }
                    }
                }
            }
        }
    }
}
