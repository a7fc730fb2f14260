import Bulletins
import Ledger
import Scoring
import StrictJSON
import Trust

/// The overdue notices of Decision D2 (exchange-flows.md §0.2): on the day after a tracked step's due date,
/// when the step is not done, one `ScoreNotice` `overdue-deadline` to the participant that owes the step and
/// to the insurance agency of the target's region. Its id and `issuedAt` come from the step alone, so it is
/// issued once however often the gateway looks, and across restarts.
struct OverdueNotices: Sendable {
    let routing: OutboundRouting
    let projection: FactProjection
    let directory: Directory
    /// Who a referral was sent to (its steps are owed by its recipient).
    let ledger: any LedgerStore

    /// The steps the gateway sees done, each with someone who owes it: the others are `passed`, not overdue.
    static let tracked: Set<String> = ["final-without-objection", "referral-reply", "referral-final"]
    /// How long after its due date a step still gets its notice: a gateway that was stopped for a while
    /// catches up, but one that starts on an old log (or the first time with this version) does not send a
    /// notice for every step that ever went overdue. The deadline report lists them all.
    static let catchUpDays = 31

    /// The notices of every tracked step overdue on `today`, unsigned, in the deadline report's order.
    func drafts(on today: CalendarDate) async throws -> [OutboundDraft] {
        let scorer = projection.scoring
        var drafts: [OutboundDraft] = []
        for item in try DeadlineReport.items(facts: projection.allFacts(), scorer: scorer, on: today, overdueOnly: true)
        where Self.tracked.contains(item.step) && item.due.adding(days: Self.catchUpDays) >= today {
            guard let target = item.act, let draft = try await draft(for: item, target: target, pack: scorer.pack.name) else { continue }
            drafts.append(draft)
        }
        return drafts
    }

    private func draft(for item: DeadlineItem, target: FactID, pack: String) async throws -> OutboundDraft? {
        let owedBy: [String]
        let region: String
        let person: String?
        let institutions: [String]
        switch projection.fact(target) {
        case .referral(let referral)?:
            // The regulators it went to owe the reply; the insurance administration only has a copy (D18).
            let queued = try await ledger.deliveries(ofBulletin: referral.id.issuer, id: referral.id.id).map(\.recipient)
            let regulators = queued.filter { [.health, .drug].contains(routing.role(of: $0)) }
            owedBy = (regulators.isEmpty ? queued.filter { routing.role(of: $0) == nil } : regulators).sorted()
            (region, person) = (referral.region, referral.person)
            institutions = directory.workplaces(of: referral.person)
        case .act(let act)?:
            guard let decided = directory.decision(act.id)?.region else { return nil }
            region = decided
            owedBy = routing.recipients(.insuranceAgency, region: region)
            (person, institutions) = (nil, act.institutions)
        default:
            return nil
        }
        let recipients = orderedUnion(owedBy, routing.recipients(.insuranceAgency, region: region))
        var reference = [("issuer", JSONText.quoted(target.issuer)), ("id", JSONText.quoted(target.id))]
        if let number = directory.decision(target)?.decisionNo { reference.append(("decisionNo", JSONText.quoted(number))) }
        var body: [(String, String)] = [("notice", JSONText.quoted("overdue-deadline"))]
        if let person { body.append(("person", JSONText.object(directory.personMembers(person)))) }
        body += [
            ("institutions", JSONText.array(institutions)), ("act", JSONText.object(reference)),
            ("deadline", JSONText.object([("step", JSONText.quoted(item.step)), ("due", JSONText.quoted(item.due.description))])),
            ("detail", JSONText.quoted(Self.detail(step: item.step, due: item.due, owedBy: owedBy))),
        ]
        return OutboundDraft(
            id: Self.id(step: item.step, target: target, person: person), type: .scoreNotice, region: region, rules: pack,
            issuedAt: "\(item.due.adding(days: 1))T00:00:00+08:00", body: JSONText.object(body), recipients: recipients)
    }

    /// `OD-` and 24 hex digits of SHA-256 over the step, the target and the person (`-` for a step of the
    /// whole act): one notice per overdue step, and no personal code in the id.
    static func id(step: String, target: FactID, person: String?) -> String {
        "OD-" + String(SHA256.hex(Array("\(step)\n\(target.issuer)\n\(target.id)\n\(person ?? "-")".utf8)).prefix(24))
    }

    static func detail(step: String, due: CalendarDate, owedBy: [String]) -> String {
        let what = switch step {
        case "referral-reply": "移送处理情况反馈"
        case "referral-final": "移送处理最终结果反馈"
        default: "最终记分处理决定"
        }
        return "\(what)已于\(due)到期，尚未收到（应由\(owedBy.joined(separator: "、"))完成）。请督促办理。"
    }
}
