import Scoring
import Testing

@Suite("working-day deadlines of the workflow (scoring.md §10)")
struct DeadlineTests {
    @Test("guangdong: a notice due across the 2025 National Day break counts the adjusted Saturday and skips the holiday")
    func acrossNationalDay() throws {
        let pack = try Fixtures.pack("guangdong")
        guard case .act(let decision) = act("A1", on: "2025-09-29", [.penaltyArt38to39]) else { Issue.record("not an act"); return }
        let deadlines = WorkflowSchedule.deadlines(of: decision, pack: pack, calendar: Fixtures.calendar)
        // 5 working days after Mon 29 Sep: 30 Sep, (1–8 Oct off), 9, 10, Sat 11 (adjusted workday), Mon 13 Oct.
        #expect(deadlines.map(\.step) == ["notice-to-institution", "delivery", "objection"])
        #expect(deadlines.map(\.due) == [d("2025-10-13"), d("2025-10-16"), d("2025-10-30")])
        #expect(deadlines.map(\.countsFrom) == ["decision", "notice-to-institution", "delivery"])
    }

    @Test("shanghai: the chain from a penalty decision, with the adjusted Sunday before the break")
    func shanghaiChain() throws {
        let pack = try Fixtures.pack("shanghai")
        guard case .act(let decision) = act("S1", on: "2025-09-26", [.penaltyArt38to39], scored: false) else { Issue.record("not an act"); return }
        let deadlines = WorkflowSchedule.deadlines(of: decision, pack: pack, calendar: Fixtures.calendar)
        #expect(deadlines.map(\.step) == ["admin-to-agency", "notice-to-institution", "objection", "final-without-objection", "delivery", "institution-update"])
        // Fri 26 Sep + 3: Sun 28 (adjusted), 29, 30 → 30 Sep; + 7: 9, 10, 11, 13, 14, 15, 16 Oct; + 10 → 30 Oct; + 3 → 4 Nov.
        #expect(deadlines.map(\.due) == [d("2025-09-30"), d("2025-10-16"), d("2025-10-30"), d("2025-11-04"), d("2025-11-07"), d("2025-11-12")])
        // An agency's own act has no admin-to-agency step.
        var agencyAct = decision
        agencyAct.source = .agreementHandling
        #expect(WorkflowSchedule.deadlines(of: agencyAct, pack: pack, calendar: Fixtures.calendar).first?.step == "notice-to-institution")
    }

    @Test("overdue: a Shanghai act with no final decision past its due date, met once it arrives; a withdrawn act has none")
    func shanghaiFinalDecisionOverdue() throws {
        let scorer = Scorer(pack: try Fixtures.pack("shanghai"), calendar: Fixtures.calendar)
        let pending = act("S1", on: "2025-09-26", [.penaltyArt38to39], scored: false)
        let overdue = try DeadlineReport.items(facts: [pending], scorer: scorer, on: d("2025-11-10"), overdueOnly: true)
        #expect(overdue.map(\.step) == ["final-without-objection"])
        #expect(overdue.first?.due == d("2025-11-04") && overdue.first?.persons == ["D1"])
        // The day it is due it is still open.
        #expect(try DeadlineReport.items(facts: [pending], scorer: scorer, on: d("2025-11-04"), overdueOnly: true).isEmpty)
        let final = Fact.finalDecision(FinalScoreDecision(id: FactID(issuer: "310000-INS-AGENCY", id: "F1"), decidedOn: d("2025-11-03"),
                                                          target: FactID(issuer: issuer, id: "S1"), outcome: .confirmed))
        let all = try DeadlineReport.items(facts: [pending, final], scorer: scorer, on: d("2025-11-10"), overdueOnly: false)
        #expect(all.first { $0.step == "final-without-objection" }?.state == .met)
        #expect(all.first { $0.step == "admin-to-agency" }?.state == .passed)
        #expect(all.first { $0.step == "institution-update" }?.state == .open)
        let withdrawn = Fact.correction(CorrectionDecision(id: FactID(issuer: issuer, id: "C1"), decidedOn: d("2025-10-01"), target: FactID(issuer: issuer, id: "S1")))
        #expect(try DeadlineReport.items(facts: [pending, withdrawn], scorer: scorer, on: d("2025-11-10"), overdueOnly: false).isEmpty)
    }

    @Test("overdue-restoration: a suspension that ended with no approved restoration, due on the end date; none after restoration")
    func overdueRestoration() throws {
        let scorer = Scorer(pack: try Fixtures.pack("guangdong"), calendar: Fixtures.calendar)
        // impersonation (T3 7–9), main responsibility: 9 points in one act → suspended 2 months.
        let suspension = act("A1", on: "2025-06-12", [.impersonation])
        let items = try DeadlineReport.items(facts: [suspension], scorer: scorer, on: d("2025-12-31"), overdueOnly: true)
        #expect(items.map(\.step) == ["overdue-restoration"])
        #expect(items.first?.due == d("2025-08-12") && items.first?.act == nil)
        let restored = restoration("R1", on: "2025-08-01", applied: "2025-07-10")
        #expect(try DeadlineReport.items(facts: [suspension, restored], scorer: scorer, on: d("2025-12-31"), overdueOnly: true).isEmpty)
    }

    @Test("past the loaded years a deadline is counted on weekdays and marked provisional, never dropped; loading the year recomputes it")
    func calendarRunway() throws {
        let pack = try Fixtures.pack("guangdong")
        // Guangdong's chain from Mon 2026-12-14: notice +5, delivery +3, objection +10 working days. The calendar holds 2025 and 2026.
        guard case .act(let decision) = act("A1", on: "2026-12-14", [.penaltyArt38to39]) else { Issue.record("not an act"); return }
        #expect(Fixtures.calendar.coveredThrough(from: d("2026-12-14")) == d("2026-12-31"))
        let deadlines = WorkflowSchedule.deadlines(of: decision, pack: pack, calendar: Fixtures.calendar)
        // notice: 15–18, 21 Dec; delivery: 22, 23, 24 Dec (both within 2026); objection: 25, 28–31 Dec, then
        // weekdays 1, 4, 5, 6, 7 Jan 2027 (2027 is not loaded: 1 January counts as a weekday).
        #expect(deadlines.map(\.due) == [d("2026-12-21"), d("2026-12-24"), d("2027-01-07")])
        #expect(deadlines.map(\.provisional) == [false, false, true])
        let report = try DeadlineReport.items(facts: [.act(decision)], scorer: Scorer(pack: pack, calendar: Fixtures.calendar), on: d("2026-12-20"), overdueOnly: false)
        #expect(report.map(\.provisional) == [false, false, true], "no act is dropped from the report")

        // With 2027 loaded (元旦 1–3 January off, a Sunday before it worked), the objection moves and is no longer provisional.
        let year2027 = try WorkingDayCalendar.loadYear(Array("""
            {"year": 2027, "source": "test arrangement", "holidays": [{"name": "元旦", "from": "2027-01-01", "to": "2027-01-03"}], "adjustedWorkdays": []}
            """.utf8), source: "2027.json")
        let loaded = WorkingDayCalendar(years: Array(Fixtures.calendar.years.values) + [year2027])
        let recomputed = WorkflowSchedule.deadlines(of: decision, pack: pack, calendar: loaded)
        #expect(recomputed.map(\.due) == [d("2026-12-21"), d("2026-12-24"), d("2027-01-08")])
        #expect(recomputed.allSatisfy { !$0.provisional })
        #expect(loaded.coveredThrough(from: d("2026-12-14")) == d("2027-12-31"))
        #expect(loaded.coveredThrough(from: d("2028-01-01")) == nil)
    }
}
