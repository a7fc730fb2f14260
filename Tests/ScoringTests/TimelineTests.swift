import Scoring
import Testing

/// scoring.md §5, §6 and §11, and the edge cases the issue names.
@Suite("§5 §6 §11 timelines and edges")
struct TimelineTests {
    let guangdong: Scorer
    let shanghai: Scorer

    init() throws {
        guangdong = Scorer(pack: try Fixtures.pack("guangdong"))
        shanghai = Scorer(pack: try Fixtures.pack("shanghai"))
    }

    func provisional(_ id: String, on date: String, _ situation: SituationCode = .otherT2) -> Fact {
        act(id, on: date, [situation], scored: false)
    }

    func final(_ id: String, target: String, on date: String, _ outcome: FinalScoreDecision.Outcome = .confirmed) -> Fact {
        .finalDecision(FinalScoreDecision(id: FactID(issuer: "310000-INS-AGENCY", id: id), decidedOn: d(date),
                                          target: FactID(issuer: issuer, id: target), outcome: outcome))
    }

    @Test("yearly totals count across institutions and restart on 1 January; sanctions run on")
    func yearlyTotals() throws {
        let twoSites = [act("A1", on: "2025-03-03", [.otherT2], responsibility: .general, institution: "H1"),
                        act("A2", on: "2025-04-10", [.otherT2], responsibility: .important, institution: "H2")]
        #expect(try guangdong.state(twoSites, asOf: "2025-04-10").points == 9)
        #expect(try guangdong.state(twoSites, asOf: "2026-01-01").points == 0)
        let split = [act("A1", on: "2025-12-01", [.otherT2]), act("A2", on: "2026-01-05", [.otherT2], responsibility: .general)]
        let state = try guangdong.state(split, asOf: "2026-01-05")
        #expect(state.points == 4)            // 6 stayed in 2025
        #expect(state.status == .normal)      // 4, not 10
        // A sanction running into the next year while the points reset: one-time 10 on 15 November → 15 March.
        let running = try guangdong.state([act("A1", on: "2025-11-15", [.otherT4], responsibility: .general)], asOf: "2026-01-10")
        #expect(running.points == 0)
        #expect(running.status == .suspended)
        #expect(running.until == d("2026-03-15"))
        #expect(running.year == 2026)
    }

    @Test("an agreement termination during a longer one-time ban: the explanation names the ban that stands, the one reported")
    func agreementTerminationDuringALongerBan() throws {
        let facts = [act("A1", on: "2025-02-03", [.otherT4]), act("A2", on: "2025-05-01", [.agreementTerminated])]
        let state = try guangdong.state(facts, asOf: "2025-06-01")
        let ban = try #require(state.until)
        #expect(state.status == .terminated && ban > d("2027-01-01"), "the one-time ban of February stands: \(ban)")
        let entry = try #require(state.history.first { $0.fact.id == "A2" })
        #expect(entry.outcome.contains("the ban already running until \(ban) stands"), "\(entry.outcome)")
        #expect(!entry.outcome.contains("ban until 2026"), "\(entry.outcome)")
    }

    @Test("acts scored after the as-of date do not count")
    func asOf() throws {
        let facts = [act("A1", on: "2025-03-03", [.otherT2]), act("A2", on: "2025-05-06", [.otherT2])]
        #expect(try guangdong.state(facts, asOf: "2025-05-05").points == 6)
    }

    @Test("shanghai: a provisional act counts from its confirming final decision; annulled never counts")
    func shanghaiFinalDecision() throws {
        let revocation = provisional("L1", on: "2025-05-20", .licenceRevoked)    // T4 main = 12
        let pending = try shanghai.state([revocation], asOf: "2025-07-01")
        #expect(pending.points == 0)
        #expect(pending.items == ["pending-final-decision"])
        let confirmed = [revocation, final("F1", target: "L1", on: "2025-06-20")]
        #expect(try shanghai.state(confirmed, asOf: "2025-06-19").points == 0)
        let state = try shanghai.state(confirmed, asOf: "2025-06-20")
        #expect(state.points == 12)
        #expect(state.status == .terminated)
        #expect(state.until == d("2028-06-20"))
        let annulled = [revocation, final("F1", target: "L1", on: "2025-06-20", .annulled)]
        let gone = try shanghai.state(annulled, asOf: "2025-12-31")
        #expect(gone.points == 0)
        #expect(gone.items == [])
    }

    @Test("a Shanghai penalty of Monday 22 December 2025 confirmed in January counts in 2026; under guangdong in 2025")
    func shanghaiYearBoundary() throws {
        let facts = [provisional("A1", on: "2025-12-22"), final("F1", target: "A1", on: "2026-01-08")]
        #expect(try shanghai.state(facts, asOf: "2025-12-31").points == 0)
        #expect(try shanghai.state(facts, asOf: "2026-01-08").points == 6)
        #expect(try guangdong.state([provisional("A1", on: "2025-12-22")], asOf: "2025-12-31").points == 6)
    }

    @Test("a correction withdraws an act and lifts the sanction that no longer follows from the facts")
    func correctionLiftsSanction() throws {
        let facts: [Fact] = [
            act("A1", on: "2025-03-03", [.otherT2]),                                 // 6
            act("A2", on: "2025-05-06", [.otherT1], responsibility: .important),      // 8
            act("A3", on: "2025-05-07", [.otherT1], responsibility: .important),      // 10 → 3 months to 7 August
            .correction(CorrectionDecision(id: FactID(issuer: issuer, id: "C1"), decidedOn: d("2025-06-01"), target: FactID(issuer: issuer, id: "A1"))),
        ]
        let before = try guangdong.state(facts, asOf: "2025-05-31")
        #expect(before.status == .suspended)
        #expect(before.until == d("2025-08-07"))
        let after = try guangdong.state(facts, asOf: "2025-06-01")
        #expect(after.status == .normal)
        #expect(after.points == 4)
    }

    @Test("a correction from another issuer is refused")
    func correctionWrongIssuer() throws {
        let facts: [Fact] = [
            act("A1", on: "2025-03-03", [.otherT2]),
            .correction(CorrectionDecision(id: FactID(issuer: "440800-HEALTH", id: "C1"), decidedOn: d("2025-06-01"), target: FactID(issuer: issuer, id: "A1"))),
        ]
        let evaluation = try guangdong.evaluate(facts, asOf: d("2025-06-02"))
        #expect(evaluation.persons.first?.points == 6)
        #expect(evaluation.diagnostics.map(\.code) == ["correction-wrong-issuer"])
    }

    @Test("month-end clamping: 31 October + 4 months = 28 February")
    func monthEnd() throws {
        let state = try guangdong.state([act("A1", on: "2025-10-31", [.otherT4], responsibility: .general)], asOf: "2025-11-01")
        #expect(state.until == d("2026-02-28"))
        #expect(d("2023-10-31").adding(months: 4) == d("2024-02-29"))
    }

    @Test("leap day: suspension and bans from 29 February 2024")
    func leapDay() throws {
        #expect(try guangdong.state([act("A1", on: "2024-02-29", [.otherT3])], asOf: "2024-03-01").until == d("2024-04-29"))
        #expect(try guangdong.state([act("A1", on: "2024-02-29", [.otherT4])], asOf: "2024-03-01").until == d("2027-02-28"))
        let cumulative = [act("A1", on: "2024-01-10", [.otherT2]), act("A2", on: "2024-02-29", [.otherT2])]
        #expect(try guangdong.state(cumulative, asOf: "2024-03-01").until == d("2025-02-28"))
    }

    @Test("several acts on one day give one result whatever their order")
    func sameDay() throws {
        let facts = [
            act("B", on: "2025-06-02", [.otherT2], responsibility: .general),  // 4
            act("A", on: "2025-06-02", [.otherT2], responsibility: .important), // 5
            act("C", on: "2025-06-02", [.otherT1]),                              // 3
        ]
        let expected = try guangdong.evaluate(facts, asOf: d("2025-06-02"), explain: true)
        #expect(expected.persons.first?.points == 12)
        #expect(expected.persons.first?.status == .terminated)
        #expect(expected.persons.first?.until == d("2026-06-02"))
        for order in [[0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]] {
            #expect(try guangdong.evaluate(order.map { facts[$0] }, asOf: d("2025-06-02"), explain: true) == expected)
        }
    }

    @Test("an act's persons are each named once, in order of first mention, for few and for many persons")
    func personCodes() {
        func finding(_ codes: [String]) -> Finding {
            Finding(violation: "V", situations: [.otherT2], persons: codes.map { ResponsiblePerson(code: $0, responsibility: .main) })
        }
        func codes(_ findings: [[String]]) -> [String] {
            ScoringAct(id: FactID(issuer: issuer, id: "A"), source: .penaltyDecision, decidedOn: d("2025-01-02"), scoredOn: nil,
                       institutions: ["H1"], findings: findings.map(finding)).personCodes
        }
        #expect(codes([["D2", "D1"], ["D1", "D3", "D2"]]) == ["D2", "D1", "D3"])
        // Past 16 persons the check switches to a set; repeats before and after the switch are still dropped.
        let many = (1...30).map { "D\($0)" }
        #expect(codes([Array(many.prefix(20)), ["D3"] + many.reversed() + ["D17", "D30"]]) == many.prefix(20) + many.suffix(10).reversed())
    }

    @Test("two different facts with one id are refused; an identical repeat is applied once")
    func duplicates() throws {
        let first = act("A1", on: "2025-03-03", [.otherT2])
        #expect(try guangdong.state([first, first], asOf: "2025-04-01").points == 6)
        #expect(throws: ScoringError.self) {
            try guangdong.evaluate([first, act("A1", on: "2025-03-04", [.otherT2])], asOf: d("2025-04-01"))
        }
    }
}
