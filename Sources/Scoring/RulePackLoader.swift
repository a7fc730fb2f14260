import StrictJSON

/// Loads and validates rule packs from their JSON text.
///
/// A broken pack fails with a ``ScoringError`` (code `rules-invalid`) naming the file, the key and the
/// problem: unknown keys, overlapping thresholds or bands, a situation mapped to no tier, bad values.
public enum RulePackLoader {
    /// Decodes a pack from the bytes of a pack file; `source` names the file in errors.
    public static func load<Bytes: Collection>(_ bytes: Bytes, source: String) throws(ScoringError) -> RulePack
    where Bytes.Element == UInt8 {
        let root: JSONNode
        do {
            root = try JSONParser().parse(bytes)
        } catch {
            throw ScoringError(code: .rulesInvalid, source: source, line: error.line, message: "not valid JSON: \(error.message)")
        }
        do {
            let pack = try decode(root)
            try validate(pack, root: root)
            return pack
        } catch {
            throw ScoringError(code: .rulesInvalid, source: source, field: error.pointer, line: error.line, message: error.message)
        }
    }

    private static let topKeys: Set<String> = [
        "$schema", "pack", "title", "tiers", "responsibility", "adjustments", "scale", "situations",
        "fraudSituations", "scoreDate", "sanctions", "notices", "institutionEvents", "indicators", "repair",
        "restoration", "deadlines", "practice", "referral",
    ]

    private static func decode(_ root: JSONNode) throws(JSONDecodingError) -> RulePack {
        let object = try JSONObject(root, pointer: "", allowedKeys: topKeys)
        let name = try object.string("pack", maxLength: 64)
        let title = try object.string("title")

        var tiers: [TierName: ClosedRange<Int>] = [:]
        let tiersObject = try object.object("tiers", allowedKeys: Set(TierName.allCases.map(\.rawValue)))
        for tier in TierName.allCases {
            tiers[tier] = try range(tiersObject, tier.rawValue)
        }

        var offsets: [Responsibility: Int] = [:]
        let offsetObject = try object.object("responsibility", allowedKeys: Set(Responsibility.allCases.map(\.rawValue)))
        for responsibility in Responsibility.allCases {
            offsets[responsibility] = try offsetObject.int(responsibility.rawValue, in: 0...11)
        }

        var adjustments: [Adjustment: AdjustmentRule] = [.none: AdjustmentRule(delta: 0, bound: .tier)]
        let adjustable = Adjustment.allCases.filter { $0 != .none }
        let adjustmentObject = try object.object("adjustments", allowedKeys: Set(adjustable.map(\.rawValue)))
        for adjustment in adjustable {
            let rule = try adjustmentObject.object(adjustment.rawValue, allowedKeys: ["delta", "bound"])
            adjustments[adjustment] = AdjustmentRule(
                delta: try rule.int("delta", in: -11...11), bound: try rule.enumeration("bound"))
        }

        let scale = try range(object, "scale")

        var situations: [SituationCode: SituationRule] = [:]
        let situationsNode = try object.object("situations", allowedKeys: Set(SituationCode.allCases.map(\.rawValue)))
        for situation in SituationCode.allCases {
            guard let node = situationsNode.node(situation.rawValue) else {
                throw situationsNode.error(situation.rawValue, "situation \"\(situation.rawValue)\" is mapped to no tier, points, status or \"not-applicable\"")
            }
            situations[situation] = try situationRule(node, pointer: situationsNode.pointer(of: situation.rawValue))
        }

        var fraud = Set<SituationCode>()
        for element in try object.array("fraudSituations") {
            fraud.insert(try JSONObject.enumeration(element.node, pointer: element.pointer, as: SituationCode.self))
        }

        var pack = RulePack(
            name: name, title: title, tiers: tiers, responsibilityOffsets: offsets, adjustments: adjustments,
            scale: scale, situations: situations, fraudSituations: fraud,
            scoreDate: try object.enumeration("scoreDate"),
            sanctions: try sanctions(try object.object("sanctions", allowedKeys: ["steps", "termination", "crossing", "overlap"])),
            notices: try notices(object),
            institutionEvents: try institutionEvents(try object.object("institutionEvents", allowedKeys: ["terminationBanYears", "repeatSuspensionDays"])),
            indicators: IndicatorRules(
                overThresholdShare: try object.object("indicators", allowedKeys: ["overThresholdShare"])
                    .double("overThresholdShare", in: 0...1)),
            repair: try repair(try object.object("repair", allowedKeys: [
                "categories", "capGroups", "barOneTimeScore", "halfPeriodFirst", "shortening",
            ])),
            restoration: try restoration(try object.object("restoration", allowedKeys: ["windowWorkingDays", "automatic"])),
            deadlines: try deadlines(object))
        if let practice = try object.optionalObject("practice", allowedKeys: ["blockingEvents"]) {
            var events: [PracticeEvent] = []
            for element in try practice.array("blockingEvents", maxCount: PracticeEvent.allCases.count) {
                let event = try JSONObject.enumeration(element.node, pointer: element.pointer, as: PracticeEvent.self)
                guard !events.contains(event) else {
                    throw JSONDecodingError(pointer: element.pointer, line: element.node.line, message: "\"\(event.rawValue)\" is listed twice")
                }
                events.append(event)
            }
            pack.practice = PracticeRules(blockingEvents: events)
        }
        if let referral = try object.optionalObject("referral", allowedKeys: ["replyWorkingDays"]) {
            pack.referral = ReferralRules(replyWorkingDays: try referral.int("replyWorkingDays", in: 1...365))
        }
        return pack
    }

    private static func institutionEvents(_ object: JSONObject) throws(JSONDecodingError) -> InstitutionEventRules {
        var rules = InstitutionEventRules(terminationBanYears: try object.int("terminationBanYears", in: 0...50))
        if object.node("repeatSuspensionDays") != nil { rules.repeatSuspensionDays = try object.int("repeatSuspensionDays", in: 1...3650) }
        return rules
    }

    private static func range(_ object: JSONObject, _ key: String) throws(JSONDecodingError) -> ClosedRange<Int> {
        let elements = try object.array(key, maxCount: 2)
        guard elements.count == 2 else { throw object.error(key, "expected [low, high]") }
        let low = try JSONObject.int(elements[0].node, pointer: elements[0].pointer, in: 0...100)
        let high = try JSONObject.int(elements[1].node, pointer: elements[1].pointer, in: 0...100)
        guard low <= high else { throw object.error(key, "low \(low) is above high \(high)") }
        return low...high
    }

    private static func situationRule(_ node: JSONNode, pointer: String) throws(JSONDecodingError) -> SituationRule {
        if case .string(let text) = node.value {
            guard text == "not-applicable" else {
                throw JSONDecodingError(pointer: pointer, line: node.line, message: "expected \"not-applicable\" or an object, found \"\(text)\"")
            }
            return .notApplicable
        }
        let object = try JSONObject(node, pointer: pointer, allowedKeys: ["tier", "points", "status"])
        let present = ["tier", "points", "status"].filter { object.node($0) != nil }
        guard present.count == 1 else {
            throw JSONDecodingError(pointer: pointer, line: node.line, message: "give exactly one of \"tier\", \"points\", \"status\"")
        }
        if let tier = try object.optionalEnumeration("tier", as: TierName.self) { return .tier(tier) }
        if let points = try object.optionalInt("points", in: 0...100) { return .fixed(points) }
        return .institutionStatus(try object.enumeration("status"))
    }

    private static func sanctions(_ object: JSONObject) throws(JSONDecodingError) -> SanctionRules {
        var steps: [SanctionRules.Step] = []
        for element in try object.array("steps", maxCount: 50) {
            let step = try JSONObject(element.node, pointer: element.pointer, allowedKeys: ["total", "months", "oneTimeMonths"])
            steps.append(SanctionRules.Step(
                total: try step.int("total", in: 1...100), months: try step.int("months", in: 1...120),
                oneTimeMonths: try step.int("oneTimeMonths", in: 1...120)))
        }
        let termination = try object.object("termination", allowedKeys: ["total", "banYears", "oneTimeBanYears"])
        return SanctionRules(
            steps: steps, terminationTotal: try termination.int("total", in: 1...100),
            banYears: try termination.int("banYears", in: 0...50),
            oneTimeBanYears: try termination.int("oneTimeBanYears", in: 0...50),
            crossing: try object.enumeration("crossing"), overlap: try object.enumeration("overlap"))
    }

    private static func notices(_ object: JSONObject) throws(JSONDecodingError) -> [NoticeBand] {
        var bands: [NoticeBand] = []
        for element in try object.array("notices", maxCount: 50) {
            let band = try JSONObject(element.node, pointer: element.pointer, allowedKeys: ["from", "to", "actions"])
            var actions: [Notice] = []
            for action in try band.array("actions", maxCount: 20) {
                actions.append(try JSONObject.enumeration(action.node, pointer: action.pointer, as: Notice.self))
            }
            bands.append(NoticeBand(
                from: try band.int("from", in: 0...100), to: try band.optionalInt("to", in: 0...100),
                actions: actions.sorted()))
        }
        return bands
    }

    private static func repair(_ object: JSONObject) throws(JSONDecodingError) -> RepairRules {
        var categories: [RepairCategory: RepairRules.Category] = [:]
        let categoryObject = try object.object("categories", allowedKeys: Set(RepairCategory.allCases.map(\.rawValue)))
        for category in RepairCategory.allCases {
            guard let node = categoryObject.node(category.rawValue) else { continue }
            if case .string("not-applicable") = node.value { continue }
            let pointer = categoryObject.pointer(of: category.rawValue)
            let rule = try JSONObject(node, pointer: pointer, allowedKeys: ["points", "fraudPoints", "examBands", "capGroup"])
            var bands: [RepairRules.ExamBand]?
            if let list = try rule.optionalArray("examBands", maxCount: 20) {
                var decoded: [RepairRules.ExamBand] = []
                for element in list {
                    let band = try JSONObject(element.node, pointer: element.pointer, allowedKeys: ["from", "to", "points"])
                    let from = try band.int("from", in: 0...100)
                    let to = try band.int("to", in: 0...100)
                    guard from <= to else { throw band.error("to", "band ends (\(to)) before it starts (\(from))") }
                    decoded.append(RepairRules.ExamBand(scores: from...to, points: try band.int("points", in: 0...12)))
                }
                bands = decoded
            }
            categories[category] = RepairRules.Category(
                points: try rule.optionalInt("points", in: 0...12) ?? 0,
                fraudPoints: try rule.optionalInt("fraudPoints", in: 0...12),
                examBands: bands, capGroup: try rule.optionalString("capGroup", maxLength: 64))
        }
        var caps: [String: Int] = [:]
        guard let capNode = object.node("capGroups") else { throw object.error("capGroups", "missing required field \"capGroups\"") }
        for member in try JSONObject.members(capNode, pointer: object.pointer(of: "capGroups")) {
            caps[member.key] = try JSONObject.int(member.node, pointer: member.pointer, in: 0...100)
        }
        let shortening = try object.object("shortening", allowedKeys: ["mode", "months"])
        let mode = try shortening.string("mode", maxLength: 16)
        let rule: RepairRules.Shortening
        switch mode {
        case "table": rule = .table
        case "fixed": rule = .fixed(months: try shortening.int("months", in: 1...120))
        default: throw shortening.error("mode", "\"\(mode)\" is not one of \"table\", \"fixed\"")
        }
        return RepairRules(
            categories: categories, capGroups: caps, barOneTimeScore: try object.int("barOneTimeScore", in: 1...100),
            halfPeriodFirst: try object.bool("halfPeriodFirst"), shortening: rule)
    }

    private static func restoration(_ object: JSONObject) throws(JSONDecodingError) -> RestorationRules {
        RestorationRules(
            windowWorkingDays: try object.int("windowWorkingDays", in: 0...100), automatic: try object.bool("automatic"))
    }

    private static func deadlines(_ object: JSONObject) throws(JSONDecodingError) -> [String: Int] {
        guard let node = object.node("deadlines") else { throw object.error("deadlines", "missing required field \"deadlines\"") }
        var result: [String: Int] = [:]
        for member in try JSONObject.members(node, pointer: object.pointer(of: "deadlines")) {
            result[member.key] = try JSONObject.int(member.node, pointer: member.pointer, in: 1...365)
        }
        return result
    }
}
