import Scoring
import Testing

/// scoring.md §9: restoration after a suspension, the application window, re-registration.
@Suite("§9 restoration")
struct RestorationTests {
    /// One-time 9 on 31 August 2025 → suspended 2 months, until 31 October 2025.
    let suspension = act("A1", on: "2025-08-31", [.otherT3])

    @Test("no approved restoration: still suspended after the end, with an overdue-restoration item", arguments: Fixtures.allPacks)
    func overdue(packName: String) throws {
        let scorer = Scorer(pack: try Fixtures.pack(packName), calendar: Fixtures.calendar)
        let before = try scorer.state([suspension], asOf: "2025-10-30")
        #expect(before.until == d("2025-10-31"))
        let after = try scorer.state([suspension], asOf: "2025-10-31")
        #expect(after.status == .suspended)
        #expect(after.until == nil)
        #expect(after.items == ["overdue-restoration"])
    }

    @Test("approved before the end: normal at the end date; approved after: normal on approval")
    func approval() throws {
        let scorer = Scorer(pack: try Fixtures.pack("guangdong"), calendar: Fixtures.calendar)
        let early = [suspension, restoration("S1", on: "2025-10-20", applied: "2025-10-10")]
        #expect(try scorer.state(early, asOf: "2025-10-30").status == .suspended)
        #expect(try scorer.state(early, asOf: "2025-10-31").status == .normal)
        let late = [suspension, restoration("S1", on: "2025-11-05", applied: "2025-11-01")]
        #expect(try scorer.state(late, asOf: "2025-11-04").status == .suspended)
        #expect(try scorer.state(late, asOf: "2025-11-05").status == .normal)
    }

    @Test("window: guangdong 15 working days before 31 October 2025 is Saturday 11 October (a make-up day); shanghai 10 is 17 October",
          arguments: [("guangdong", "2025-10-11", "2025-10-13"), ("shanghai", "2025-10-17", "2025-10-20")])
    func window(packName: String, due: String, late: String) throws {
        let scorer = Scorer(pack: try Fixtures.pack(packName), calendar: Fixtures.calendar)
        let onTime = [suspension, restoration("S1", on: "2025-10-24", applied: due)]
        #expect(try scorer.evaluate(onTime, asOf: d("2025-10-31")).diagnostics.isEmpty)
        let lateFacts = [suspension, restoration("S1", on: "2025-10-24", applied: late)]
        let evaluation = try scorer.evaluate(lateFacts, asOf: d("2025-10-31"))
        #expect(evaluation.diagnostics.map(\.code) == ["restoration-late"])
        #expect(evaluation.diagnostics.first?.applied == true)
        #expect(evaluation.persons.first?.status == .normal)   // a late application is still accepted
    }

    @Test("restoration.automatic returns the person to normal at the end date")
    func automatic() throws {
        var pack = try Fixtures.pack("national")
        pack.restoration.automatic = true
        let state = try Scorer(pack: pack).state([suspension], asOf: "2025-10-31")
        #expect(state.status == .normal)
    }

    @Test("a restoration with nothing to restore is skipped and said")
    func nothingToRestore() throws {
        let scorer = Scorer(pack: try Fixtures.pack("guangdong"))
        let evaluation = try scorer.evaluate([act("A1", on: "2025-03-03", [.otherT1]), restoration("S1", on: "2025-04-01", applied: "2025-03-20")], asOf: d("2025-04-02"))
        #expect(evaluation.diagnostics.map(\.code) == ["nothing-to-restore"])
    }

    @Test("a terminated person registers again only from banUntil; the restored suspension keeps the year's total")
    func reRegistration() throws {
        let scorer = Scorer(pack: try Fixtures.pack("guangdong"))
        func register(_ id: String, _ on: String) -> Fact {
            .registration(RegistrationFact(id: FactID(issuer: "440800-INS-AGENCY", id: id), person: "D1", institution: "H1", action: .register, on: d(on)))
        }
        let terminated = act("A1", on: "2025-02-03", [.otherT4])     // one-time 12 → ban to 2028-02-03
        let tooEarly = try scorer.evaluate([terminated, register("R1", "2027-01-01")], asOf: d("2027-06-01"))
        #expect(tooEarly.persons.first?.status == .terminated)
        #expect(tooEarly.diagnostics.map(\.code) == ["registration-barred"])
        #expect(try scorer.state([terminated, register("R1", "2028-02-03")], asOf: "2028-02-03").status == .normal)
        let restored = try scorer.state([suspension, restoration("S1", on: "2025-10-20", applied: "2025-10-10")], asOf: "2025-11-01")
        #expect(restored.points == 9)
    }

    @Test("D39: while suspended no institution registers the person anew; one where the person was registered before may record it again; after the suspension anyone may; in either order of arrival")
    func noNewRegistrationWhileSuspended() throws {
        let scorer = Scorer(pack: try Fixtures.pack("guangdong"), calendar: Fixtures.calendar)
        func register(_ id: String, at institution: String, _ on: String) -> Fact {
            .registration(RegistrationFact(id: FactID(issuer: "440800-INS-AGENCY", id: id), person: "D1", institution: institution, action: .register, on: d(on)))
        }
        // 3 + 6 points on 09-01: 9, one month, restored in time → normal from 10-01.
        let suspended = [register("R0", at: "H1", "2025-01-02"), act("A1", on: "2025-09-01", [.otherT1]), act("A2", on: "2025-09-01", [.otherT2]),
                         restoration("S1", on: "2025-09-20", applied: "2025-09-03")]
        for facts in [suspended + [register("R1", at: "H2", "2025-09-10"), register("R2", at: "H1", "2025-09-10")],
                      ([register("R2", at: "H1", "2025-09-10"), register("R1", at: "H2", "2025-09-10")] + suspended).reversed()] {
            let evaluation = try scorer.evaluate(facts, asOf: d("2025-09-30"))
            #expect(evaluation.diagnostics.map { "\($0.fact.id):\($0.code)" } == ["R1:registration-barred"], "H2 is new; H1 had the person before")
            #expect(evaluation.persons.first?.status == .suspended)
        }
        let after = try scorer.evaluate(suspended + [register("R3", at: "H2", "2025-10-01")], asOf: d("2025-10-02"))
        #expect(after.diagnostics.isEmpty && after.persons.first?.status == .normal, "\(after.diagnostics)")
    }
}
