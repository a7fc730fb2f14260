// Derivation benchmark (issue 7): what intake's derivation costs per bulletin as a person's file grows.
//
//   swift build -c release && swift run -c release DerivationBenchmark [--persons P] [--rounds R]
//
// For each history length, every one of P persons holds that many penalty decisions (Guangdong pack, the
// same act as GatewayBenchmark's), and the next decision's notice is derived for each person: until the
// seventh round intake folded the file with every act's history, then once more without the new act (for
// a sanctioned person); now one fold records only the new act's history and gives the state without it too.
import Foundation
import Gateway
import Scoring
import TongbaoTestSupport

let commandLine = BenchmarkCommandLine(usage: "DerivationBenchmark [--persons P] [--rounds R]", options: ["--persons": .count, "--rounds": .count])
let persons = commandLine.int("--persons", 500)
let rounds = commandLine.int("--rounds", 5)
let repository = commandLine.repository
let url = repository.appendingPathComponent("rules/packs/guangdong.json")
let pack = try RulePackLoader.load(try Data(contentsOf: url), source: url.path)

func act(_ number: Int, person: String) -> Fact {
    .act(ScoringAct(
        id: FactID(issuer: "440800-INS-ADMIN", id: "BENCH-\(number)"), source: .penaltyDecision,
        decidedOn: CalendarDate(year: 2025, month: 6, day: 1 + number % 28) ?? .init(year: 2025, month: 6, day: 1)!,
        institutions: ["H44080200001"],
        findings: [Finding(violation: "V1", situations: [SituationCode(rawValue: "procurement.non-selected")!],
                           persons: [ResponsiblePerson(code: person, responsibility: .general)])]))
}

let codes = (0..<persons).map { String(format: "D44080%07d", $0) }
print("derivation per bulletin, \(persons) persons, median of \(rounds) rounds (µs per call)")
print("acts before | until now: whole history + before | now: both in one fold | (parts: whole history | the act's history | before)")
for length in [0, 1, 4, 12, 24, 48] {
    let projection = FactProjection(scorer: Scorer(pack: pack))
    var number = 0
    for _ in 0..<length {
        for index in 0..<persons {
            projection.add(act(number, person: codes[index]))
            number += 1
        }
    }
    let next = (0..<persons).map { index in act(number + index, person: codes[index]) }
    func time(_ body: (Int) throws -> Void) rethrows -> Double {
        var results: [Double] = []
        for _ in 0..<rounds {
            let start = DispatchTime.now().uptimeNanoseconds
            for index in 0..<persons { try body(index) }
            results.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3 / Double(persons))
        }
        return results.sorted()[results.count / 2]
    }
    let date = CalendarDate(year: 2025, month: 6, day: 28)!
    let explained = try time { index in
        _ = try projection.state(of: codes[index], on: date, explain: true, adding: next[index])
    }
    let after = try time { index in
        _ = try projection.state(of: codes[index], on: date, history: .only(next[index].id), adding: next[index])
    }
    let before = try time { index in
        _ = try projection.state(of: codes[index], on: date)
    }
    let together = try time { index in
        _ = try projection.change(of: codes[index], on: date, adding: next[index], history: .only(next[index].id))
    }
    print(String(format: "%11d | %33.1f | %21.1f | (%.1f | %.1f | %.1f)", length, explained + before, together, explained, after, before))
}
