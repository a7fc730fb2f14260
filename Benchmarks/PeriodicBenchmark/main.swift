// Periodic bulletin generation (issue 7): the monthly ScoreBulletin and CreditRatings of a region with
// 200,000 scored persons, as the scheduler inside `tongbao serve` makes them.
//
//   swift build -c release --product PeriodicBenchmark && .build/release/PeriodicBenchmark [--persons N] [--runs R]
//
// The facts are decoded from JSON bulletins (through the same decoder and rule check as intake) into the
// projection and directory a gateway holds in memory; the ledger is not involved (generation reads only
// the projection). It then times PeriodicBulletins for June 2025, R times (the drafts, before signing).
import Bulletins
import Foundation
import Gateway
import Scoring
import StrictJSON
import TongbaoTestSupport

let commandLine = BenchmarkCommandLine(usage: "PeriodicBenchmark [--persons N] [--runs R]", options: ["--persons": .count, "--runs": .count])
let persons = commandLine.int("--persons", 200_000)
let runs = commandLine.int("--runs", 3)
let repository = commandLine.repository
let url = repository.appendingPathComponent("rules/packs/guangdong.json")
let pack = try RulePackLoader.load(try Data(contentsOf: url), source: url.path)
let projection = FactProjection(scorer: Scorer(pack: pack))
let directory = Directory()
let routing = OutboundRouting(participants: ParticipantsFile.defaults, homeRegion: "440800")
let model = try CreditModel.load(Array(try Data(contentsOf: repository.appendingPathComponent("rules/credit/default.json"))), source: "default.json")

// One act per person in June 2025 (situations cycling through the tiers), plus an act in March for every
// tenth person, at 2,000 institutions (medical and pharmacy).
let loadStart = Date()
var acts = 0
let situations = ["procurement.non-selected", "penalty.art38-39", "impersonation", "penalty.art40"]
for index in 0..<persons {
    let institution = index % 2000 < 1600 ? "H4408\(String(format: "%07d", index % 2000))" : "P4408\(String(format: "%07d", index % 2000))"
    let kind = institution.hasPrefix("H") ? "medical" : "pharmacy"
    var dates = ["2025-06-\(String(format: "%02d", 1 + index % 28))"]
    if index % 10 == 0 { dates.append("2025-03-\(String(format: "%02d", 1 + index % 28))") }
    for (number, date) in dates.enumerated() {
        let text = #"{"id":"P-\#(index)-\#(number)","type":"PenaltyDecision","issuer":"440800-INS-ADMIN","issuedAt":"\#(date)T10:00:00+08:00","region":"440800","rules":"guangdong","body":{"decisionNo":"湛医保罚〔2025〕\#(index)号","decidedOn":"\#(date)","institution":{"code":"\#(institution)","kind":"\#(kind)"},"findings":[{"violation":"V1","situations":["\#(situations[(index + number) % situations.count])"],"persons":[{"code":"D4408\#(String(format: "%08d", index))","name":"测试\#(index)","category":"physician","responsibility":"general"}]}]}}"#
        let bulletin = try BulletinJSONDecoder.bulletin(fromTree: try JSONParser().parse(Array(text.utf8)))
        directory.learn(bulletin)
        if let fact = try bulletin.fact(under: pack) { projection.add(fact) }
        acts += 1
    }
}
print("loaded \(acts) acts for \(persons) persons into the projection in \(String(format: "%.1f", Date().timeIntervalSince(loadStart))) s")

guard let period = ReportingPeriod("2025-06") else { exit(1) }
let generator = PeriodicBulletins(routing: routing, projection: projection, directory: directory, creditModel: model)
var seconds: [Double] = []
var last: (bulletin: OutboundDraft, ratings: [OutboundDraft])?
for run in 1...runs {
    let start = Date()
    last = try generator.drafts(region: "440800", period: period)
    seconds.append(Date().timeIntervalSince(start))
    print("run \(run): ScoreBulletin and \(last?.ratings.count ?? 0) CreditRatings in \(String(format: "%.2f", seconds.last ?? 0)) s")
}
let median = seconds.sorted()[seconds.count / 2]
let size = last.map { $0.bulletin.body.utf8.count } ?? 0
print("median \(String(format: "%.2f", median)) s for \(persons) persons; the ScoreBulletin body is \(size / 1_048_576) MiB")
