import Foundation
import Testing

@Suite("tongbao replay")
struct ReplayCommandTests {
    let scenario = CLI.example("examples/replay/guangdong-2025.jsonl")

    @Test("prints one line per person, sorted, in cli.md's exact shape")
    func output() throws {
        let result = try CLI.run(["replay", "--rules", "guangdong", "--as-of", "2025-07-15", scenario])
        #expect(result.status == 0)
        #expect(result.lines == [
            #"{"person":"D440802000123","year":2025,"points":10,"status":"suspended","until":"2025-10-01","actions":["agency-talk","internal-bulletin","training"]}"#,
            #"{"person":"D440802000789","year":2025,"points":12,"status":"terminated","until":"2028-05-20","actions":["agency-talk","exam","internal-bulletin"]}"#,
            #"{"person":"N440802000456","year":2025,"points":4,"status":"normal","until":null,"actions":["institution-talk","training"]}"#,
        ])
        #expect(result.stderr.isEmpty)   // no progress in piped output
    }

    @Test("reads standard input with -, and single pretty-printed documents")
    func stdinAndDocuments() throws {
        let text = try String(contentsOfFile: scenario, encoding: .utf8)
        let piped = try CLI.run(["replay", "--rules", "guangdong", "--as-of", "2025-07-15", "-"], stdin: text)
        #expect(piped.lines.count == 3)
        let single = try CLI.run(["replay", "--rules", "guangdong", "--as-of", "2025-12-31", CLI.example("examples/bulletins/penalty-decision.json")])
        #expect(single.status == 0)
        #expect(single.lines.first == #"{"person":"D440802000123","year":2025,"points":6,"status":"normal","until":null,"actions":["agency-talk","internal-bulletin","training"]}"#)
    }

    @Test("--explain shows the arithmetic and the pack keys")
    func explain() throws {
        let result = try CLI.run(["replay", "--rules", "guangdong", "--as-of", "2025-07-15", "--explain", scenario])
        let first = try #require(result.lines.first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        let explain = try #require(object["explain"] as? [[String: Any]])
        #expect(explain.count == 2)   // two acts; the restoration of 20 July is after --as-of
        let findings = try #require(explain.first?["findings"] as? [[String: Any]])
        #expect(findings.first?["points"] as? Int == 6)
        let keys = try #require(explain.first?["keys"] as? [String])
        #expect(keys.contains("situations.penalty.art38-39"))
        #expect(keys.contains("responsibility.main"))
    }

    @Test("on a terminal, progress goes to stderr (the pipe tests above see none)")
    func progressOnTerminal() throws {
        // `script` (util-linux) runs the command on a pseudo-terminal, as a person at a shell would.
        let command = [CLI.executable.path, "replay", "--rules", "guangdong", "--as-of", "2025-07-15", scenario]
            .map { "'" + $0 + "'" }.joined(separator: " ")
        let result = try CLI.run(["-qec", command, "/dev/null"], executable: URL(fileURLWithPath: "/usr/bin/script"))
        #expect(result.status == 0)
        #expect(result.stdout.contains("replay: folding 4 facts"))
        #expect(result.stdout.contains(#""person":"D440802000123""#))
    }

    @Test("an unknown field exits 65 naming file, line and field")
    func unknownField() throws {
        let path = try CLI.file(
            try String(contentsOfFile: scenario, encoding: .utf8).replacingOccurrences(of: "\"legalBasis\"", with: "\"legalbasis\""))
        let result = try CLI.run(["replay", "--rules", "guangdong", "--as-of", "2025-07-15", path])
        #expect(result.status == 65)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("\(path):1: /body/legalbasis: unknown field \"legalbasis\" [schema-invalid]"))
    }

    @Test("a situation the pack marks not applicable exits 65 with its line in a pretty-printed file")
    func notApplicable() throws {
        let text = try String(contentsOfFile: CLI.example("examples/bulletins/penalty-decision.json"), encoding: .utf8)
            .replacingOccurrences(of: "penalty.art38-39", with: "penalty.shanghai-63")
        let path = try CLI.file(text, name: "bulletin.json")
        let result = try CLI.run(["replay", "--rules", "guangdong", "--as-of", "2025-07-15", path])
        #expect(result.status == 65)
        #expect(result.stderr.contains("\(path):21: /body/findings/0/situations/0: situation \"penalty.shanghai-63\" is not applicable under the guangdong rules [rules-invalid]"))
    }

    @Test("bad dates and enums exit 65; every problem is listed")
    func badValues() throws {
        let lines = try String(contentsOfFile: scenario, encoding: .utf8).split(separator: "\n").map(String.init)
        let broken = [
            lines[0].replacingOccurrences(of: "2025-06-03\",\"institution", with: "2025-13-03\",\"institution"),
            lines[1].replacingOccurrences(of: "liquidated-damages\",\"findings", with: "fine\",\"findings"),
        ]
        let result = try CLI.run(["replay", "--rules", "guangdong", "--as-of", "2025-07-15", try CLI.file(broken.joined(separator: "\n"))])
        #expect(result.status == 65)
        #expect(result.stderr.contains(":1: /body/decidedOn: \"2025-13-03\" is not a YYYY-MM-DD date"))
        #expect(result.stderr.contains(":2: /body/measure: \"fine\" is not one of"))
    }

    @Test("a file larger than one decoding batch: every line counted, problems listed in line order with their line numbers")
    func manyBatches() throws {
        // 40,000 penalty decisions for 20,000 persons: more than two of the batches decoded on every core.
        let first = try String(contentsOfFile: scenario, encoding: .utf8).split(separator: "\n").map(String.init)[0]
        var lines = (0..<40_000).map { index in
            first.replacingOccurrences(of: "2025-0001", with: "B\(index)")
                .replacingOccurrences(of: "D440802000123", with: "D\(100_000 + index % 20_000)")
        }
        let clean = try CLI.run(["replay", "--rules", "guangdong", "--as-of", "2025-12-31", try CLI.file(lines.joined(separator: "\n"))])
        #expect(clean.status == 0, "\(clean.stderr)")
        let persons = clean.stdout.split(separator: "\n")
        #expect(persons.count == 20_001)   // the 20,000 renamed physicians and the one nurse every line names
        #expect(persons.first { $0.contains("\"D100000\"") }?.contains("\"points\":12") == true)   // two acts of 6 points each
        lines[39_000] = lines[39_000].replacingOccurrences(of: "\"decidedOn\":\"2025-06-03\"", with: "\"decidedOn\":\"2025-06-31\"")
        lines[4] = lines[4].replacingOccurrences(of: "\"legalBasis\"", with: "\"legalbasis\"")
        lines[20_000] = lines[20_000].replacingOccurrences(of: "\"type\":\"PenaltyDecision\"", with: "\"type\":\"Penalty\"")
        let broken = try CLI.run(["replay", "--rules", "guangdong", "--as-of", "2025-12-31", try CLI.file(lines.joined(separator: "\n"))])
        #expect(broken.status == 65)
        let problems = broken.stderr.split(separator: "\n").filter { $0.contains("tongbao replay: ") }
        #expect(problems.count == 3, "\(broken.stderr)")
        #expect(problems.first?.contains(":5: /body/legalbasis: unknown field") == true)
        #expect(problems.dropFirst().first?.contains(":20001: /type:") == true)
        #expect(problems.last?.contains(":39001: /body/decidedOn: \"2025-06-31\" is not a YYYY-MM-DD date") == true)
    }

    @Test("a bulletin that is no scoring fact is noted and skipped; after 50 problems nothing more is read or said")
    func ignoredAndProblemCap() throws {
        let notice = try String(contentsOfFile: CLI.example("examples/bulletins/suspected-violation.json"), encoding: .utf8)
        // The pretty-printed example on one line (no string in it spans or starts a line).
        let noticeLine = notice.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined()
        let first = try String(contentsOfFile: scenario, encoding: .utf8).split(separator: "\n").map(String.init)[0]
        let ignored = try CLI.run(["replay", "--rules", "guangdong", "--as-of", "2025-12-31", try CLI.file(first + "\n" + noticeLine)])
        #expect(ignored.status == 0, "\(ignored.stderr)")
        #expect(ignored.stderr.contains(":2: a SuspectedViolation is not a scoring fact"))

        let broken = (0..<55).map { _ in first.replacingOccurrences(of: "\"legalBasis\"", with: "\"legalbasis\"") }
        let capped = try CLI.run(["replay", "--rules", "guangdong", "--as-of", "2025-12-31",
                                  try CLI.file((broken + [noticeLine]).joined(separator: "\n"))])
        #expect(capped.status == 65)
        #expect(capped.stderr.components(separatedBy: "unknown field").count - 1 == 50)
        #expect(capped.stderr.contains(":50: /body/legalbasis"))
        #expect(!capped.stderr.contains(":51: "))
        #expect(capped.stderr.contains("(stopped after 50 problems)"))
        #expect(!capped.stderr.contains("not a scoring fact"))
    }

    @Test("a skipped repair is said on stderr; usage and I/O errors have their codes")
    func skippedAndCodes() throws {
        let repair = try CLI.run(["replay", "--rules", "guangdong", "--as-of", "2025-12-31", CLI.example("examples/bulletins/repair-decision.json")])
        #expect(repair.status == 0)
        #expect(repair.stderr.contains("skipped 440800-INS-AGENCY/440800-INS-AGENCY-2025-0101"))
        #expect(repair.stderr.contains("[nothing-to-repair]"))
        #expect(try CLI.run(["replay", "--rules", "guangdong", "--as-of", "2025-13-01", scenario]).status == 64)
        #expect(try CLI.run(["replay", "--rules", "nowhere", "--as-of", "2025-12-01", scenario]).status == 64)
        let missing = try CLI.run(["replay", "--rules", "guangdong", "--as-of", "2025-12-01", "/nonexistent/file.jsonl"])
        #expect(missing.status == 74)
        #expect(missing.stderr.contains("/nonexistent/file.jsonl: no such file"))
    }

    @Test("a broken pack file exits 65 naming file, key and problem")
    func brokenPack() throws {
        let pack = try String(contentsOfFile: CLI.example("rules/packs/national.json"), encoding: .utf8)
            .replacingOccurrences(of: "\"banYears\": 1,", with: "\"banYears\": 1, \"banYear\": 2,")
        let path = try CLI.file(pack, name: "pack.json")
        let result = try CLI.run(["replay", "--rules", path, "--as-of", "2025-12-01", scenario])
        #expect(result.status == 65)
        #expect(result.stderr.contains("\(path):"))
        #expect(result.stderr.contains("/sanctions/termination/banYear: unknown field"))
    }

    @Test("the rules folder is found from the executable when the working directory has none")
    func findsRulesFromExecutable() throws {
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = ["rules", "list"]
        process.currentDirectoryURL = FileManager.default.temporaryDirectory
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "TONGBAO_RULES_DIR")
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = Pipe()
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(text.split(separator: "\n").count == 5)
    }
}

@Suite("tongbao indicators")
struct IndicatorsCommandTests {
    @Test("one line per institution: sanctioned person-times against registered persons, and key supervision")
    func indicators() throws {
        let scenario = CLI.example("examples/replay/guangdong-2025.jsonl")
        let result = try CLI.run(["indicators", "--rules", "guangdong", "--as-of", "2025-07-15", scenario])
        #expect(result.status == 0)
        // H…001: three persons named, one sanctioned (the revoked licence) → 1 of 3, not over 50%.
        // H…002: one person named and suspended there → 1 of 1, over the threshold.
        #expect(result.lines == [
            #"{"institution":"H44080200001","year":2025,"sanctionedPersonTimes":1,"registeredPersons":3,"overThreshold":false,"keySupervision":false,"fraudActs":[]}"#,
            #"{"institution":"H44080200002","year":2025,"sanctionedPersonTimes":1,"registeredPersons":1,"overThreshold":true,"keySupervision":false,"fraudActs":[]}"#,
        ])
        let fraud = try String(contentsOfFile: scenario, encoding: .utf8).replacingOccurrences(of: "penalty.art38-39", with: "penalty.art40")
        let flagged = try CLI.run(["indicators", "--rules", "guangdong", "--as-of", "2025-07-15", try CLI.file(fraud)])
        #expect(flagged.lines.first?.contains(#""keySupervision":true,"fraudActs":["440800-INS-ADMIN/440800-INS-ADMIN-2025-0001"]"#) == true)
    }
}

@Suite("tongbao workdays and rules")
struct WorkdaysAndRulesTests {
    @Test("workdays list prints 248 days for 2025 and exits 65 for a year without data")
    func list() throws {
        let result = try CLI.run(["workdays", "list", "--year", "2025"])
        #expect(result.status == 0)
        #expect(result.lines.count == 248)
        #expect(result.lines.first == "2025-01-02")
        #expect(result.lines.contains("2025-10-11"))
        #expect(!result.lines.contains("2025-10-08"))
        let missing = try CLI.run(["workdays", "list", "--year", "2027"])
        #expect(missing.status == 65)
        #expect(missing.stderr.contains("no working-day calendar for 2027"))
    }

    @Test("workdays add counts forward and backward; outside the data exits 65")
    func add() throws {
        #expect(try CLI.run(["workdays", "add", "--from", "2025-09-30", "--days", "3"]).stdout == "2025-10-11\n")
        #expect(try CLI.run(["workdays", "add", "--from", "2025-10-31", "--days=-15"]).stdout == "2025-10-11\n")
        #expect(try CLI.run(["workdays", "add", "--from", "2026-12-30", "--days", "5"]).status == 65)
        #expect(try CLI.run(["workdays", "add", "--from", "2026-02-30", "--days", "5"]).status == 64)
    }

    @Test("rules show prints the effective settings with the keys --explain uses")
    func show() throws {
        let result = try CLI.run(["rules", "show", "shanghai"])
        #expect(result.status == 0)
        #expect(result.lines.contains("situations.agreement.suspended = fixed 11"))
        #expect(result.lines.contains("scoreDate = final-decision"))
        #expect(result.lines.contains("repair.shortening = fixed 1 month(s), once per year"))
        #expect(result.lines.contains("restoration.windowWorkingDays = 10"))
        #expect(result.lines.contains("practice.blockingEvents = practice-suspended, registration-cancelled"))
        #expect(result.lines.contains("referral.replyWorkingDays = 20 working day(s) from the referral's issue date"))
    }
}
