import StrictJSON

extension RulePackLoader {
    /// Checks the relations between settings that the shape alone cannot: ordered, non-overlapping
    /// tiers, thresholds and bands, and references between keys.
    static func validate(_ pack: RulePack, root: JSONNode) throws(JSONDecodingError) {
        func fail(_ pointer: String, _ message: String) -> JSONDecodingError {
            JSONDecodingError(pointer: pointer, line: root.line(at: pointer), message: message)
        }
        let orderedTiers = TierName.allCases.compactMap { pack.tiers[$0] }
        for (index, tier) in orderedTiers.enumerated() {
            let name = TierName.allCases[index].rawValue
            guard pack.scale.contains(tier.lowerBound), pack.scale.contains(tier.upperBound) else {
                throw fail("/tiers/\(name)", "tier \(name) \(tier) lies outside the scale \(pack.scale)")
            }
            if index > 0, orderedTiers[index - 1].upperBound >= tier.lowerBound {
                throw fail("/tiers/\(name)", "tier \(name) overlaps the tier below it")
            }
        }
        for responsibility in Responsibility.allCases {
            for (index, tier) in orderedTiers.enumerated()
            where tier.lowerBound + (pack.responsibilityOffsets[responsibility] ?? 0) > tier.upperBound {
                throw fail("/responsibility/\(responsibility.rawValue)",
                           "offset takes tier \(TierName.allCases[index].rawValue) above its high end")
            }
        }
        for situation in SituationCode.allCases {
            if case .fixed(let points) = pack.rule(for: situation), !pack.scale.contains(points) {
                throw fail(JSONObject.join("/situations", situation.rawValue), "fixed points \(points) lie outside the scale \(pack.scale)")
            }
        }
        for situation in pack.fraudSituations.sorted() where pack.rule(for: situation) == .notApplicable {
            throw fail("/fraudSituations", "\"\(situation.rawValue)\" is marked not applicable in /situations")
        }
        let steps = pack.sanctions.steps
        guard !steps.isEmpty else { throw fail("/sanctions/steps", "the suspension ladder has no rows") }
        for (index, step) in steps.enumerated() {
            if index > 0, steps[index - 1].total >= step.total {
                throw fail("/sanctions/steps/\(index)/total", "threshold \(step.total) overlaps or is below the row before it (\(steps[index - 1].total))")
            }
            if step.total >= pack.sanctions.terminationTotal {
                throw fail("/sanctions/steps/\(index)/total", "threshold \(step.total) overlaps the termination total \(pack.sanctions.terminationTotal)")
            }
        }
        let bands = pack.notices.sorted { $0.from < $1.from }
        for (index, band) in bands.enumerated() {
            if let to = band.to, to < band.from {
                throw fail("/notices/\(index)/to", "band ends (\(to)) before it starts (\(band.from))")
            }
            if index > 0, bands[index - 1].to.map({ $0 >= band.from }) ?? true {
                throw fail("/notices/\(index)/from", "band from \(band.from) overlaps the band before it")
            }
        }
        for category in RepairCategory.allCases {
            guard let rule = pack.repair.categories[category] else { continue }
            let pointer = "/repair/categories/\(category.rawValue)"
            if let group = rule.capGroup, pack.repair.capGroups[group] == nil {
                throw fail(pointer + "/capGroup", "cap group \"\(group)\" is not defined in /repair/capGroups")
            }
            if let examBands = rule.examBands {
                let sorted = examBands.sorted { $0.scores.lowerBound < $1.scores.lowerBound }
                for index in sorted.indices.dropFirst() where sorted[index - 1].scores.upperBound >= sorted[index].scores.lowerBound {
                    throw fail(pointer + "/examBands", "exam bands overlap at score \(sorted[index].scores.lowerBound)")
                }
            }
        }
    }
}
