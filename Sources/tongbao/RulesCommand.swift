import ArgumentParser
import Scoring

/// `tongbao rules`: inspect the rule packs.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Inspect rule packs (rules/packs/*.json).",
        subcommands: [Show.self, List.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the shipped packs, validating each.")

        @OptionGroup var rulesDirectory: RulesDirectoryOption

        func run() throws {
            try runReportingErrors("rules list") {
                let library = try rulesDirectory.library()
                for name in RuleLibrary.packNames {
                    let pack = try library.pack(name)
                    print("\(pack.name)\t\(pack.title)")
                }
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a pack's effective settings, one `key = value` per line (the keys --explain names).")

        @Argument(help: "A pack name or a path to a pack file.")
        var pack: String

        @OptionGroup var rulesDirectory: RulesDirectoryOption

        func run() throws {
            try runReportingErrors("rules show") {
                let pack = try rulesDirectory.library().pack(pack)
                for line in RulePackListing.lines(pack) { print(line) }
            }
        }
    }
}

/// A pack's effective settings as `key = value` lines, in a fixed order.
enum RulePackListing {
    static func lines(_ pack: RulePack) -> [String] {
        var lines = ["pack = \(pack.name)", "title = \(pack.title)"]
        for tier in TierName.allCases {
            if let range = pack.tiers[tier] { lines.append("tiers.\(tier.rawValue) = \(range.lowerBound)–\(range.upperBound)") }
        }
        lines.append("scale = \(pack.scale.lowerBound)–\(pack.scale.upperBound)")
        for responsibility in Responsibility.allCases {
            lines.append("responsibility.\(responsibility.rawValue) = +\(pack.responsibilityOffsets[responsibility] ?? 0)")
        }
        for adjustment in Adjustment.allCases where adjustment != .none {
            if let rule = pack.adjustments[adjustment] {
                lines.append("adjustments.\(adjustment.rawValue) = \(rule.delta > 0 ? "+" : "")\(rule.delta) within \(rule.bound.rawValue)")
            }
        }
        for situation in SituationCode.allCases {
            var text = pack.rule(for: situation).summary
            if case .tier(let tier) = pack.rule(for: situation), let range = pack.tiers[tier] {
                text += " (\(range.lowerBound)–\(range.upperBound))"
            }
            if pack.fraudSituations.contains(situation) { text += ", fraud flag" }
            lines.append("situations.\(situation.rawValue) = \(text)")
        }
        lines.append("scoreDate = \(pack.scoreDate.rawValue)")
        for step in pack.sanctions.steps {
            lines.append("sanctions.steps.\(step.total) = \(step.months) month(s) cumulative, \(step.oneTimeMonths) month(s) one-time")
        }
        let termination = pack.sanctions
        lines.append("sanctions.termination = at \(termination.terminationTotal): ban \(termination.banYears) year(s), one-time \(termination.oneTimeBanYears) year(s)")
        lines.append("sanctions.crossing = \(termination.crossing.rawValue)")
        lines.append("sanctions.overlap = \(termination.overlap.rawValue)")
        for band in pack.notices {
            let range = band.to.map { "\(band.from)–\($0)" } ?? "≥\(band.from)"
            lines.append("notices.\(range) = \(band.actions.map(\.rawValue).joined(separator: ", "))")
        }
        lines.append("institutionEvents.terminationBanYears = \(pack.institutionEvents.terminationBanYears)")
        lines.append("indicators.overThresholdShare = \(pack.indicators.overThresholdShare)")
        for category in RepairCategory.allCases {
            guard let rule = pack.repair.categories[category] else {
                lines.append("repair.categories.\(category.rawValue) = not applicable")
                continue
            }
            var text: String
            if let bands = rule.examBands {
                text = bands.map { "exam \($0.scores.lowerBound)–\($0.scores.upperBound) → −\($0.points)" }.joined(separator: ", ")
            } else {
                text = "−\(rule.points)" + (rule.fraudPoints.map { ", fraud −\($0)" } ?? "")
            }
            if let group = rule.capGroup {
                text += ", cap group \(group) (\(pack.repair.capGroups[group] ?? 0) per year)"
            } else {
                text += ", no cap"
            }
            lines.append("repair.categories.\(category.rawValue) = \(text)")
        }
        lines.append("repair.barOneTimeScore = \(pack.repair.barOneTimeScore)")
        lines.append("repair.halfPeriodFirst = \(pack.repair.halfPeriodFirst)")
        switch pack.repair.shortening {
        case .table: lines.append("repair.shortening = table (recompute from the cumulative column)")
        case .fixed(let months): lines.append("repair.shortening = fixed \(months) month(s), once per year")
        }
        lines.append("restoration.windowWorkingDays = \(pack.restoration.windowWorkingDays)")
        lines.append("restoration.automatic = \(pack.restoration.automatic)")
        for (step, days) in pack.deadlines.sorted(by: { $0.key < $1.key }) {
            lines.append("deadlines.\(step) = \(days) working day(s)")
        }
        let blocking = pack.practice.blockingEvents.map(\.rawValue).joined(separator: ", ")
        lines.append("practice.blockingEvents = \(blocking.isEmpty ? "none (practice notices are recorded only)" : blocking)")
        lines.append("referral.replyWorkingDays = \(pack.referral.replyWorkingDays) working day(s) from the referral's issue date")
        return lines
    }
}
