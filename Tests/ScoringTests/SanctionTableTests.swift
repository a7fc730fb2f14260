import Scoring
import Testing

/// scoring.md §7: the suspension ladder, termination and notices, for every pack.
/// Points come from `other.tN` (present in every pack): T1 = 1/2/3, T2 = 4/5/6, T3 = 7/8/9,
/// T4 = 10/11/12 for general/important/main. Every expected date is counted by hand.
@Suite("§7 sanctions")
struct SanctionTableTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let acts: [(String, SituationCode, Responsibility)]
        let status: RegistrationStatus
        let until: String?
        let points: Int
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "total 8: notices only", acts: [("2025-03-03", .otherT2, .general), ("2025-04-10", .otherT2, .general)],
             status: .normal, until: nil, points: 8),
        Case(name: "cumulative 9 → 1 month", acts: [("2025-03-03", .otherT2, .general), ("2025-04-10", .otherT2, .important)],
             status: .suspended, until: "2025-05-10", points: 9),
        Case(name: "one-time 9 → 2 months", acts: [("2025-04-10", .otherT3, .main)],
             status: .suspended, until: "2025-06-10", points: 9),
        Case(name: "cumulative 10 → 3 months", acts: [("2025-03-03", .otherT2, .general), ("2025-04-10", .otherT2, .main)],
             status: .suspended, until: "2025-07-10", points: 10),
        Case(name: "one-time 10 → 4 months", acts: [("2025-04-10", .otherT4, .general)],
             status: .suspended, until: "2025-08-10", points: 10),
        Case(name: "cumulative 11 → 5 months", acts: [("2025-03-03", .otherT2, .important), ("2025-04-10", .otherT2, .main)],
             status: .suspended, until: "2025-09-10", points: 11),
        Case(name: "one-time 11 → 6 months", acts: [("2025-04-10", .otherT4, .important)],
             status: .suspended, until: "2025-10-10", points: 11),
        Case(name: "cumulative 12 → terminated, 1-year ban", acts: [("2025-03-03", .otherT2, .main), ("2025-04-10", .otherT2, .main)],
             status: .terminated, until: "2026-04-10", points: 12),
        Case(name: "one-time 12 → terminated, 3-year ban", acts: [("2025-04-10", .otherT4, .main)],
             status: .terminated, until: "2028-04-10", points: 12),
        Case(name: "2 then one-time 9 → total 11: max(5, 2) = 5 months", acts: [("2025-03-03", .otherT1, .important), ("2025-04-10", .otherT3, .main)],
             status: .suspended, until: "2025-09-10", points: 11),
        Case(name: "8 then 3 → total 11 → 5 months, not one-time 11", acts: [("2025-03-03", .otherT3, .important), ("2025-04-10", .otherT1, .main)],
             status: .suspended, until: "2025-09-10", points: 11),
        Case(name: "1 then one-time 11 → total 12 → 1-year ban, not 3", acts: [("2025-03-03", .otherT1, .general), ("2025-04-10", .otherT4, .important)],
             status: .terminated, until: "2026-04-10", points: 12),
        Case(name: "11 then 3 → 14 → terminated", acts: [("2025-03-03", .otherT4, .important), ("2025-04-10", .otherT1, .main)],
             status: .terminated, until: "2026-04-10", points: 14),
    ]

    @Test("ladder rows", arguments: Fixtures.allPacks, cases)
    func ladder(packName: String, testCase: Case) throws {
        let scorer = Scorer(pack: try Fixtures.pack(packName), calendar: Fixtures.calendar)
        let facts = testCase.acts.enumerated().map { index, entry in
            act("A\(index)", on: entry.0, [entry.1], responsibility: entry.2)
        }
        let state = try scorer.state(facts, asOf: "2025-04-10")
        #expect(state.points == testCase.points)
        #expect(state.status == testCase.status)
        #expect(state.until == testCase.until.map(d))
    }

    @Test("stepping up while suspended: the full new duration from the new act, later end wins", arguments: Fixtures.allPacks)
    func steppingUp(packName: String) throws {
        let scorer = Scorer(pack: try Fixtures.pack(packName))
        // One-time 9 on 3 March → until 3 May; +1 on 1 April → total 10 → 3 months from 1 April → 1 July.
        let facts = [act("A1", on: "2025-03-03", [.otherT3]), act("A2", on: "2025-04-01", [.otherT1], responsibility: .general)]
        let state = try scorer.state(facts, asOf: "2025-04-02")
        #expect(state.until == d("2025-07-01"))
        // A later act giving an earlier end keeps the later one: one-time 10 (4 months, to 10 May)
        // then a cumulative 11 reached on 11 January gives 5 months → 11 June, the later end.
        let second = [act("B1", on: "2025-01-10", [.otherT4], responsibility: .general), act("B2", on: "2025-01-11", [.otherT1], responsibility: .general)]
        #expect(try scorer.state(second, asOf: "2025-02-01").until == d("2025-06-11"))
    }

    @Test("a termination replaces a suspension; later points are recorded but change nothing", arguments: Fixtures.allPacks)
    func terminationReplacesSuspension(packName: String) throws {
        let scorer = Scorer(pack: try Fixtures.pack(packName))
        let facts = [
            act("A1", on: "2025-03-03", [.otherT3]),                              // 9 → suspended to 3 May
            act("A2", on: "2025-03-20", [.otherT1]),                              // 12 → terminated, ban to 2026-03-20
            act("A3", on: "2025-05-01", [.otherT2], responsibility: .general),    // 16, still terminated
        ]
        let state = try scorer.state(facts, asOf: "2025-06-01")
        #expect(state.status == .terminated)
        #expect(state.until == d("2026-03-20"))
        #expect(state.points == 16)
    }

    @Test("notices by yearly total", arguments: Fixtures.allPacks)
    func notices(packName: String) throws {
        let scorer = Scorer(pack: try Fixtures.pack(packName))
        let gd: [Int: [Notice]] = [
            2: [], 3: [.institutionTalk, .training], 5: [.institutionTalk, .training],
            6: [.agencyTalk, .internalBulletin, .training], 8: [.agencyTalk, .internalBulletin, .training],
            9: [.agencyTalk, .internalBulletin, .training], 11: [.agencyTalk, .internalBulletin, .training],
            12: [.agencyTalk, .exam, .internalBulletin],
        ]
        let shanghai: [Int: [Notice]] = [2: [.notifyInstitution], 3: [.notifyInstitution], 5: [.notifyInstitution], 6: [.notifyInstitution],
                                          8: [.notifyInstitution], 9: [.notifyInstitution], 11: [.notifyInstitution], 12: [.notifyInstitution]]
        let imAbove3: [Notice] = [.institutionTalk, .notifyInstitution, .training]
        let innerMongolia: [Int: [Notice]] = [2: [], 3: imAbove3, 5: imAbove3, 6: imAbove3, 8: imAbove3, 9: imAbove3, 11: imAbove3, 12: imAbove3]
        let expected = packName == "shanghai" ? shanghai : packName == "inner-mongolia" ? innerMongolia : gd
        let acts: [Int: (SituationCode, Responsibility)] = [
            2: (.otherT1, .important), 3: (.otherT1, .main), 5: (.otherT2, .important), 6: (.otherT2, .main),
            8: (.otherT3, .important), 9: (.otherT3, .main), 11: (.otherT4, .important), 12: (.otherT4, .main),
        ]
        for (total, notices) in expected {
            guard let (situation, responsibility) = acts[total] else { continue }
            let state = try scorer.state([act("A", on: "2025-05-06", [situation], responsibility: responsibility)], asOf: "2025-05-06")
            #expect(state.points == total)
            #expect(state.actions == notices, "\(packName) total \(total)")
        }
    }
}

/// scoring.md §7, institution events.
@Suite("§7 institution events")
struct InstitutionEventTests {
    func agreementEvent(_ id: String, on date: String, _ situation: SituationCode, persons: [String], institution: String = "H1") -> Fact {
        .act(ScoringAct(
            id: FactID(issuer: "440800-INS-AGENCY", id: id), source: .agreementHandling, decidedOn: d(date), scoredOn: d(date),
            institutions: [institution],
            findings: [Finding(violation: "V1", situations: [situation], persons: persons.map { ResponsiblePerson(code: $0, responsibility: .main) })]))
    }

    @Test("agreement suspended: responsible persons open-ended until agreement-resumed", arguments: ["guangdong", "national", "shandong", "inner-mongolia"])
    func linkedSuspension(packName: String) throws {
        let scorer = Scorer(pack: try Fixtures.pack(packName))
        let facts = [
            agreementEvent("E1", on: "2025-05-06", .agreementSuspended, persons: ["D1"]),
            act("other", on: "2025-05-01", person: "D2", [.otherT1], responsibility: .general),
            .resumption(AgreementResumption(id: FactID(issuer: "440800-INS-AGENCY", id: "E2"), institution: "H1", decidedOn: d("2025-08-01"))),
        ]
        let during = try scorer.evaluate(facts, asOf: d("2025-07-31"))
        #expect(during.persons.map(\.status) == [.suspended, .normal])     // D1 suspended, D2 not responsible
        #expect(during.persons[0].until == nil)
        #expect(during.persons[0].points == 0)
        let after = try scorer.state(facts, asOf: "2025-08-01")
        #expect(after.status == .normal)
    }

    @Test("agreement terminated: responsible persons terminated with a 1-year ban", arguments: ["guangdong", "national", "shandong", "inner-mongolia"])
    func linkedTermination(packName: String) throws {
        let scorer = Scorer(pack: try Fixtures.pack(packName))
        let state = try scorer.state([agreementEvent("E1", on: "2025-05-06", .agreementTerminated, persons: ["D1"])], asOf: "2025-06-01")
        #expect(state.status == .terminated)
        #expect(state.until == d("2026-05-06"))
    }

    @Test("shanghai: agreement suspended gives one-time 11 → 6 months; with 1 point before → 12 → terminated 1 year")
    func shanghaiFixedPoints() throws {
        let scorer = Scorer(pack: try Fixtures.pack("shanghai"))
        let alone = try scorer.state([agreementEvent("E1", on: "2025-05-06", .agreementSuspended, persons: ["D1"])], asOf: "2025-05-06")
        #expect(alone.points == 11)
        #expect(alone.until == d("2025-11-06"))
        let withPrior = try scorer.state([
            act("A1", on: "2025-03-03", [.otherT1], responsibility: .general),
            agreementEvent("E1", on: "2025-05-06", .agreementSuspended, persons: ["D1"]),
        ], asOf: "2025-05-06")
        #expect(withPrior.status == .terminated)
        #expect(withPrior.until == d("2026-05-06"))
        let terminated = try scorer.state([agreementEvent("E1", on: "2025-05-06", .agreementTerminated, persons: ["D1"])], asOf: "2025-05-06")
        #expect(terminated.until == d("2028-05-06"))   // one-time 12 → 3-year ban
    }

    @Test("over-threshold: sanctioned person-times above 50% of registered persons; key supervision on fraud",
          arguments: Fixtures.allPacks)
    func indicators(packName: String) throws {
        let scorer = Scorer(pack: try Fixtures.pack(packName))
        func register(_ person: String) -> Fact {
            .registration(RegistrationFact(id: FactID(issuer: "440800-INS-AGENCY", id: "R-\(person)"), person: person,
                                           institution: "H1", action: .register, on: d("2024-12-01")))
        }
        let base: [Fact] = ["D1", "D2", "D3", "D4"].map(register)
        let two = base + [act("A1", on: "2025-03-03", person: "D1", [.otherT3]), act("A2", on: "2025-03-03", person: "D2", [.otherT3])]
        let atHalf = try scorer.evaluate(two, asOf: d("2025-04-01")).institutions.first { $0.institution == "H1" }
        #expect(atHalf?.sanctionedPersonTimes == 2)
        #expect(atHalf?.registeredPersons == 4)
        #expect(atHalf?.overThreshold == false)    // 2 of 4 is not more than 50%
        #expect(atHalf?.keySupervision == false)
        let three = two + [act("A3", on: "2025-03-04", person: "D3", [.penaltyArt40], responsibility: .general)]
        let above = try scorer.evaluate(three, asOf: d("2025-04-01")).institutions.first { $0.institution == "H1" }
        #expect(above?.overThreshold == true)      // 3 of 4
        #expect(above?.keySupervision == true)     // art. 40 carries the fraud flag
        #expect(above?.fraudActs == [FactID(issuer: issuer, id: "A3")])
    }
}
