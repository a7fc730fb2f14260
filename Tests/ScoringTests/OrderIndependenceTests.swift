@testable import Scoring
import Testing
import TongbaoTestSupport

/// Property: for random sets of facts, every arrival order gives identical output.
@Suite("order independence")
struct OrderIndependenceTests {
    static func randomFacts(count: Int, shanghai: Bool, using random: inout SeededGenerator) -> [Fact] {
        let persons = ["D1", "D2", "N3"]
        let institutions = ["H1", "H2"]
        let situations: [SituationCode] = [.otherT1, .otherT2, .otherT3, .otherT4, .procurementNonSelected, .penaltyArt38to39,
                                           .impersonation, .penaltyArt40, .agreementSuspended, .agreementTerminated]
        // A small pool of dates, so that several facts often fall on one day and the tie-break matters.
        let pool = ["2025-01-06", "2025-03-03", "2025-03-03", "2025-06-02", "2025-09-01", "2025-12-22", "2026-01-05", "2026-05-06"]
        func date() -> String { pool.randomElement(using: &random) ?? "2025-03-03" }
        var facts: [Fact] = []
        var actIDs: [FactID] = []
        for index in 0..<count {
            let id = "F\(index)"
            let person = persons.randomElement(using: &random) ?? "D1"
            switch Int.random(in: 0..<11, using: &random) {
            case 0..<5:
                let findings = (0..<Int.random(in: 1...2, using: &random)).map { number in
                    Finding(violation: "V\(number)", situations: [situations.randomElement(using: &random) ?? .otherT1],
                            persons: [ResponsiblePerson(code: person, responsibility: Responsibility.allCases.randomElement(using: &random) ?? .main,
                                                        adjustment: Adjustment.allCases.randomElement(using: &random) ?? .none)])
                }
                let decided = d(date())
                let scored = shanghai && Bool.random(using: &random) ? nil : decided
                facts.append(.act(ScoringAct(id: FactID(issuer: issuer, id: id), source: .penaltyDecision, decidedOn: decided,
                                             scoredOn: scored, institutions: [institutions.randomElement(using: &random) ?? "H1"], findings: findings)))
                actIDs.append(FactID(issuer: issuer, id: id))
            case 5:
                facts.append(repair(id, on: date(), person: person, RepairCategory.allCases.randomElement(using: &random) ?? .publicity,
                                    exam: nil, fraud: Bool.random(using: &random)))
            case 6:
                let decided = date()
                facts.append(restoration(id, on: decided, applied: decided, person: person))
            case 7:
                facts.append(.resumption(AgreementResumption(id: FactID(issuer: "440800-INS-AGENCY", id: id),
                                                             institution: institutions.randomElement(using: &random) ?? "H1", decidedOn: d(date()))))
            case 8:
                if let target = actIDs.randomElement(using: &random) {
                    if shanghai {
                        facts.append(.finalDecision(FinalScoreDecision(id: FactID(issuer: "AGENCY", id: id), decidedOn: d(date()), target: target,
                                                                       outcome: Bool.random(using: &random) ? .confirmed : .annulled)))
                    } else {
                        facts.append(.correction(CorrectionDecision(id: FactID(issuer: issuer, id: id), decidedOn: d(date()), target: target)))
                    }
                }
            case 9:
                let from = d(date())
                facts.append(.practice(PracticeNoticeFact(
                    id: FactID(issuer: "440800-HEALTH", id: id), person: person, event: PracticeEvent.allCases.randomElement(using: &random) ?? .practiceSuspended,
                    decisionNo: "N\(index)", decidedOn: from, effectiveFrom: from,
                    effectiveUntil: Bool.random(using: &random) ? d(date()) : nil, institutions: [institutions.randomElement(using: &random) ?? "H1"])))
            default:
                facts.append(.registration(RegistrationFact(id: FactID(issuer: "440800-INS-AGENCY", id: id), person: person,
                                                            institution: institutions.randomElement(using: &random) ?? "H1",
                                                            action: Bool.random(using: &random) ? .register : .deregister, on: d(date()))))
            }
        }
        return facts
    }

    static func permutations<T>(_ items: [T]) -> [[T]] {
        guard items.count > 1 else { return [items] }
        return items.indices.flatMap { index -> [[T]] in
            var rest = items
            let first = rest.remove(at: index)
            return permutations(rest).map { [first] + $0 }
        }
    }

    @Test("every permutation of arrival order gives identical output", arguments: ["guangdong", "shanghai", "inner-mongolia"])
    func permutationsAgree(packName: String) throws {
        let pack = try Fixtures.pack(packName)
        let scorer = Scorer(pack: pack, calendar: Fixtures.calendar)
        var random = SeededGenerator(seed: 20_251_123)
        var compared = 0
        for round in 0..<120 {
            let facts = Self.randomFacts(count: 2 + round % 5, shanghai: packName == "shanghai", using: &random)
            for asOf in ["2025-06-30", "2026-03-01", "2026-12-31"] {
                let expected = try scorer.evaluate(facts, asOf: d(asOf), explain: true)
                let orders = facts.count <= 5 ? Self.permutations(facts) : (0..<30).map { _ in facts.shuffled(using: &random) }
                for order in orders {
                    #expect(try scorer.evaluate(order, asOf: d(asOf), explain: true) == expected)
                    compared += 1
                }
            }
        }
        #expect(compared > 1000)
    }
}

/// The fold cut into shards on every core gives exactly what one piece on one thread gives.
@Suite("parallel fold")
struct ParallelFoldTests {
    @Test("sharded evaluation equals the one-piece evaluation, for inputs above the parallel threshold", arguments: ["guangdong", "shanghai"])
    func shardedEqualsSequential(packName: String) throws {
        let pack = try Fixtures.pack(packName)
        let scorer = Scorer(pack: pack, calendar: Fixtures.calendar)
        var random = SeededGenerator(seed: 7)
        // Many small worlds (persons D1, D2, N3 at H1, H2 in each) renamed apart, so the input is large but
        // every person still has corrections, repairs, resumptions and registrations among their facts.
        var facts: [Fact] = []
        for world in 0..<400 {
            let suffix = "-W\(world)"
            for fact in OrderIndependenceTests.randomFacts(count: 14, shanghai: packName == "shanghai", using: &random) {
                facts.append(fact.renamed(suffix))
            }
        }
        #expect(facts.count > Scorer.parallelThreshold)
        for asOf in ["2025-06-30", "2026-12-31"] {
            let sequential = try scorer.evaluate(facts, asOf: d(asOf), history: .all, shards: 1)
            let sharded = try scorer.evaluate(facts, asOf: d(asOf), history: .all, shards: Scorer.shardCount)
            #expect(sharded == sequential)
            #expect(try scorer.evaluate(facts.shuffled(using: &random), asOf: d(asOf)) == scorer.evaluate(facts, asOf: d(asOf), history: .none, shards: 1))
            #expect(sequential.persons.count > 1_000)
            #expect(sequential.persons.map(\.person) == sequential.persons.map(\.person).sorted())
        }
    }

    static func guangdong() throws -> Scorer {
        Scorer(pack: try Fixtures.pack("guangdong"), calendar: Fixtures.calendar)
    }

    /// `count` small worlds of 12 random guangdong facts each, renamed apart.
    static func worlds(_ count: Int, using random: inout SeededGenerator) -> [Fact] {
        (0..<count).flatMap { world in
            OrderIndependenceTests.randomFacts(count: 12, shanghai: false, using: &random).map { $0.renamed("-W\(world)") }
        }
    }

    @Test("identical repeats are applied once, however the work is cut")
    func identicalRepeats() throws {
        let scorer = try Self.guangdong()
        var random = SeededGenerator(seed: 9)
        let facts = Self.worlds(500, using: &random)
        let expected = try scorer.evaluate(facts, asOf: d("2025-12-31"), history: .all, shards: 1)
        let repeated = (facts + facts.prefix(700) + facts.suffix(3)).shuffled(using: &random)
        for shards in [1, 16] {
            #expect(try scorer.evaluate(repeated, asOf: d("2025-12-31"), history: .all, shards: shards) == expected)
        }
    }

    @Test("a conflicting duplicate id is reported the same way, however the work is cut")
    func duplicateConflict() throws {
        let scorer = try Self.guangdong()
        var random = SeededGenerator(seed: 8)
        var facts = Self.worlds(500, using: &random)
        facts.append(contentsOf: facts.prefix(100))                       // identical copies are dropped
        facts.append(repair("F1-W3", on: "2025-03-03", person: "D9", .publicity, exam: nil, fraud: false))
        facts.append(repair("F1-W3", on: "2025-03-04", person: "D9", .publicity, exam: nil, fraud: false))
        for shards in [1, 16] {
            #expect(throws: ScoringError.self) { try scorer.evaluate(facts, asOf: d("2025-12-31"), history: .none, shards: shards) }
            do {
                _ = try scorer.evaluate(facts, asOf: d("2025-12-31"), history: .none, shards: shards)
            } catch {
                #expect(error.code == .duplicateId)
                #expect(error.source?.hasSuffix("/F1-W3") == true)
            }
        }
    }
}

extension Fact {
    /// The same fact with every id, person and institution code given a suffix (a separate world).
    func renamed(_ suffix: String) -> Fact {
        func id(_ id: FactID) -> FactID { FactID(issuer: id.issuer, id: id.id + suffix) }
        switch self {
        case .act(let act):
            return .act(ScoringAct(
                id: id(act.id), source: act.source, decidedOn: act.decidedOn, scoredOn: act.scoredOn,
                institutions: act.institutions.map { $0 + suffix }, fraud: act.fraud,
                findings: act.findings.map { finding in
                    Finding(violation: finding.violation, situations: finding.situations, persons: finding.persons.map {
                        ResponsiblePerson(code: $0.code + suffix, responsibility: $0.responsibility, adjustment: $0.adjustment)
                    })
                }))
        case .repair(let repair):
            return .repair(RepairDecision(id: id(repair.id), person: repair.person + suffix, decidedOn: repair.decidedOn,
                                          category: repair.category, examScore: repair.examScore, fraudReport: repair.fraudReport))
        case .restoration(let restoration):
            return .restoration(RestorationDecision(id: id(restoration.id), person: restoration.person + suffix,
                                                    decidedOn: restoration.decidedOn, appliedOn: restoration.appliedOn))
        case .resumption(let resumption):
            return .resumption(AgreementResumption(id: id(resumption.id), institution: resumption.institution + suffix, decidedOn: resumption.decidedOn))
        case .finalDecision(let decision):
            return .finalDecision(FinalScoreDecision(id: id(decision.id), decidedOn: decision.decidedOn, target: id(decision.target), outcome: decision.outcome))
        case .correction(let correction):
            return .correction(CorrectionDecision(id: id(correction.id), decidedOn: correction.decidedOn, target: id(correction.target)))
        case .registration(let registration):
            return .registration(RegistrationFact(id: id(registration.id), person: registration.person + suffix,
                                                  institution: registration.institution + suffix, action: registration.action, on: registration.on))
        case .practice(var notice):
            notice.id = id(notice.id)
            notice.person += suffix
            notice.institutions = notice.institutions.map { $0 + suffix }
            return .practice(notice)
        case .referral(var referral):
            referral.id = id(referral.id)
            referral.person += suffix
            referral.cause = id(referral.cause)
            return .referral(referral)
        case .referralReply(var reply):
            reply.id = id(reply.id)
            reply.referral = id(reply.referral)
            reply.related = reply.related.map(id)
            return .referralReply(reply)
        }
    }
}
