/// One jurisdiction's scoring rules, loaded from a data file in `rules/packs/`.
///
/// Every number and every **Decision** of scoring.md is a setting here, so that an operator can change
/// a rule without touching code. Packs are validated when loaded (``RulePackLoader``).
public struct RulePack: Sendable, Equatable {
    /// The pack's name (`guangdong`, `shanghai`, …).
    public var name: String
    /// A human title naming the source document.
    public var title: String
    /// The point range of each tier.
    public var tiers: [TierName: ClosedRange<Int>]
    /// Points added to a tier's low end for each degree of responsibility.
    public var responsibilityOffsets: [Responsibility: Int]
    /// How each adjustment changes a tier-based score.
    public var adjustments: [Adjustment: AdjustmentRule]
    /// The whole point scale (1…12); adjustments bounded by `scale` stay inside it.
    public var scale: ClosedRange<Int>
    /// What each situation gives under this pack.
    public var situations: [SituationCode: SituationRule]
    /// Situations that set the fraud flag (欺诈骗保) on an act.
    public var fraudSituations: Set<SituationCode>
    /// Which date is an act's score date.
    public var scoreDate: ScoreDateRule
    /// The suspension ladder and termination.
    public var sanctions: SanctionRules
    /// Notices by yearly total.
    public var notices: [NoticeBand]
    /// Effects of institution events handled as a status rule.
    public var institutionEvents: InstitutionEventRules
    /// Institution indicator settings.
    public var indicators: IndicatorRules
    /// Repair categories, caps and the effect on running sanctions.
    public var repair: RepairRules
    /// Restoration settings.
    public var restoration: RestorationRules
    /// Working-day deadlines of the notification workflow, by step name.
    public var deadlines: [String: Int]
    /// What practice notices do to eligibility (`practice`, Decision D38 of exchange-flows.md).
    public var practice: PracticeRules = PracticeRules()
    /// How long a regulator has to answer a referral (`referral`, Decisions D12 and D13).
    public var referral: ReferralRules = ReferralRules()

    /// The rule for a situation (every situation has one after validation).
    public func rule(for situation: SituationCode) -> SituationRule {
        situations[situation] ?? .notApplicable
    }
}

/// How an adjustment moves a tier-based score.
public struct AdjustmentRule: Sendable, Equatable {
    /// What bounds the result.
    public enum Bound: String, Sendable, CaseIterable {
        /// Stay within the situation's tier (从轻/从重).
        case tier
        /// Stay within the whole scale (减轻一档/加重一档).
        case scale
    }

    /// Points added (negative to lower).
    public var delta: Int
    /// What bounds the result.
    public var bound: Bound
}

/// What one situation gives under a pack.
public enum SituationRule: Sendable, Equatable {
    /// Points from a tier, by responsibility and adjustment.
    case tier(TierName)
    /// A fixed number of points, regardless of responsibility and adjustment.
    case fixed(Int)
    /// No points; the named persons' status changes with the institution's agreement (scoring.md §7).
    case institutionStatus(InstitutionStatusEffect)
    /// The situation does not exist under this pack; a bulletin using it is invalid.
    case notApplicable

    /// A short human form, used by `--explain` and `rules show`.
    public var summary: String {
        switch self {
        case .tier(let tier): tier.rawValue
        case .fixed(let points): "fixed \(points)"
        case .institutionStatus(let effect): "status \(effect.rawValue)"
        case .notApplicable: "not applicable"
        }
    }
}

/// The status effect of an institution event on its responsible persons.
public enum InstitutionStatusEffect: String, Sendable, Equatable, CaseIterable {
    /// Suspended, open-ended, until the institution's agreement is resumed.
    case suspend
    /// Terminated, with the pack's ban.
    case terminate
}

/// Which date an act is scored on (scoring.md §6).
public enum ScoreDateRule: String, Sendable, Equatable, CaseIterable {
    /// `scoredOn` when present, else the decision date.
    case decision
    /// `scoredOn` when present, else the date of the confirming `FinalScoreDecision` (Shanghai).
    case finalDecision = "final-decision"
}

/// The suspension ladder and the termination rule (scoring.md §7).
public struct SanctionRules: Sendable, Equatable {
    /// One row of the suspension ladder.
    public struct Step: Sendable, Equatable {
        /// The yearly total that reaches this row.
        public var total: Int
        /// Months of suspension for reaching the total cumulatively.
        public var months: Int
        /// Months when the act alone scores at least `total` (one-time).
        public var oneTimeMonths: Int
    }

    /// How the cumulative and one-time columns combine when one act crosses several levels.
    public enum Crossing: String, Sendable, CaseIterable {
        /// The larger of the cumulative months for T and the one-time months for min(P, 11).
        case largerOfCumulativeAndOneTime = "larger-of-cumulative-and-one-time"
        /// Only the cumulative column.
        case cumulativeOnly = "cumulative-only"
    }

    /// How a new suspension combines with one already running.
    public enum Overlap: String, Sendable, CaseIterable {
        /// The later of the two ends.
        case laterEnd = "later-end"
        /// The new months run after the current end.
        case consecutive
    }

    /// Ladder rows, ascending by total.
    public var steps: [Step]
    /// The yearly total that terminates.
    public var terminationTotal: Int
    /// Years of re-registration ban after a cumulative termination.
    public var banYears: Int
    /// Years of ban when the act alone reaches the termination total.
    public var oneTimeBanYears: Int
    /// How one act crossing several levels is handled.
    public var crossing: Crossing
    /// How suspensions overlap.
    public var overlap: Overlap

    /// The months of suspension for a total reached cumulatively, or nil below the first row.
    public func cumulativeMonths(total: Int) -> Int? {
        steps.last { $0.total <= total }?.months
    }

    /// The months of suspension for a one-time score, or nil below the first row.
    public func oneTimeMonths(points: Int) -> Int? {
        steps.last { $0.total <= points }?.oneTimeMonths
    }
}

/// The notices for yearly totals in `from...to` (open-ended when `to` is nil).
public struct NoticeBand: Sendable, Equatable {
    /// Lowest total of the band.
    public var from: Int
    /// Highest total, or nil for no upper end.
    public var to: Int?
    /// The notices.
    public var actions: [Notice]

    /// Whether a total falls in the band.
    public func contains(_ total: Int) -> Bool { total >= from && (to.map { total <= $0 } ?? true) }
}

/// Effects of institution events handled as a status rule.
public struct InstitutionEventRules: Sendable, Equatable {
    /// Years of ban after a termination linked to the institution's agreement termination.
    public var terminationBanYears: Int
    /// Days within which a second agreement suspension is a ground for ending the agreement (D34, GDI 42(一);
    /// the gateway does not know the agreement's term, "一般为1年").
    public var repeatSuspensionDays: Int = 365
}

/// What the regulators' practice notices do (Decision D38): the events that bar billing the fund while in
/// force. The others are recorded on the person's file only. Scores and statuses are never touched.
public struct PracticeRules: Sendable, Equatable {
    /// The events that make a person not eligible while in force, in the order their reasons take
    /// precedence when two apply on one day.
    public var blockingEvents: [PracticeEvent]

    /// The rules, by default the two events D38 names.
    public init(blockingEvents: [PracticeEvent] = [.practiceSuspended, .registrationCancelled]) {
        self.blockingEvents = blockingEvents
    }
}

/// The follow-up of referrals: the working days a regulator has to answer one, counted from the day the
/// gateway issued it (D12, D13). No seed sets a period; 20 is the longest answer period in them (SH 第十八条).
public struct ReferralRules: Sendable, Equatable {
    /// Working days from the referral's issue date to its `referral-reply` due date.
    public var replyWorkingDays: Int

    /// The rules, by default 20 working days.
    public init(replyWorkingDays: Int = 20) {
        self.replyWorkingDays = replyWorkingDays
    }
}

/// Institution indicator settings (scoring.md §7).
public struct IndicatorRules: Sendable, Equatable {
    /// The share of registered persons that sanctioned person-times must exceed.
    public var overThresholdShare: Double
}

/// Repair settings (scoring.md §8).
public struct RepairRules: Sendable, Equatable {
    /// How one category reduces points.
    public struct Category: Sendable, Equatable {
        /// Points per approved repair (general case).
        public var points: Int
        /// Points for a whistle-blowing report verified as fraud, when different.
        public var fraudPoints: Int?
        /// Exam-score bands; when set, points come from the band the score falls in (0 below every band).
        public var examBands: [ExamBand]?
        /// The cap group whose yearly count this category uses; nil for no cap.
        public var capGroup: String?
    }

    /// Points for an exam score range.
    public struct ExamBand: Sendable, Equatable {
        /// The scores of the band.
        public var scores: ClosedRange<Int>
        /// Points repaired.
        public var points: Int
    }

    /// How an approved repair shortens a running sanction.
    public enum Shortening: Sendable, Equatable {
        /// Recompute the months from the cumulative column with the repaired total.
        case table
        /// End the sanction `months` earlier, at most once per year.
        case fixed(months: Int)
    }

    /// Categories available under the pack; absent ones are not applicable.
    public var categories: [RepairCategory: Category]
    /// The most repairs per calendar year in each cap group.
    public var capGroups: [String: Int]
    /// A year with an act of at least this one-time score cannot be repaired.
    public var barOneTimeScore: Int
    /// Whether a sanctioned person may repair only after half the sanction period has run.
    public var halfPeriodFirst: Bool
    /// How a repair shortens a running sanction.
    public var shortening: Shortening
}

/// Restoration settings (scoring.md §9).
public struct RestorationRules: Sendable, Equatable {
    /// The application is due this many working days before the suspension ends.
    public var windowWorkingDays: Int
    /// Whether a person returns to normal at the end date without an approved restoration.
    public var automatic: Bool
}
