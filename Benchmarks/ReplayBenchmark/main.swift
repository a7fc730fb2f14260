// Replay benchmark (issue 2): 1,000,000 acts over 200,000 persons.
//
//   swift build -c release && swift run -c release ReplayBenchmark [--acts N] [--persons P] [--keep DIR]
//
// 1. Generates the acts as JSON Lines (PenaltyDecision / AgreementHandling bulletins under the
//    national pack, deterministic), and the 1/4 and 1/2 prefixes.
// 2. Runs the real `tongbao replay` (the release build next to this executable) on each file, and reports
//    wall time, acts per second and the child's peak resident memory (getrusage).
// 3. Folds the same facts in-process at each size (no JSON), to show the fold alone is linear.
import Bulletins
import Foundation
import Scoring
import TongbaoTestSupport

#if canImport(Glibc)
import Glibc
#endif

struct Options {
    var acts = 1_000_000
    var persons = 200_000
    var keep: String?
    /// Internal: only write the JSON Lines files into this folder (run as a child, so that the
    /// measuring process stays small when it starts `tongbao`).
    var generateInto: String?

    init(_ commandLine: BenchmarkCommandLine) {
        acts = commandLine.int("--acts", acts)
        persons = commandLine.int("--persons", persons)
        keep = commandLine.arguments.contains("--keep") ? commandLine.text("--keep", "") : nil
        generateInto = commandLine.arguments.contains("--generate-into") ? commandLine.text("--generate-into", "") : nil
    }
}

func line(index: Int, persons: Int, random: inout SeededGenerator) -> String {
    let situations = ["procurement.non-selected", "penalty.art38-39", "agreement.liquidated-damages", "other.t1", "other.t2", "impersonation"]
    let responsibilities = ["general", "important", "main"]
    let person = random.below(persons)
    let dayOfYear = random.below(365)
    let date = CalendarDate(year: 2025, month: 1, day: 1)?.adding(days: dayOfYear).description ?? "2025-01-01"
    let situation = situations[random.below(situations.count)]
    let responsibility = responsibilities[random.below(3)]
    let institution = "H4408\(String(person % 500).leftPadded(7))"
    let code = "D4408\(String(person).leftPadded(8))"
    return #"{"id":"B\#(index)","type":"PenaltyDecision","issuer":"440800-INS-ADMIN","issuedAt":"2025-12-31T10:00:00+08:00","region":"440800","rules":"national","body":{"decisionNo":"湛医保罚〔2025〕\#(index)号","decidedOn":"\#(date)","institution":{"code":"\#(institution)","kind":"medical"},"legalBasis":"regulation-38","findings":[{"violation":"V1","situations":["\#(situation)"],"persons":[{"code":"\#(code)","category":"physician","responsibility":"\#(responsibility)"}]}]}}"#
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

func peakChildMemoryMiB() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &usage)
    return Double(usage.ru_maxrss) / 1024
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

let commandLine = BenchmarkCommandLine(
    usage: "ReplayBenchmark [--acts N] [--persons P] [--keep DIR]",
    options: ["--acts": .count, "--persons": .count, "--keep": .text, "--generate-into": .text])
let options = Options(commandLine)
let sizes = [options.acts / 4, options.acts / 2, options.acts]

func fileURL(_ folder: URL, _ size: Int) -> URL { folder.appendingPathComponent("acts-\(size).jsonl") }

if let target = options.generateInto {
    var random = SeededGenerator(seed: 2025)
    var lines: [String] = []
    lines.reserveCapacity(options.acts)
    for index in 0..<options.acts { lines.append(line(index: index, persons: options.persons, random: &random)) }
    for size in sizes {
        try Data((lines.prefix(size).joined(separator: "\n") + "\n").utf8).write(to: fileURL(URL(fileURLWithPath: target), size))
    }
    exit(0)
}

let here = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
let tongbao = here.appendingPathComponent("tongbao")
guard FileManager.default.isExecutableFile(atPath: tongbao.path) else {
    print("ReplayBenchmark: \(tongbao.path) is missing; run `swift build -c release` first")
    exit(74)
}
let folder = URL(fileURLWithPath: options.keep ?? NSTemporaryDirectory()).appendingPathComponent("tongbao-bench-\(getpid())")
try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
defer { if options.keep == nil { try? FileManager.default.removeItem(at: folder) } }

print("ReplayBenchmark: \(options.acts) acts over \(options.persons) persons; sizes \(sizes.map(String.init).joined(separator: ", "))")
print("generating JSON Lines in \(folder.path) …")
let generator = Process()
generator.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
generator.arguments = ["--acts", String(options.acts), "--persons", String(options.persons), "--generate-into", folder.path]
try generator.run()
generator.waitUntilExit()
guard generator.terminationStatus == 0 else {
    print("ReplayBenchmark: generating the data failed (\(generator.terminationStatus))")
    exit(1)
}
var files: [Int: URL] = [:]
for size in sizes { files[size] = fileURL(folder, size) }
let generatorPeak = peakChildMemoryMiB()
print("(the generator child peaked at \(String(format: "%.0f", generatorPeak)) MiB; each replay below is measured with wait4)")

print("\nend to end: tongbao replay --rules national --as-of 2025-12-31 FILE > /dev/null")
print("acts\tseconds\tacts/s\tµs/act\tpeak RSS (MiB)")
for size in sizes {
    guard let url = files[size] else { continue }
    var pid: pid_t = 0
    let arguments = [tongbao.path, "replay", "--rules", "national", "--as-of", "2025-12-31", url.path]
    var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    let start = DispatchTime.now().uptimeNanoseconds
    let spawned = posix_spawn(&pid, tongbao.path, &actions, nil, argv, environ)
    guard spawned == 0 else {
        print("ReplayBenchmark: cannot start tongbao (\(spawned))")
        exit(1)
    }
    var status: Int32 = 0
    var usage = rusage()
    wait4(pid, &status, 0, &usage)
    let time = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    for pointer in argv { free(pointer) }
    posix_spawn_file_actions_destroy(&actions)
    guard status == 0 else {
        print("tongbao replay failed (wait status \(status))")
        exit(1)
    }
    let peak = Double(usage.ru_maxrss) / 1024
    print("\(size)\t\(String(format: "%.2f", time))\t\(Int(Double(size) / time))\t\(String(format: "%.2f", time * 1e6 / Double(size)))\t\(String(format: "%.0f", peak))")
}

print("\nfold only (in process, facts already decoded)")
print("acts\tseconds\tacts/s\tµs/act")
let rulesURL = commandLine.repository.appendingPathComponent("rules/packs/national.json")
let pack = try RulePackLoader.load(try Data(contentsOf: rulesURL), source: rulesURL.path)
let decoder = BulletinJSONDecoder()
var allFacts: [Fact] = []
var decodeRandom = SeededGenerator(seed: 2025)
for index in 0..<options.acts {
    let bytes = Array(line(index: index, persons: options.persons, random: &decodeRandom).utf8)
    if let fact = try decoder.decode(bytes).fact(under: pack) { allFacts.append(fact) }
}
let scorer = Scorer(pack: pack)
for size in sizes {
    let facts = Array(allFacts.prefix(size))
    var persons = 0
    let time = try seconds { persons = try scorer.evaluate(facts, asOf: CalendarDate(year: 2025, month: 12, day: 31) ?? CalendarDate(dayNumber: 0)).persons.count }
    print("\(size)\t\(String(format: "%.2f", time))\t\(Int(Double(size) / time))\t\(String(format: "%.2f", time * 1e6 / Double(size)))\t(\(persons) persons)")
}
