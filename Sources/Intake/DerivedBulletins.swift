import Bulletins
import Foundation
import Ledger
import Scoring
import StrictJSON
import Trust

/// What an accepted bulletin causes besides its fact: who it is forwarded to, and the bulletins the
/// gateway issues because of it. Appended with the bulletin in one transaction (the outbox pattern).
public struct Consequences: Sendable, Equatable {
    /// Recipients of the received bulletin itself (a PracticeNotice → the insurance departments concerned,
    /// a SuspectedViolation → the agency).
    public var forwardTo: [String] = []
    /// Bulletins the gateway issues: a `ScoreNotice` per person of each act, a `Referral` per new sanction.
    public var drafts: [OutboundDraft] = []
}

/// The codes of `lists` in order, each once: recipients gathered from several routes, institutions from
/// several sources.
func orderedUnion(_ lists: [String]...) -> [String] {
    var seen = Set<String>()
    return lists.joined().filter { seen.insert($0).inserted }
}

/// Derives the consequences of a received bulletin from the projection as it stands plus the new fact
/// (gateway.md §1 flows 7 and 10, §5; scoring.md §7 multi-site notices, §10 deadlines).
public struct DerivedBulletins: Sendable {
    let routing: OutboundRouting
    let projection: FactProjection
    let directory: Directory

    /// Creates the derivation.
    public init(routing: OutboundRouting, projection: FactProjection, directory: Directory) {
        self.routing = routing
        self.projection = projection
        self.directory = directory
    }

    /// The consequences of `bulletin` carrying `fact`, issued at `issuedAt`.
    public func consequences(of bulletin: Bulletin, fact: Fact?, issuedAt: String) throws(ScoringError) -> Consequences {
        var result = Consequences()
        switch bulletin.body {
        case .practiceNotice(let notice):
            result.forwardTo = practiceNoticeRecipients(person: notice.person.code, region: bulletin.region)
        case .suspectedViolation:
            result.forwardTo = routing.recipients(.insuranceAgency, region: bulletin.region)
        case .agreementHandling(let handling) where handling.measure.map(Self.reportedMeasures.contains) ?? false:
            // D18 (GDI 48): a suspension, termination or resumption of an agreement is reported at once to the
            // region's insurance administration, so its picture of the agreement stays complete.
            result.forwardTo = routing.recipients(.insuranceAdmin, region: bulletin.region)
            if handling.measure == .agreementSuspended {
                result.drafts += terminationGrounds(institution: handling.institution.code, suspendedOn: handling.decidedOn,
                                                    region: bulletin.region, rules: bulletin.rules ?? projection.scoring.pack.name, issuedAt: issuedAt)
            }
        case .referralReply(let reply):
            // Signed as received, to the insurance departments of the referral's region (SH 第七条).
            if case .referral(let referral)? = projection.fact(FactID(issuer: reply.referral.issuer, id: reply.referral.id)) {
                result.forwardTo = orderedUnion(routing.recipients(.insuranceAgency, region: referral.region),
                                                routing.recipients(.insuranceAdmin, region: referral.region))
            }
        default:
            break
        }
        guard let fact else { return result }
        let scored: (act: ScoringAct, on: CalendarDate)?
        switch fact {
        case .act(let act):
            scored = (act, act.scoredOn ?? act.decidedOn)
        case .finalDecision(let decision):
            if case .act(let target)? = projection.fact(decision.target) { scored = (target, decision.decidedOn) } else { scored = nil }
        case .correction(let correction):
            // A withdrawn act: its persons are told their new totals, and a referral made for it is lifted.
            if case .act(let target)? = projection.fact(correction.target) { scored = (target, correction.decidedOn) } else { scored = nil }
        default:
            scored = nil
        }
        guard let (act, date) = scored else { return result }
        for person in Set(act.personCodes).sorted() {
            result.drafts += try drafts(for: person, act: act, on: date, cause: fact, region: bulletin.region, issuedAt: issuedAt)
        }
        if case .act = fact { result.drafts += keySupervisionNotices(act, year: (act.scoredOn ?? act.decidedOn).year, region: bulletin.region, issuedAt: issuedAt) }
        return result
    }

    /// D41 (GD 第二十二条 重点监管): at an institution's first fraud-flagged act of a year, a `ScoreNotice`
    /// `key-supervision` to the insurance administration of the act's region. One per institution and year:
    /// the id is `KS-INSTITUTION-YEAR`, and a bulletin already issued under its id is not issued again.
    func keySupervisionNotices(_ act: ScoringAct, year: Int, region: String, issuedAt: String) -> [OutboundDraft] {
        let pack = projection.scoring.pack
        let fraud = act.fraud || act.findings.contains { $0.situations.contains(where: pack.fraudSituations.contains) }
        guard fraud else { return [] }
        let recipients = routing.recipients(.insuranceAdmin, region: region)
        return act.institutions.map { institution in
            OutboundDraft(
                id: "KS-\(institution)-\(year)", type: .scoreNotice, region: region, rules: pack.name, issuedAt: issuedAt,
                body: JSONText.object([
                    ("notice", JSONText.quoted("key-supervision")), ("institutions", JSONText.array([institution])),
                    ("act", decisionReference(act.id)),
                    ("detail", JSONText.quoted("该定点医药机构\(year)年度出现欺诈骗保行为，依规纳入重点监管对象，并及时移送相关部门。")),
                ]),
                recipients: recipients)
        }
    }

    private func drafts(for person: String, act: ScoringAct, on date: CalendarDate, cause: Fact, region: String,
                        issuedAt: String) throws(ScoringError) -> [OutboundDraft] {
        // Only the act's own history entry is read (the cause's, or the act a final decision confirms):
        // the rest of the person's file is not recorded.
        let change = try projection.change(of: person, on: date, adding: cause, history: .only(act.id))
        let after = change.after
        let withdrawal: Bool = if case .correction = cause { true } else { false }
        let applied = withdrawal ? nil : after.history.last { $0.fact == act.id && $0.kind == .act }
        let pack = projection.scoring.pack
        let workplaces = orderedUnion(directory.workplaces(of: person), act.institutions)
        let reference = decisionReference(cause.id)
        let deadlines: [WorkflowDeadline]
        if case .act = cause, let calendar = projection.scoring.calendar {
            deadlines = WorkflowSchedule.deadlines(of: act, pack: pack, calendar: calendar)
        } else {
            deadlines = []
        }
        var notice: [(String, String)] = [
            ("notice", JSONText.quoted("score")), ("person", JSONText.object(directory.personMembers(person))),
            ("institutions", JSONText.array(workplaces)), ("act", reference),
        ]
        if let applied {
            notice += [("points", String(applied.change)), ("yearTotal", String(applied.total))]
        } else if withdrawal {
            notice.append(("yearTotal", String(after.points)))
        }
        notice += [("status", JSONText.quoted(after.status.rawValue))]
        if let until = after.until { notice.append(("until", JSONText.quoted(until.description))) }
        notice.append(("actions", JSONText.array(after.actions.sorted().map(\.rawValue))))
        if !deadlines.isEmpty {
            notice.append(("deadlines", JSONText.list(deadlines.map {
                JSONText.object([("step", JSONText.quoted($0.step)), ("due", JSONText.quoted($0.due.description))]
                                + ($0.provisional ? [("provisional", "true")] : []))
            })))
        }
        notice.append(("detail", JSONText.quoted(withdrawal ? Self.withdrawalDetail(after) : Self.noticeDetail(applied: applied, after: after))))
        var drafts = [OutboundDraft(
            id: Self.derivedID("SN", cause.id, person), type: .scoreNotice, region: region, rules: pack.name, issuedAt: issuedAt,
            body: JSONText.object(notice), recipients: routing.recipients(.insuranceAgency, region: region))]

        // A referral follows a sanction the cause imposed or lifted: only then is the state before it needed.
        let sanctioned = after.status == .suspended || after.status == .terminated
        guard (applied != nil && sanctioned) || withdrawal else { return drafts }
        let before: PersonState
        if let folded = change.before { before = folded } else { before = try projection.state(of: person, on: date) }
        let wasSanctioned = before.status == .suspended || before.status == .terminated
        let changed = before.status != after.status || before.until != after.until
        if changed, (applied != nil && sanctioned) || (withdrawal && wasSanctioned) {
            // Counted from the day the gateway issues it (D13), and never dropped: past the loaded calendar
            // years it is counted on weekdays and marked provisional. A lifted sanction asks for no reply (D14).
            let issuedOn = CalendarDate(iso: String(issuedAt.prefix(10))) ?? date
            let respondBy = sanctioned ? ReferralFollowUp.replyDue(issuedOn: issuedOn, pack: pack, calendar: projection.scoring.calendar) : nil
            var referral: [(String, String)] = [
                ("person", JSONText.object(directory.personMembers(person))), ("institutions", JSONText.array(workplaces)),
                ("sanction", JSONText.quoted(sanctioned ? after.status.rawValue : "lifted")), ("from", JSONText.quoted(date.description)),
            ]
            if let until = after.until { referral.append(("until", JSONText.quoted(until.description))) }
            referral += [("points", String(after.points)), ("year", String(after.year)), ("rules", JSONText.quoted(pack.name)),
                         ("cause", reference), ("followUp", JSONText.quoted(withdrawal ? Self.liftedFollowUp(after) : Self.followUp(after)))]
            if let respondBy {
                referral.append(("respondBy", JSONText.quoted(respondBy.date.description)))
                if respondBy.provisional { referral.append(("respondByProvisional", "true")) }
            }
            // To the regulator that follows it up, copied to the region's insurance administration (D18,
            // GD 第二十九条 及时), which owes no reply.
            let kind = kind(of: act.institutions, person: person)
            drafts.append(OutboundDraft(
                id: Self.derivedID("REF", cause.id, person), type: .referral, region: region, rules: pack.name, issuedAt: issuedAt,
                body: JSONText.object(referral),
                recipients: orderedUnion(routing.recipients(routing.regulator(for: kind), region: region), routing.recipients(.insuranceAdmin, region: region))))
        }
        return drafts
    }

    /// D34 (GDI 42(一) "协议有效期内累计2次及以上被中止协议"): a second agreement suspension of an institution within
    /// 365 days of an earlier one is a ground for ending the agreement, told to the region's agency and admin
    /// as a `ScoreNotice` `termination-ground`, `TG-INSTITUTION-DECIDEDON` (the second suspension's date). A
    /// suspension that arrives late may make an earlier-arrived one the second: each pair is found whichever
    /// arrives last, and each id is issued once.
    func terminationGrounds(institution: String, suspendedOn: CalendarDate, region: String, rules: String, issuedAt: String) -> [OutboundDraft] {
        let window = projection.scoring.pack.institutionEvents.repeatSuspensionDays
        let dates = directory.agreementSuspensions(of: institution)
        // This suspension, and any later one it may have made a second, each with an earlier one within the window.
        let seconds = dates.filter { second in
            second >= suspendedOn && dates.contains { first in first < second && second.dayNumber - first.dayNumber <= window }
        }
        let recipients = orderedUnion(routing.recipients(.insuranceAgency, region: region), routing.recipients(.insuranceAdmin, region: region))
        return seconds.map { second in
            OutboundDraft(
                id: "TG-\(institution)-\(second)", type: .scoreNotice, region: region, rules: rules, issuedAt: issuedAt,
                body: JSONText.object([
                    ("notice", JSONText.quoted("termination-ground")), ("institutions", JSONText.array([institution])),
                    ("detail", JSONText.quoted("该定点医药机构于\(second)再次被中止医保协议（\(window)日内第2次），依规可作为解除医保协议的情形。")),
                ]),
                recipients: recipients)
        }
    }

    /// The agreement measures reported to the insurance administration as they happen (D18, GDI 48).
    static let reportedMeasures: Set<AgreementMeasure> = [.servicesSuspended, .agreementSuspended, .agreementTerminated, .agreementResumed]

    /// Decision D37: the insurance agency and the insurance admin of the notice's region (JN 三(二)(三),
    /// SH 第七条), and the agency of every other region where the person works (JN 四(六) 跨区域联动), in that
    /// order, each once.
    func practiceNoticeRecipients(person: String, region: String) -> [String] {
        let elsewhere = Set(directory.workplaces(of: person).flatMap { directory.regions(ofInstitution: $0) }).subtracting([region]).sorted()
        let recipients = routing.recipients(.insuranceAgency, region: region) + routing.recipients(.insuranceAdmin, region: region)
            + elsewhere.flatMap { routing.recipients(.insuranceAgency, region: $0) }
        return orderedUnion(recipients)
    }

    /// The institution kind that decides the regulator: the first known kind of the act's institutions,
    /// else pharmacy for a pharmacy principal, else medical.
    func kind(of institutions: [String], person: String) -> InstitutionKind {
        if let known = institutions.lazy.compactMap({ directory.institution($0).kind }).first { return known }
        return directory.person(person).category == .pharmacyPrincipal ? .pharmacy : .medical
    }

    private func decisionReference(_ id: FactID) -> String {
        var members = [("issuer", JSONText.quoted(id.issuer)), ("id", JSONText.quoted(id.id))]
        if let number = directory.decision(id)?.decisionNo { members.append(("decisionNo", JSONText.quoted(number))) }
        return JSONText.object(members)
    }


    /// A derived bulletin's id: the prefix and 24 hex digits of SHA-256 over the cause and the person, so the
    /// same cause always gives the same id (and never a personal code in an id).
    static func derivedID(_ prefix: String, _ cause: FactID, _ person: String) -> String {
        "\(prefix)-" + String(SHA256.hex(Array("\(cause.issuer)\n\(cause.id)\n\(person)".utf8)).prefix(24))
    }

    static func noticeDetail(applied: HistoryEntry?, after: PersonState) -> String {
        guard let applied else {
            return "暂定记分，尚未生效：待最终记分决定（FinalScoreDecision）后记分。请按流程告知本人及其执业的全部定点医药机构。"
        }
        let sanction = switch after.status {
        case .normal: "未达暂停或终止医保支付资格的标准"
        case .suspended: after.until.map { "暂停医保支付资格至\($0)前" } ?? "暂停医保支付资格（待恢复）"
        case .terminated: after.until.map { "终止医保支付资格，\($0)前不得重新登记备案" } ?? "终止医保支付资格"
        }
        return "本次记分\(applied.change)分，本年度累计\(applied.total)分；\(sanction)。请告知本人及其执业的全部定点医药机构。"
    }

    static func withdrawalDetail(_ after: PersonState) -> String {
        "更正：原记分决定已撤销，本年度累计记分调整为\(after.points)分，当前状态：\(after.status.rawValue)。请告知本人及其执业的全部定点医药机构。"
    }

    static func liftedFollowUp(_ state: PersonState) -> String {
        state.status == .normal
            ? "原移送所依据的记分决定已撤销，该人员医保支付资格的暂停或终止随之解除，原移送事项终止。"
            : "原移送所依据的记分决定已撤销，该人员的处理已按更正后的累计记分（\(state.points)分）调整，请按本通报更新。"
    }

    static func followUp(_ state: PersonState) -> String {
        let what = state.status == .terminated ? "终止医保支付资格" : "暂停医保支付资格"
        return "该人员已被\(what)（累计记分\(state.points)分）。请依职责对其执业行为开展监督检查，按规定处理，并将结果反馈医保部门。"
    }
}
