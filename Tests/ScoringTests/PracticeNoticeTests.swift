import Foundation
import Scoring
import Testing

/// Practice notices on the person's file and their effect on eligibility (exchange-flows.md §8, Decision D38).
struct PracticeNoticeTests {
    let guangdong: Scorer

    init() throws {
        guangdong = Scorer(pack: try Fixtures.pack("guangdong"), calendar: Fixtures.calendar)
    }

    func notice(_ id: String, _ event: PracticeEvent, decided: String, from: String, until: String? = nil, person: String = "D1") -> Fact {
        .practice(PracticeNoticeFact(
            id: FactID(issuer: "440800-HEALTH", id: id), person: person, event: event, decisionNo: "湛卫医罚〔2025〕\(id)号",
            decidedOn: d(decided), effectiveFrom: d(from), effectiveUntil: until.map(d), institutions: ["H44080200001"],
            certificate: PracticeCertificate(kind: "practising", number: "110440800000321")))
    }

    /// The §8 example: a practice suspension 2025-08-15 → 2026-02-15, a scoring suspension 09-01 → 10-01
    /// (3 + 6 points on one day: 9 cumulative, one month; the restoration applied for within guangdong's window
    /// and approved), an assessment failure of 11-03 recorded only.
    var example: [Fact] {
        [notice("PN-1", .practiceSuspended, decided: "2025-08-11", from: "2025-08-15", until: "2026-02-15"),
         act("A1", on: "2025-09-01", [.otherT1]),
         act("A2", on: "2025-09-01", [.otherT2]),
         restoration("R1", on: "2025-09-20", applied: "2025-09-03"),
         notice("PN-2", .assessmentFailed, decided: "2025-11-03", from: "2025-11-03")]
    }

    @Test("the §8 example at each date it names, in arrival order and reversed", arguments: [false, true])
    func example(reversed: Bool) throws {
        let facts = reversed ? example.reversed() : example
        let scoringAlone = facts.filter { if case .practice = $0 { false } else { true } }
        func answer(_ date: String) throws -> (PersonState, Eligibility) {
            let state = try guangdong.state(facts, asOf: date)
            let alone = try guangdong.evaluate(scoringAlone, asOf: d(date)).persons.first { $0.person == "D1" }
                ?? PersonState.unknown("D1", asOf: d(date))
            #expect((state.status, state.until, state.points) == (alone.status, alone.until, alone.points),
                    "a practice notice never changes status, until or points (\(date))")
            return (state, state.eligibility)
        }
        let (before, beforeAnswer) = try answer("2025-08-14")
        #expect(beforeAnswer == Eligibility(eligible: true, reason: "normal"))
        #expect(before.points == 0 && before.practice.map(\.blocking) == [false], "on the file from its decision, not yet in force")

        let (first, firstAnswer) = try answer("2025-08-15")
        #expect(firstAnswer == Eligibility(eligible: false, reason: "practice-suspended"))
        #expect(first.status == .normal && first.until == nil)

        let (during, duringAnswer) = try answer("2025-09-10")
        #expect(during.status == .suspended && during.until == d("2025-10-01"), "the scoring suspension: \(during.status) \(String(describing: during.until))")
        #expect(duringAnswer == Eligibility(eligible: false, reason: "suspended"), "the status reason comes first")

        let (recorded, recordedAnswer) = try answer("2025-11-10")
        #expect(recordedAnswer.reason == "practice-suspended")
        #expect(recorded.practice.map { "\($0.notice.event.rawValue):\($0.blocking)" }
                == ["practice-suspended:true", "assessment-failed:false"], "the assessment failure is only recorded")

        let (after, afterAnswer) = try answer("2026-02-15")
        #expect(afterAnswer == Eligibility(eligible: true, reason: "normal"), "effectiveUntil is the first day it no longer applies")
        #expect(after.practice.count == 2 && after.practice.allSatisfy { !$0.blocking })
    }

    @Test("registration-cancelled bars too, open-ended without effectiveUntil; assessment-failed and registration-changed never do")
    func events() throws {
        let cancelled = [notice("PN-1", .registrationCancelled, decided: "2025-03-01", from: "2025-03-01")]
        #expect(try guangdong.state(cancelled, asOf: "2026-12-31").eligibility == Eligibility(eligible: false, reason: "registration-cancelled"))
        for event in [PracticeEvent.assessmentFailed, .registrationChanged] {
            let state = try guangdong.state([notice("PN-1", event, decided: "2025-03-01", from: "2025-03-01")], asOf: "2025-06-01")
            #expect(state.eligibility.eligible && state.practice.count == 1, "\(event)")
        }
        // Both blocking events in force: the pack's order decides the reason, not which came last.
        let both = cancelled + [notice("PN-2", .practiceSuspended, decided: "2025-04-01", from: "2025-04-01")]
        #expect(try guangdong.state(both, asOf: "2025-05-01").eligibility.reason == "practice-suspended")
        let suspendedFirst = [notice("PN-3", .practiceSuspended, decided: "2025-03-01", from: "2025-03-01"),
                              notice("PN-4", .registrationCancelled, decided: "2025-04-01", from: "2025-04-01")]
        #expect(try guangdong.state(suspendedFirst, asOf: "2025-05-01").eligibility.reason == "practice-suspended")
        // A termination (a one-time 12) is the reason whatever practice notice is in force.
        let terminated = try guangdong.state(suspendedFirst + [act("A1", on: "2025-04-10", [.otherT4])], asOf: "2025-05-01")
        #expect(terminated.eligibility == Eligibility(eligible: false, reason: "terminated"))
    }

    @Test("a notice decided after the as-of date is not on the file yet, even when it applies from earlier")
    func knownFromItsDecision() throws {
        let backdated = [notice("PN-1", .practiceSuspended, decided: "2025-08-20", from: "2025-08-15")]
        let early = try guangdong.state(backdated + [act("A0", on: "2025-01-06", [.otherT1])], asOf: "2025-08-18")
        #expect(early.practice.isEmpty && early.eligibility.eligible)
        #expect(try guangdong.state(backdated, asOf: "2025-08-20").eligibility.reason == "practice-suspended")
    }

    @Test("a Correction by the notice's issuer withdraws it from its decision date; one by another issuer does not")
    func withdrawal() throws {
        let facts = [notice("PN-1", .practiceSuspended, decided: "2025-08-11", from: "2025-08-15", until: "2026-02-15"),
                     .correction(CorrectionDecision(id: FactID(issuer: "440800-HEALTH", id: "C-1"), decidedOn: d("2025-09-01"),
                                                    target: FactID(issuer: "440800-HEALTH", id: "PN-1")))]
        #expect(try guangdong.state(facts, asOf: "2025-08-20").eligibility.reason == "practice-suspended")
        let withdrawn = try guangdong.state(facts, asOf: "2025-09-01")
        #expect(withdrawn.eligibility.eligible && withdrawn.practice.isEmpty)
        let foreign = [facts[0], .correction(CorrectionDecision(id: FactID(issuer: "440800-DRUG", id: "C-1"), decidedOn: d("2025-09-01"),
                                                                target: FactID(issuer: "440800-HEALTH", id: "PN-1")))]
        #expect(try guangdong.state(foreign, asOf: "2025-09-10").eligibility.reason == "practice-suspended")
    }

    @Test("practice.blockingEvents is the pack's setting: an empty list bars nothing, a longer one bars more")
    func blockingEventsSetting() throws {
        var pack = try Fixtures.pack("guangdong")
        let facts = [notice("PN-1", .practiceSuspended, decided: "2025-08-11", from: "2025-08-15"),
                     notice("PN-2", .assessmentFailed, decided: "2025-08-11", from: "2025-08-11")]
        pack.practice = PracticeRules(blockingEvents: [])
        let none = try Scorer(pack: pack).state(facts, asOf: "2025-09-01")
        #expect(none.eligibility.eligible && none.practice.allSatisfy { !$0.blocking })
        pack.practice = PracticeRules(blockingEvents: [.assessmentFailed, .practiceSuspended])
        #expect(try Scorer(pack: pack).state(facts, asOf: "2025-09-01").eligibility.reason == "assessment-failed")
        pack.practice = PracticeRules(blockingEvents: [.practiceSuspended, .assessmentFailed])
        #expect(try Scorer(pack: pack).state(facts, asOf: "2025-09-01").eligibility.reason == "practice-suspended")
    }

    @Test("every shipped pack bars practice-suspended and registration-cancelled", arguments: Fixtures.allPacks)
    func shippedPacks(packName: String) throws {
        #expect(try Fixtures.pack(packName).practice.blockingEvents == [.practiceSuspended, .registrationCancelled])
    }

    @Test("the person file lists each notice with whether it bars billing that day")
    func personFile() throws {
        let line = ReplayLine.render(try guangdong.state(example, asOf: "2025-11-10"), explain: true)
        #expect(line.contains(#""practice":[{"notice":{"issuer":"440800-HEALTH","id":"PN-1"},"event":"practice-suspended","decisionNo":"湛卫医罚〔2025〕PN-1号","decidedOn":"2025-08-11","effectiveFrom":"2025-08-15","effectiveUntil":"2026-02-15","institutions":["H44080200001"],"certificate":{"kind":"practising","number":"110440800000321"},"blocking":true},"#), "\(line)")
        #expect(line.contains(#""event":"assessment-failed""#) && line.contains(#""effectiveUntil":null"#))
        #expect(!ReplayLine.render(try guangdong.state(example, asOf: "2025-11-10"), explain: false).contains("practice"))
    }
}
