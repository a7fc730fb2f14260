/// How one situation of one finding scored for one person, with the pack keys used.
public struct SituationScore: Sendable, Equatable {
    /// The situation.
    public var situation: SituationCode
    /// The pack rule applied.
    public var rule: SituationRule
    /// Points before the adjustment (nil for status-only situations).
    public var base: Int?
    /// Points after the adjustment (nil for status-only situations).
    public var points: Int?
    /// The responsibility the points were read with.
    public var responsibility: Responsibility
    /// The adjustment applied.
    public var adjustment: Adjustment

    /// The pack keys that produced the points (derived on demand: replay without `--explain` never needs them).
    public var keys: [String] {
        var keys = ["situations.\(situation.rawValue)"]
        if case .tier(let tier) = rule {
            keys.append("tiers.\(tier.rawValue)")
            keys.append("responsibility.\(responsibility.rawValue)")
            if adjustment != .none { keys.append("adjustments.\(adjustment.rawValue)") }
        }
        return keys
    }
}

/// How one finding scored for one person: the highest of its situations.
public struct FindingScore: Sendable, Equatable {
    /// The violation id.
    public var violation: String
    /// The person's responsibility.
    public var responsibility: Responsibility
    /// The adjustment.
    public var adjustment: Adjustment
    /// Each situation's score.
    public var situations: [SituationScore]
    /// The finding's points: the highest situation, 0 when only status situations apply.
    public var points: Int
}

/// The result of scoring one act for one person (scoring.md §4).
public struct ActPoints: Sendable, Equatable {
    /// The findings that name the person.
    public var findings: [FindingScore]
    /// The one-time score: the sum over findings.
    public var points: Int
    /// Status effects of institution-event situations.
    public var statusEffects: Set<InstitutionStatusEffect>

    /// Scores `act` for `person` under `pack`.
    ///
    /// - Throws: `situation-not-applicable` when the act uses a situation the pack does not have.
    public static func score(_ act: ScoringAct, person: String, pack: RulePack) throws(ScoringError) -> ActPoints {
        var findings: [FindingScore] = []
        var effects = Set<InstitutionStatusEffect>()
        for (findingIndex, finding) in act.findings.enumerated() {
            for responsible in finding.persons where responsible.code == person {
                var scores: [SituationScore] = []
                for situation in finding.situations {
                    let score = try scoreSituation(situation, responsible: responsible, pack: pack, act: act, findingIndex: findingIndex)
                    if case .institutionStatus(let effect) = score.rule { effects.insert(effect) }
                    scores.append(score)
                }
                let points = scores.compactMap(\.points).max() ?? 0
                findings.append(FindingScore(
                    violation: finding.violation, responsibility: responsible.responsibility,
                    adjustment: responsible.adjustment, situations: scores, points: points))
            }
        }
        return ActPoints(findings: findings, points: findings.reduce(0) { $0 + $1.points }, statusEffects: effects)
    }

    private static func scoreSituation(
        _ situation: SituationCode, responsible: ResponsiblePerson, pack: RulePack, act: ScoringAct, findingIndex: Int
    ) throws(ScoringError) -> SituationScore {
        let rule = pack.rule(for: situation)
        let responsibility = responsible.responsibility
        let adjustment = responsible.adjustment
        switch rule {
        case .notApplicable:
            throw ScoringError(
                code: .situationNotApplicable, source: act.id.description, field: "/body/findings/\(findingIndex)/situations",
                message: "situation \"\(situation.rawValue)\" is not applicable under the \(pack.name) rules")
        case .institutionStatus:
            return SituationScore(situation: situation, rule: rule, base: nil, points: nil, responsibility: responsibility, adjustment: adjustment)
        case .fixed(let points):
            return SituationScore(situation: situation, rule: rule, base: points, points: points, responsibility: responsibility, adjustment: adjustment)
        case .tier(let tierName):
            let tier = pack.tiers[tierName] ?? pack.scale
            let offset = pack.responsibilityOffsets[responsibility] ?? 0
            let base = min(tier.lowerBound + offset, tier.upperBound)
            var points = base
            if adjustment != .none, let rule = pack.adjustments[adjustment] {
                let bounds = rule.bound == .tier ? tier : pack.scale
                points = min(max(base + rule.delta, bounds.lowerBound), bounds.upperBound)
            }
            return SituationScore(situation: situation, rule: rule, base: base, points: points, responsibility: responsibility, adjustment: adjustment)
        }
    }
}
