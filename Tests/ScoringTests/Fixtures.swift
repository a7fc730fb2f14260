import Foundation
import Scoring

/// Test helpers: the shipped packs and calendar, and short builders for facts.
enum Fixtures {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func pack(_ name: String) throws -> RulePack {
        let url = repository.appendingPathComponent("rules/packs/\(name).json")
        return try RulePackLoader.load(try Data(contentsOf: url), source: url.path)
    }

    static let calendar: WorkingDayCalendar = {
        let years = [2025, 2026].compactMap { year -> WorkingDayCalendar.Year? in
            let url = repository.appendingPathComponent("rules/calendar/\(year).json")
            guard let data = try? Data(contentsOf: url) else { return nil }
            return try? WorkingDayCalendar.loadYear(data, source: url.path)
        }
        return WorkingDayCalendar(years: years)
    }()

    static let allPacks = ["guangdong", "shanghai", "inner-mongolia", "shandong", "national"]
}

/// `d("2025-06-01")`: a date literal for tests.
func d(_ text: String) -> CalendarDate {
    guard let date = CalendarDate(iso: text) else { preconditionFailure("bad test date \(text)") }
    return date
}

let issuer = "440800-INS-ADMIN"

/// A final (scored) act with one finding per (situation, responsibility) for one person.
func act(
    _ id: String, on date: String, person: String = "D1", _ situations: [SituationCode],
    responsibility: Responsibility = .main, adjustment: Adjustment = .none, institution: String = "H1",
    scored: Bool = true, findings extra: [Finding] = []
) -> Fact {
    let finding = Finding(violation: "V1", situations: situations,
                          persons: [ResponsiblePerson(code: person, responsibility: responsibility, adjustment: adjustment)])
    return .act(ScoringAct(
        id: FactID(issuer: issuer, id: id), source: .penaltyDecision, decidedOn: d(date), scoredOn: scored ? d(date) : nil,
        institutions: [institution], findings: [finding] + extra))
}

func repair(_ id: String, on date: String, person: String = "D1", _ category: RepairCategory, exam: Int? = nil, fraud: Bool = false) -> Fact {
    .repair(RepairDecision(id: FactID(issuer: "440800-INS-AGENCY", id: id), person: person, decidedOn: d(date),
                           category: category, examScore: exam, fraudReport: fraud))
}

func restoration(_ id: String, on date: String, applied: String, person: String = "D1") -> Fact {
    .restoration(RestorationDecision(id: FactID(issuer: "440800-INS-AGENCY", id: id), person: person, decidedOn: d(date), appliedOn: d(applied)))
}

extension Scorer {
    /// The state of one person.
    func state(_ facts: [Fact], asOf: String, person: String = "D1") throws -> PersonState {
        let evaluation = try evaluate(facts, asOf: d(asOf), explain: true)
        guard let state = evaluation.persons.first(where: { $0.person == person }) else {
            preconditionFailure("no state for \(person)")
        }
        return state
    }
}
