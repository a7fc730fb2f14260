@testable import Scoring
import Testing
import TongbaoTestSupport

/// What intake derives its notices from — one person's state with a new fact and without it — must be
/// exactly what two full evaluations give, whichever way it was folded.
@Suite("person change and history scope")
struct PersonChangeTests {
    /// The person's state in an evaluation of `facts`, or nil when the evaluation fails.
    static func expected(_ scorer: Scorer, _ facts: [Fact], person: String, asOf: CalendarDate, history: HistoryScope) -> PersonState? {
        guard let evaluation = try? scorer.evaluate(facts, asOf: asOf, history: history) else { return nil }
        return evaluation.persons.first { $0.person == person } ?? .unknown(person, asOf: asOf)
    }

    @Test("a change equals two evaluations, with and without the fact", arguments: ["guangdong", "shanghai", "inner-mongolia", "national"])
    func changeEqualsTwoEvaluations(packName: String) throws {
        let scorer = Scorer(pack: try Fixtures.pack(packName), calendar: Fixtures.calendar)
        var random = SeededGenerator(seed: 21)
        var foldedTogether = 0
        var foldedApart = 0
        for _ in 0..<150 {
            let facts = OrderIndependenceTests.randomFacts(count: 12, shanghai: packName == "shanghai", using: &random)
            for split in 0..<facts.count {
                var base = Array(facts[..<split])
                let added = facts[split]
                // Now and then the fact is already there (intake reading the log again): the same answer.
                if split > 0, Int.random(in: 0..<8, using: &random) == 0 { base.append(added) }
                let persons = Set(added.personCodes + ["D1", "N3"]).sorted()
                let dates = [added.decidedOnForTest, d("2025-12-31"), d("2026-12-31")]
                for person in persons {
                    for asOf in dates {
                        let after = Self.expected(scorer, base + [added], person: person, asOf: asOf, history: .only(added.id))
                        let change: PersonChange
                        do {
                            change = try scorer.change(of: person, adding: added, to: base, asOf: asOf, history: .only(added.id))
                        } catch {
                            #expect(after == nil, "change failed (\(error.code)) where the evaluation did not")
                            continue
                        }
                        #expect(change.after == after)
                        if let before = change.before {
                            foldedTogether += 1
                            #expect(before == Self.expected(scorer, base, person: person, asOf: asOf, history: .none))
                        } else {
                            foldedApart += 1
                        }
                    }
                }
            }
        }
        // Both ways were taken many times, so both are compared above.
        #expect(foldedTogether > 500)
        #expect(foldedApart > 500)
    }

    @Test("above the parallel threshold the change is folded in shards, with the same states")
    func shardedChange() throws {
        let scorer = Scorer(pack: try Fixtures.pack("guangdong"), calendar: Fixtures.calendar)
        var random = SeededGenerator(seed: 13)
        let facts = ParallelFoldTests.worlds(400, using: &random)
        #expect(Scorer.shards(for: facts.count) > 1)
        let asOf = d("2026-12-31")
        var foldedTogether = 0
        for added in facts.filter({ if case .act = $0 { true } else { false } }).prefix(6) {
            let base = facts.filter { $0.id != added.id }
            for person in added.personCodes {
                let change = try scorer.change(of: person, adding: added, to: base, asOf: asOf, history: .only(added.id))
                #expect(change.after == Self.expected(scorer, base + [added], person: person, asOf: asOf, history: .only(added.id)))
                if let before = change.before {
                    foldedTogether += 1
                    #expect(before == Self.expected(scorer, base, person: person, asOf: asOf, history: .none))
                }
            }
        }
        #expect(foldedTogether > 0)
    }

    @Test("an act scored by the as-of date is folded with and without it in one pass")
    func actFoldedTogether() throws {
        let scorer = Scorer(pack: try Fixtures.pack("guangdong"), calendar: Fixtures.calendar)
        func act(_ id: String, _ on: String, _ situation: SituationCode) -> Fact {
            .act(ScoringAct(id: FactID(issuer: issuer, id: id), source: .penaltyDecision, decidedOn: d(on), institutions: ["H1"],
                            findings: [Finding(violation: "V1", situations: [situation], persons: [ResponsiblePerson(code: "D1", responsibility: .main)])]))
        }
        let earlier = [act("A1", "2025-03-03", .otherT4), act("A2", "2025-06-02", .otherT4)]
        let added = act("A3", "2025-05-06", .otherT4)
        let change = try scorer.change(of: "D1", adding: added, to: earlier, asOf: d("2025-06-30"), history: .only(added.id))
        let before = try #require(change.before)
        #expect(before == Self.expected(scorer, earlier, person: "D1", asOf: d("2025-06-30"), history: .none))
        #expect(before.points < change.after.points)
        #expect(change.after.history.map(\.fact) == [added.id])
        // Not yet scored on the as-of date: there is nothing to fold alongside, and the caller folds it.
        let later = try scorer.change(of: "D1", adding: added, to: earlier, asOf: d("2025-04-30"), history: .none)
        #expect(later.before == nil)
        #expect(later.after == Self.expected(scorer, earlier + [added], person: "D1", asOf: d("2025-04-30"), history: .none))
    }

    @Test("a history scope records only what it includes; the rest of the evaluation is the same")
    func historyScope() throws {
        let scorer = Scorer(pack: try Fixtures.pack("guangdong"), calendar: Fixtures.calendar)
        var random = SeededGenerator(seed: 5)
        let facts = ParallelFoldTests.worlds(60, using: &random)
        let asOf = d("2026-12-31")
        let all = try scorer.evaluate(facts, asOf: asOf, history: .all)
        let none = try scorer.evaluate(facts, asOf: asOf, history: .none)
        func withoutHistory(_ evaluation: Evaluation) -> Evaluation {
            var copy = evaluation
            copy.persons = copy.persons.map { var state = $0; state.history = []; return state }
            return copy
        }
        #expect(withoutHistory(all) == none)
        #expect(none.persons.allSatisfy { $0.history.isEmpty })
        var checked = 0
        for fact in facts.prefix(120) {
            let only = try scorer.evaluate(facts, asOf: asOf, history: .only(fact.id))
            #expect(withoutHistory(only) == none)
            for (one, full) in zip(only.persons, all.persons) {
                #expect(one.history == full.history.filter { $0.fact == fact.id })
                checked += one.history.count
            }
        }
        #expect(checked > 40)
    }
}

extension Fact {
    /// A date the fact concerns, for choosing as-of dates in the tests.
    var decidedOnForTest: CalendarDate {
        switch self {
        case .act(let act): act.decidedOn
        case .repair(let repair): repair.decidedOn
        case .restoration(let restoration): restoration.decidedOn
        case .resumption(let resumption): resumption.decidedOn
        case .registration(let registration): registration.on
        case .finalDecision(let decision): decision.decidedOn
        case .correction(let correction): correction.decidedOn
        case .practice(let notice): notice.decidedOn
        case .referral(let referral): referral.issuedOn
        case .referralReply(let reply): reply.acceptedOn
        }
    }
}
