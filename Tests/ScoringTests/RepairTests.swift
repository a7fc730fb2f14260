import Scoring
import Testing

/// scoring.md §8: repair categories and caps per pack, eligibility, and both shortening modes.
@Suite("§8 repair")
struct RepairTests {
    func diagnostics(_ scorer: Scorer, _ facts: [Fact], asOf: String) throws -> [String: String] {
        let evaluation = try scorer.evaluate(facts, asOf: d(asOf))
        return Dictionary(evaluation.diagnostics.filter { !$0.applied }.map { ($0.fact.id, $0.code) }, uniquingKeysWith: { first, _ in first })
    }

    /// Eight points in February (T3, important), no sanction, so caps can be seen alone.
    let eight = act("A1", on: "2025-02-03", [.otherT3], responsibility: .important)

    @Test("guangdong/national/shandong: training-exam −1 each ≤ 3, publicity −1 each ≤ 3, no supervision",
          arguments: ["guangdong", "national", "shandong"])
    func gdCaps(packName: String) throws {
        let scorer = Scorer(pack: try Fixtures.pack(packName))
        let exams = (1...4).map { repair("T\($0)", on: "2025-03-0\($0)", .trainingExam) }
        #expect(try scorer.state([eight] + exams, asOf: "2025-03-31").points == 5)           // 8 − 3
        #expect(try diagnostics(scorer, [eight] + exams, asOf: "2025-03-31") == ["T4": "repair-cap-reached"])
        let publicity = (1...4).map { repair("P\($0)", on: "2025-04-0\($0)", .publicity) }
        #expect(try scorer.state([eight] + exams + publicity, asOf: "2025-04-30").points == 2) // 8 − 3 − 3
        let supervision = repair("S1", on: "2025-03-01", .supervision)
        #expect(try scorer.state([eight, supervision], asOf: "2025-03-31").points == 8)
        #expect(try diagnostics(scorer, [eight, supervision], asOf: "2025-03-31") == ["S1": "repair-not-applicable"])
    }

    @Test("guangdong/national/shandong: whistle-blowing −1 general, −3 fraud, no cap, never below 0",
          arguments: ["guangdong", "national", "shandong"])
    func gdWhistleblowing(packName: String) throws {
        let scorer = Scorer(pack: try Fixtures.pack(packName))
        let reports = [
            repair("W1", on: "2025-03-03", .whistleblowing),                 // 8 → 7
            repair("W2", on: "2025-03-04", .whistleblowing, fraud: true),    // 7 → 4
            repair("W3", on: "2025-03-05", .whistleblowing),                 // 4 → 3
            repair("W4", on: "2025-03-06", .whistleblowing),                 // 3 → 2
        ]
        #expect(try scorer.state([eight] + reports, asOf: "2025-03-31").points == 2)
        let more = reports + [repair("W5", on: "2025-03-07", .whistleblowing, fraud: true)]  // 2 → 0, not −1
        #expect(try scorer.state([eight] + more, asOf: "2025-03-31").points == 0)
    }

    @Test("shanghai: training-exam −1 once a year; publicity and supervision share a cap of 2; no whistle-blowing")
    func shanghaiCaps() throws {
        let scorer = Scorer(pack: try Fixtures.pack("shanghai"))
        let facts = [
            eight,
            repair("T1", on: "2025-03-01", .trainingExam),   // 7
            repair("T2", on: "2025-03-02", .trainingExam),   // refused: once a year
            repair("P1", on: "2025-03-03", .publicity),      // 6
            repair("S1", on: "2025-03-04", .supervision),    // 5
            repair("P2", on: "2025-03-05", .publicity),      // refused: shared cap of 2
            repair("W1", on: "2025-03-06", .whistleblowing), // refused: not applicable
        ]
        #expect(try scorer.state(facts, asOf: "2025-03-31").points == 5)
        #expect(try diagnostics(scorer, facts, asOf: "2025-03-31") == [
            "T2": "repair-cap-reached", "P2": "repair-cap-reached", "W1": "repair-not-applicable",
        ])
    }

    @Test("inner-mongolia: exam once a year by score band; publicity and supervision share a cap of 3")
    func innerMongoliaCaps() throws {
        let scorer = Scorer(pack: try Fixtures.pack("inner-mongolia"))
        let facts = [
            eight,
            repair("T1", on: "2025-03-01", .trainingExam, exam: 88),  // 76–90 → −2: 6
            repair("T2", on: "2025-03-02", .trainingExam, exam: 95),  // refused: once a year
            repair("P1", on: "2025-03-03", .publicity),               // 5
            repair("S1", on: "2025-03-04", .supervision),             // 4
            repair("P2", on: "2025-03-05", .publicity),               // 3
            repair("S2", on: "2025-03-06", .supervision),             // refused: shared cap of 3
            repair("W1", on: "2025-03-07", .whistleblowing),          // refused: not applicable
        ]
        #expect(try scorer.state(facts, asOf: "2025-03-31").points == 3)
        #expect(try diagnostics(scorer, facts, asOf: "2025-03-31") == [
            "T2": "repair-cap-reached", "S2": "repair-cap-reached", "W1": "repair-not-applicable",
        ])
    }

    @Test("inner-mongolia exam bands: <60 → 0, 60–75 → 1, 76–90 → 2, 91–100 → 3",
          arguments: [(59, 0), (60, 1), (75, 1), (76, 2), (90, 2), (91, 3), (100, 3)])
    func examBands(score: Int, points: Int) throws {
        let scorer = Scorer(pack: try Fixtures.pack("inner-mongolia"))
        let state = try scorer.state([eight, repair("T1", on: "2025-03-01", .trainingExam, exam: score)], asOf: "2025-03-31")
        #expect(state.points == 8 - points)
    }

    @Test("a year with a one-time score of 12 cannot be repaired; nothing can be banked", arguments: Fixtures.allPacks)
    func bars(packName: String) throws {
        let scorer = Scorer(pack: try Fixtures.pack(packName))
        let category: RepairCategory = .publicity
        let twelve = [act("A1", on: "2025-02-03", [.otherT4]), repair("R1", on: "2025-09-01", category)]
        #expect(try scorer.state(twelve, asOf: "2025-09-30").points == 12)
        #expect(try diagnostics(scorer, twelve, asOf: "2025-09-30") == ["R1": "repair-barred"])
        let banked = [repair("R1", on: "2025-01-10", category), act("A1", on: "2025-02-03", [.otherT2])]
        #expect(try scorer.state(banked, asOf: "2025-03-01").points == 6)
        #expect(try diagnostics(scorer, banked, asOf: "2025-03-01") == ["R1": "nothing-to-repair"])
    }

    @Test("only the year of a one-time 12 is barred: a later year's points are repaired, and the one-time ban is not shortened", arguments: Fixtures.allPacks)
    func laterYearAfterOneTimeTwelve(packName: String) throws {
        let scorer = Scorer(pack: try Fixtures.pack(packName))
        // Terminated in 2025 by a one-time 12; in 2027 (past half of the ban) 6 new points, then a repair.
        let facts = [act("A1", on: "2025-02-03", [.otherT4]), act("A2", on: "2027-02-01", [.otherT2])]
        let unrepaired = try scorer.state(facts, asOf: "2027-03-31")
        let repaired = facts + [repair("R1", on: "2027-03-01", .publicity)]
        #expect(try diagnostics(scorer, repaired, asOf: "2027-03-31").isEmpty, "the repair of 2027 is accepted")
        let state = try scorer.state(repaired, asOf: "2027-03-31")
        #expect(state.points == unrepaired.points - 1, "2027's total is repaired")
        #expect(state.status == .terminated && state.until == unrepaired.until, "the one-time ban runs on unchanged")
        // In 2025 itself the repair stays barred.
        let sameYear = [act("A1", on: "2025-02-03", [.otherT4]), repair("R1", on: "2025-09-01", .publicity)]
        #expect(try diagnostics(scorer, sameYear, asOf: "2025-09-30") == ["R1": "repair-barred"])
    }

    @Test("guangdong/national/shandong: half the sanction must have run; table shortening recomputes from the cumulative column",
          arguments: ["guangdong", "national", "shandong"])
    func gdHalfPeriodAndTable(packName: String) throws {
        let scorer = Scorer(pack: try Fixtures.pack(packName))
        // 5 + 6 = 11 on 10 January → 5 months → until 10 June. 151 days; half (76 days) is reached on 27 March.
        let acts = [act("A1", on: "2025-01-06", [.otherT2], responsibility: .important), act("A2", on: "2025-01-10", [.otherT2])]
        let early = acts + [repair("R1", on: "2025-03-26", .trainingExam)]
        #expect(try diagnostics(scorer, early, asOf: "2025-03-31") == ["R1": "repair-too-early"])
        #expect(try scorer.state(early, asOf: "2025-03-31").until == d("2025-06-10"))
        // On 1 April: total 10 → 3 months from 10 January → 10 April.
        let onTime = acts + [repair("R1", on: "2025-04-01", .trainingExam)]
        let state = try scorer.state(onTime, asOf: "2025-04-05")
        #expect(state.points == 10)
        #expect(state.until == d("2025-04-10"))
    }

    @Test("guangdong/national/shandong: a repaired total below 9 ends the suspension on the approval date (restoration still needed)",
          arguments: ["guangdong", "national", "shandong"])
    func gdBelowNine(packName: String) throws {
        let scorer = Scorer(pack: try Fixtures.pack(packName))
        // One-time 9 on 10 January → until 10 March (59 days; half reached 9 February). Repair 20 February → 8.
        let facts = [act("A1", on: "2025-01-10", [.otherT3]), repair("R1", on: "2025-02-20", .publicity)]
        let state = try scorer.state(facts, asOf: "2025-02-20")
        #expect(state.status == .suspended)
        #expect(state.until == nil)
        #expect(state.items == ["overdue-restoration"])
        let restored = facts + [restoration("S1", on: "2025-02-25", applied: "2025-02-21")]
        #expect(try scorer.state(restored, asOf: "2025-02-25").status == .normal)
    }

    @Test("guangdong/national/shandong: a cumulative-12 termination repaired below 12 becomes a suspension from the termination date",
          arguments: ["guangdong", "national", "shandong"])
    func gdTerminationBecomesSuspension(packName: String) throws {
        let scorer = Scorer(pack: try Fixtures.pack(packName))
        // 6 + 6 on 2 January → terminated, ban to 2026-01-02 (365 days; half reached 4 July).
        let acts = [act("A1", on: "2025-01-02", [.otherT2]), act("A2", on: "2025-01-02", [.otherT2])]
        #expect(try diagnostics(scorer, acts + [repair("R0", on: "2025-07-03", .trainingExam)], asOf: "2025-07-03") == ["R0": "repair-too-early"])
        // 10 July: total 11 → 5 months from 2 January = 2 June, never before the approval date → ends 10 July.
        let facts = acts + [repair("R1", on: "2025-07-10", .trainingExam)]
        let state = try scorer.state(facts, asOf: "2025-07-10")
        #expect(state.status == .suspended)
        #expect(state.points == 11)
        #expect(state.until == nil)   // ended on the approval date, awaiting restoration
    }

    @Test("shanghai and inner-mongolia: the running sanction ends 1 month earlier, once a year, never before approval",
          arguments: ["shanghai", "inner-mongolia"])
    func fixedShortening(packName: String) throws {
        let scorer = Scorer(pack: try Fixtures.pack(packName))
        // One-time 10 on 3 March → 4 months → 3 July. Repair 1 April → 3 June. A second repair shortens no more.
        let facts = [
            act("A1", on: "2025-03-03", [.otherT4], responsibility: .general),
            repair("R1", on: "2025-04-01", .publicity),
            repair("R2", on: "2025-04-10", .supervision),
        ]
        let state = try scorer.state(facts, asOf: "2025-04-10")
        #expect(state.points == 8)
        #expect(state.until == d("2025-06-03"))
        // One-time 9 on 3 March → 3 May; repair 20 April → 3 April is before approval → ends 20 April.
        let short = [act("B1", on: "2025-03-03", [.otherT3]), repair("R3", on: "2025-04-20", .publicity)]
        #expect(try scorer.state(short, asOf: "2025-04-19").until == d("2025-05-03"))
        let after = try scorer.state(short, asOf: "2025-04-20")
        #expect(after.status == .suspended)
        #expect(after.items == ["overdue-restoration"])
    }
}
