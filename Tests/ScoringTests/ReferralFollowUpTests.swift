import Foundation
import Scoring
import Testing

/// Referral follow-up replies (exchange-flows.md §2): the reply period from the issue date (D12, D13), the
/// final reply an interim one announces, replacement by a later referral (D14), and the person file.
struct ReferralFollowUpTests {
    let guangdong: Scorer

    init() throws {
        guangdong = Scorer(pack: try Fixtures.pack("guangdong"), calendar: Fixtures.calendar)
    }

    func referral(_ id: String, issued: String, at seconds: Int = 0, sanction: ReferralFact.Sanction = .suspended, months: Int = 3,
                  person: String = "D1") -> Fact {
        let start = d(issued).dayNumber * 86_400 - 8 * 3600
        return .referral(ReferralFact(id: FactID(issuer: "440800-GATEWAY", id: id), person: person, sanction: sanction, from: d(issued),
                                      until: sanction == .lifted ? nil : d(issued).adding(months: months), issuedOn: d(issued), issuedAt: start + seconds,
                                      region: "440800", cause: FactID(issuer: issuer, id: "A-" + id)))
    }

    func reply(_ id: String, to referral: String, _ stage: ReferralReplyFact.Stage, _ result: ReferralReplyFact.Result, accepted: String,
               expectedBy: String? = nil) -> Fact {
        .referralReply(ReferralReplyFact(id: FactID(issuer: "440800-HEALTH", id: id), referral: FactID(issuer: "440800-GATEWAY", id: referral),
                                         stage: stage, result: result, decidedOn: d(accepted).adding(days: -1), decisionNo: "湛卫医监〔2025〕\(id)号",
                                         expectedBy: expectedBy.map(d), acceptedOn: d(accepted)))
    }

    /// The deadline items of `facts` on `date`, as `step:state:due`, checked to be the same in both orders.
    func deadlines(_ facts: [Fact], on date: String) throws -> [String] {
        let items = try DeadlineReport.items(facts: facts, scorer: guangdong, on: d(date), overdueOnly: false).map { "\($0.step):\($0.state.rawValue):\($0.due)" }
        let reversed = try DeadlineReport.items(facts: facts.reversed(), scorer: guangdong, on: d(date), overdueOnly: false)
            .map { "\($0.step):\($0.state.rawValue):\($0.due)" }
        #expect(items == reversed, "arrival order changes nothing")
        return items
    }

    @Test("the reply period counts 20 working days from the issue date (D12, D13): the examples' dates")
    func replyDueDates() throws {
        let pack = try Fixtures.pack("guangdong")
        for (issued, due) in [("2025-09-26", "2025-10-30"), ("2025-04-25", "2025-05-27"), ("2025-07-02", "2025-07-30")] {
            #expect(ReferralFollowUp.replyDue(issuedOn: d(issued), pack: pack, calendar: Fixtures.calendar)?.date == d(due), "\(issued)")
        }
        #expect(pack.referral.replyWorkingDays == 20)
    }

    @Test("§2.4 example 1: issued Fri 09-26, respondBy Thu 10-30; a final reply accepted 10-29 meets it")
    func example1() throws {
        let facts = [act("A-REF-1", on: "2025-09-22", [.otherT4]), referral("REF-1", issued: "2025-09-26"),
                     reply("R-1", to: "REF-1", .final, .education, accepted: "2025-10-29")]
        let referralSteps = { (date: String) in try self.deadlines(facts, on: date).filter { $0.hasPrefix("referral") } }
        #expect(try referralSteps("2025-10-20") == ["referral-reply:open:2025-10-30"], "before the reply")
        #expect(try referralSteps("2025-10-29") == ["referral-reply:met:2025-10-30"])
        #expect(try referralSteps("2025-12-31") == ["referral-reply:met:2025-10-30"])
        let file = try guangdong.state(facts, asOf: "2025-10-29")
        #expect(file.referrals.map(\.state) == [.closed] && file.referrals.first?.respondBy == d("2025-10-30"))
        #expect(try guangdong.state(facts, asOf: "2025-10-28").referrals.map(\.state) == [.open])
        // Without the reply it would be overdue from Fri 10-31.
        let unanswered = Array(facts.prefix(2))
        #expect(try deadlines(unanswered, on: "2025-10-30").filter { $0.hasPrefix("referral") } == ["referral-reply:open:2025-10-30"])
        #expect(try deadlines(unanswered, on: "2025-10-31").filter { $0.hasPrefix("referral") } == ["referral-reply:overdue:2025-10-30"])
        #expect(try guangdong.state(unanswered, asOf: "2025-10-31").referrals.map(\.state) == [.overdue])
    }

    @Test("§2.4 example 2: an interim reply of 05-20 meets referral-reply; its expectedBy 06-30 passes with no final one: overdue on 07-01")
    func example2() throws {
        let facts = [referral("REF-2", issued: "2025-04-25"),
                     reply("R-2", to: "REF-2", .interim, .investigating, accepted: "2025-05-20", expectedBy: "2025-06-30")]
        #expect(try deadlines(facts, on: "2025-05-19") == ["referral-reply:open:2025-05-27"])
        #expect(try deadlines(facts, on: "2025-05-20") == ["referral-reply:met:2025-05-27", "referral-final:open:2025-06-30"])
        #expect(try deadlines(facts, on: "2025-06-30") == ["referral-reply:met:2025-05-27", "referral-final:open:2025-06-30"])
        #expect(try deadlines(facts, on: "2025-07-01") == ["referral-reply:met:2025-05-27", "referral-final:overdue:2025-06-30"])
        #expect(try guangdong.state(facts, asOf: "2025-06-01").referrals.map(\.state) == [.answeredInterim])
        #expect(try guangdong.state(facts, asOf: "2025-07-01").referrals.map(\.state) == [.overdue])
        // A final reply after expectedBy is late, and closes the referral.
        let late = facts + [reply("R-3", to: "REF-2", .final, .warning, accepted: "2025-07-03")]
        #expect(try deadlines(late, on: "2025-07-10") == ["referral-reply:met:2025-05-27", "referral-final:late:2025-06-30"])
        #expect(try guangdong.state(late, asOf: "2025-07-10").referrals.map(\.state) == [.closed])
    }

    @Test("§2.4 example 3 (D14): a lifted referral of 07-20 cancels the open referral-reply of the one of 07-02, and asks for no reply itself")
    func example3() throws {
        let facts = [referral("REF-4", issued: "2025-07-02"), referral("REF-5", issued: "2025-07-20", sanction: .lifted)]
        #expect(try deadlines(facts, on: "2025-07-10") == ["referral-reply:open:2025-07-30"], "the lifted one is not issued yet")
        #expect(try deadlines(facts, on: "2025-07-20") == ["referral-reply:cancelled:2025-07-30"])
        #expect(try deadlines(facts, on: "2025-08-31") == ["referral-reply:cancelled:2025-07-30"], "never overdue once replaced")
        let file = try guangdong.state(facts, asOf: "2025-07-20").referrals
        #expect(file.map(\.state) == [.cancelled, .closed] && file.last?.respondBy == nil)
        // A reply before the replacement still meets it.
        let answered = facts + [reply("R-6", to: "REF-4", .final, .noAction, accepted: "2025-07-15")]
        #expect(try deadlines(answered, on: "2025-07-20") == ["referral-reply:met:2025-07-30"])
    }

    @Test("a reply to a referral the facts do not hold is on no one's file; replies never change points or status")
    func repliesNeverScore() throws {
        let scoring = [act("A1", on: "2025-03-03", [.otherT3]), referral("REF-7", issued: "2025-03-04")]
        let replies = [reply("R-7", to: "REF-7", .final, .licenceRevoked, accepted: "2025-03-20"),
                       reply("R-8", to: "REF-NONE", .final, .education, accepted: "2025-03-20")]
        let without = try guangdong.state(scoring, asOf: "2025-04-01")
        let with = try guangdong.state(scoring + replies, asOf: "2025-04-01")
        #expect((with.points, with.status, with.until) == (without.points, without.status, without.until))
        #expect(with.referrals.flatMap(\.replies).map(\.id.id) == ["R-7"])
    }

    @Test("referral.replyWorkingDays is the pack's setting")
    func setting() throws {
        var pack = try Fixtures.pack("guangdong")
        pack.referral = ReferralRules(replyWorkingDays: 10)
        let items = try DeadlineReport.items(facts: [referral("REF-8", issued: "2025-04-25")], scorer: Scorer(pack: pack, calendar: Fixtures.calendar),
                                             on: d("2025-05-01"), overdueOnly: false)
        #expect(items.map(\.due) == [Fixtures.calendar.countWorkingDays(10, from: d("2025-04-25")).date])
    }

    @Test("the person file lists each referral with its replies")
    func personFile() throws {
        let facts = [referral("REF-2", issued: "2025-04-25"),
                     reply("R-2", to: "REF-2", .interim, .investigating, accepted: "2025-05-20", expectedBy: "2025-06-30")]
        let line = ReplayLine.render(try guangdong.state(facts, asOf: "2025-06-01"), explain: true)
        #expect(line.contains(#""referrals":[{"referral":{"issuer":"440800-GATEWAY","id":"REF-2"},"sanction":"suspended","from":"2025-04-25","until":"2025-07-25","respondBy":"2025-05-27","state":"answered-interim","replies":[{"issuer":"440800-HEALTH","id":"R-2","stage":"interim","result":"investigating","decidedOn":"2025-05-19","decisionNo":"湛卫医监〔2025〕R-2号","acceptedOn":"2025-05-20"}]}]"#), "\(line)")
    }

    @Test("D14 within a day: the referral issued later replaces the earlier one, whatever their ids")
    func sameDayReplacement() throws {
        // REF-Z is issued at 09:00, REF-A (lifting it) at 15:00 the same day: ids sort the other way.
        let facts = [referral("REF-Z", issued: "2025-07-02", at: 9 * 3600), referral("REF-A", issued: "2025-07-02", at: 15 * 3600, sanction: .lifted)]
        #expect(try deadlines(facts, on: "2025-08-31") == ["referral-reply:cancelled:2025-07-30"])
        #expect(try guangdong.state(facts, asOf: "2025-08-31").referrals.map { "\($0.referral.id.id):\($0.state.rawValue)" } == ["REF-Z:cancelled", "REF-A:closed"])
        let referrals = facts.compactMap { if case .referral(let referral) = $0 { referral } else { nil } }
        #expect(ReferralFollowUp.replacement(of: referrals[0], among: referrals)?.id.id == "REF-A")
        #expect(ReferralFollowUp.replacement(of: referrals[1], among: referrals) == nil)
    }

    @Test("D14 only while the earlier sanction runs: a new case after it ended leaves its follow-up as it was; a replacement after the due date leaves an overdue step overdue")
    func replacementScope() throws {
        // One month from 03-03 (until 04-03); a new referral on 06-02 is another case.
        let separate = [referral("REF-1", issued: "2025-03-03", months: 1), referral("REF-2", issued: "2025-06-02")]
        #expect(try deadlines(separate, on: "2025-06-10") == ["referral-reply:overdue:2025-03-31", "referral-reply:open:2025-06-30"])
        // Replaced on 04-15, after its due date 03-31 (the sanction runs to 06-03): still overdue, its notice has gone out.
        let late = [referral("REF-3", issued: "2025-03-03"), referral("REF-4", issued: "2025-04-15", sanction: .lifted)]
        #expect(try deadlines(late, on: "2025-05-01") == ["referral-reply:overdue:2025-03-31"])
        #expect(try guangdong.state(late, asOf: "2025-05-01").referrals.map(\.state) == [.overdue, .closed])
        // Without a calendar there are no due dates, and a replaced referral is still cancelled.
        let plain = Scorer(pack: try Fixtures.pack("guangdong"))
        let replaced = [referral("REF-5", issued: "2025-07-02"), referral("REF-6", issued: "2025-07-20", sanction: .lifted)]
        #expect(try plain.state(replaced, asOf: "2025-08-01").referrals.map(\.state) == [.cancelled, .closed])
    }
}
