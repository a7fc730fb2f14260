import Scoring
import Testing

/// scoring.md §3: every row of the situation table, for every pack, with the points for a general,
/// important and main responsibility worked out by hand (T1 = 1/2/3, T2 = 4/5/6, T3 = 7/8/9,
/// T4 = 10/11/12; fixed points ignore responsibility; status rules give no points).
@Suite("§3 situations and tiers")
struct SituationTableTests {
    enum Expect: Equatable {
        case points(Int, Int, Int)
        case status(InstitutionStatusEffect)
        case notApplicable
    }

    static let t1 = Expect.points(1, 2, 3)
    static let t2 = Expect.points(4, 5, 6)
    static let t3 = Expect.points(7, 8, 9)
    static let t4 = Expect.points(10, 11, 12)
    static let na = Expect.notApplicable

    /// (situation, guangdong, shanghai, inner-mongolia, national and shandong) — the table of §3.
    static let table: [(SituationCode, Expect, Expect, Expect, Expect)] = [
        (.agreementLiquidatedDamages, t1, na, t1, t1),
        (.agreementPaymentSuspended, na, na, t1, t1),
        (.agreementRepeatedMinor, na, na, t1, na),
        (.agreementMajorLoss, na, t1, na, na),
        (.procurementNonSelected, t1, t1, t1, t1),
        (.penaltyExempted, na, na, t1, na),
        (.penaltyShanghai63, na, t1, na, na),
        (.penaltyArt38to39, t2, t2, t2, t2),
        (.interviewRefusedCorrection, na, na, t2, na),
        (.selfInspectionPerfunctory, na, na, t2, na),
        (.impersonation, t3, t3, t3, t3),
        (.penaltyArt40, t4, t4, t4, t4),
        (.licenceRevoked, .points(12, 12, 12), t4, t4, t4),
        (.correctionRefusedAfterOrder, na, na, t4, na),
        (.agreementSuspended, .status(.suspend), .points(11, 11, 11), .status(.suspend), .status(.suspend)),
        (.agreementTerminated, .status(.terminate), .points(12, 12, 12), .status(.terminate), .status(.terminate)),
        (.otherT1, t1, t1, t1, t1),
        (.otherT2, t2, t2, t2, t2),
        (.otherT3, t3, t3, t3, t3),
        (.otherT4, t4, t4, t4, t4),
    ]

    static func expected(_ row: (SituationCode, Expect, Expect, Expect, Expect), pack: String) -> Expect {
        switch pack {
        case "guangdong": row.1
        case "shanghai": row.2
        case "inner-mongolia": row.3
        default: row.4
        }
    }

    @Test("the table covers every situation code")
    func tableIsComplete() {
        #expect(Set(Self.table.map(\.0)) == Set(SituationCode.allCases))
    }

    @Test("each situation scores as the table says", arguments: Fixtures.allPacks)
    func situationPoints(packName: String) throws {
        let pack = try Fixtures.pack(packName)
        for row in Self.table {
            let expectation = Self.expected(row, pack: packName)
            switch expectation {
            case .notApplicable:
                #expect(pack.rule(for: row.0) == .notApplicable, "\(packName) \(row.0.rawValue)")
                let fact = act("A", on: "2025-06-02", [row.0])
                guard case .act(let scoringAct) = fact else { continue }
                #expect(throws: ScoringError.self) { try ActPoints.score(scoringAct, person: "D1", pack: pack) }
            case .status(let effect):
                guard case .act(let scoringAct) = act("A", on: "2025-06-02", [row.0]) else { continue }
                let points = try ActPoints.score(scoringAct, person: "D1", pack: pack)
                #expect(points.points == 0, "\(packName) \(row.0.rawValue)")
                #expect(points.statusEffects == [effect], "\(packName) \(row.0.rawValue)")
            case .points(let general, let important, let main):
                for (responsibility, value) in [(Responsibility.general, general), (.important, important), (.main, main)] {
                    guard case .act(let scoringAct) = act("A", on: "2025-06-02", [row.0], responsibility: responsibility) else { continue }
                    let points = try ActPoints.score(scoringAct, person: "D1", pack: pack)
                    #expect(points.points == value, "\(packName) \(row.0.rawValue) \(responsibility.rawValue)")
                }
            }
        }
    }

    @Test("fraud situations: penalty.art40, impersonation, agreement.terminated", arguments: Fixtures.allPacks)
    func fraudFlag(packName: String) throws {
        let pack = try Fixtures.pack(packName)
        #expect(pack.fraudSituations == [.penaltyArt40, .impersonation, .agreementTerminated])
    }
}

/// scoring.md §4: adjustments, highest per finding, sum per act.
@Suite("§4 points of one act")
struct ActPointsTests {
    func points(_ situations: [SituationCode], _ responsibility: Responsibility, _ adjustment: Adjustment, pack: String = "guangdong") throws -> Int {
        guard case .act(let scoringAct) = act("A", on: "2025-06-02", situations, responsibility: responsibility, adjustment: adjustment) else { return -1 }
        return try ActPoints.score(scoringAct, person: "D1", pack: try Fixtures.pack(pack)).points
    }

    @Test("lighter stays within the tier")
    func lighter() throws {
        #expect(try points([.penaltyArt38to39], .main, .lighter) == 5)     // 6 − 1
        #expect(try points([.penaltyArt38to39], .general, .lighter) == 4)  // 4 − 1 = 3, tier low is 4
    }

    @Test("reduced goes one tier down, never below 1")
    func reduced() throws {
        #expect(try points([.penaltyArt38to39], .main, .reduced) == 3)     // 6 − 3
        #expect(try points([.otherT1], .general, .reduced) == 1)           // 1 − 3 → 1
        #expect(try points([.penaltyArt40], .general, .reduced) == 7)      // 10 − 3
    }

    @Test("heavier stays within the tier")
    func heavier() throws {
        #expect(try points([.penaltyArt38to39], .general, .heavier) == 5)  // 4 + 1
        #expect(try points([.penaltyArt38to39], .main, .heavier) == 6)     // 6 + 1 = 7, tier high is 6
    }

    @Test("raised goes one tier up, never above 12")
    func raised() throws {
        #expect(try points([.penaltyArt38to39], .main, .raised) == 9)      // 6 + 3
        #expect(try points([.penaltyArt40], .important, .raised) == 12)    // 11 + 3 → 12
    }

    @Test("fixed points ignore responsibility and adjustments")
    func fixedIgnoresAdjustment() throws {
        #expect(try points([.licenceRevoked], .general, .reduced) == 12)
        #expect(try points([.agreementSuspended], .general, .lighter, pack: "shanghai") == 11)
    }

    @Test("a finding counts its highest situation only")
    func highestPerFinding() throws {
        // Art. 38 (T2, important = 5) and impersonation (T3, important = 8) in one violation → 8, not 13.
        #expect(try points([.penaltyArt38to39, .impersonation], .important, .none) == 8)
    }

    @Test("findings of one act add up, and may exceed 12")
    func sumPerAct() throws {
        let pack = try Fixtures.pack("guangdong")
        let second = Finding(violation: "V2", situations: [.impersonation], persons: [ResponsiblePerson(code: "D1", responsibility: .general)])
        let third = Finding(violation: "V3", situations: [.otherT1], persons: [ResponsiblePerson(code: "D2", responsibility: .main)])
        guard case .act(let scoringAct) = act("A", on: "2025-06-02", [.penaltyArt38to39], responsibility: .important, findings: [second, third]) else { return }
        // 5 (art. 38, important) + 7 (impersonation, general) = 12; D2's finding does not count for D1.
        #expect(try ActPoints.score(scoringAct, person: "D1", pack: pack).points == 12)
        #expect(try ActPoints.score(scoringAct, person: "D2", pack: pack).points == 3)
        guard case .act(let big) = act("B", on: "2025-06-02", [.penaltyArt40], findings: [
            Finding(violation: "V2", situations: [.penaltyArt40], persons: [ResponsiblePerson(code: "D1", responsibility: .main)]),
        ]) else { return }
        #expect(try ActPoints.score(big, person: "D1", pack: pack).points == 24)
    }
}
