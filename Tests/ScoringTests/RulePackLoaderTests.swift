import Foundation
import Scoring
import Testing

/// Rule packs load from data, and a broken pack names the file, the key and the problem.
@Suite("rule pack loading")
struct RulePackLoaderTests {
    func shipped(_ name: String) throws -> String {
        try String(contentsOf: Fixtures.repository.appendingPathComponent("rules/packs/\(name).json"), encoding: .utf8)
    }

    func loadError(_ text: String) -> ScoringError? {
        do {
            _ = try RulePackLoader.load(Array(text.utf8), source: "broken.json")
            return nil
        } catch {
            return error
        }
    }

    @Test("every shipped pack loads", arguments: Fixtures.allPacks)
    func shippedPacksLoad(name: String) throws {
        #expect(try Fixtures.pack(name).name == name)
    }

    @Test("shandong has the national numbers (scoring.md §2 Decision)")
    func shandongIsNational() throws {
        var shandong = try Fixtures.pack("shandong")
        let national = try Fixtures.pack("national")
        shandong.name = national.name
        shandong.title = national.title
        #expect(shandong == national)
    }

    @Test("practice.blockingEvents: optional with the D38 default; an unknown or repeated event is refused with its pointer")
    func practiceBlockingEvents() throws {
        let shipped = try shipped("guangdong")
        let key = "\"practice\": {\n    \"blockingEvents\": [\"practice-suspended\", \"registration-cancelled\"]\n  }"
        #expect(shipped.contains(key))
        let withoutKey = shipped.replacingOccurrences(of: ",\n  " + key, with: "")
        #expect(withoutKey != shipped)
        #expect(try RulePackLoader.load(Array(withoutKey.utf8), source: "default.json").practice.blockingEvents == [.practiceSuspended, .registrationCancelled])
        let none = shipped.replacingOccurrences(of: #"["practice-suspended", "registration-cancelled"]"#, with: "[]")
        #expect(try RulePackLoader.load(Array(none.utf8), source: "none.json").practice.blockingEvents.isEmpty)
        let unknown = try #require(loadError(shipped.replacingOccurrences(of: #""registration-cancelled"]"#, with: #""retired"]"#)))
        #expect(unknown.code == .rulesInvalid && unknown.field == "/practice/blockingEvents/1", "\(unknown)")
        let twice = try #require(loadError(shipped.replacingOccurrences(of: #""registration-cancelled"]"#, with: #""practice-suspended"]"#)))
        #expect(twice.field == "/practice/blockingEvents/1" && twice.message.contains("listed twice"), "\(twice)")
    }

    @Test("an unknown key names file, pointer and line")
    func unknownKey() throws {
        let text = try shipped("guangdong").replacingOccurrences(of: "\"overlap\"", with: "\"overlapp\"")
        let error = try #require(loadError(text))
        #expect(error.code == .rulesInvalid)
        #expect(error.source == "broken.json")
        #expect(error.field == "/sanctions/overlapp")
        #expect(error.message.contains("unknown field"))
        #expect((error.line ?? 0) > 1)
    }

    @Test("overlapping thresholds are refused")
    func overlappingThresholds() throws {
        let text = try shipped("guangdong").replacingOccurrences(of: "\"total\": 10", with: "\"total\": 9")
        let error = try #require(loadError(text))
        #expect(error.field == "/sanctions/steps/1/total")
        #expect(error.message.contains("overlaps"))
    }

    @Test("a situation mapped to nothing is refused")
    func missingSituation() throws {
        let text = try shipped("guangdong").replacingOccurrences(of: "\"impersonation\": {\n      \"tier\": \"T3\"\n    },", with: "")
        let error = try #require(loadError(text))
        #expect(error.field == "/situations/impersonation")
        #expect(error.message.contains("mapped to no tier"))
    }

    @Test("overlapping notice bands and tiers are refused")
    func overlappingBands() throws {
        let bands = try shipped("guangdong").replacingOccurrences(of: "\"from\": 6", with: "\"from\": 5")
        #expect(loadError(bands)?.field == "/notices/1/from")
        let tiers = try shipped("guangdong").replacingOccurrences(of: "\"T2\": [\n      4,", with: "\"T2\": [\n      3,")
        #expect(loadError(tiers)?.field == "/tiers/T2")
    }

    @Test("an undefined cap group is refused")
    func undefinedCapGroup() throws {
        let text = try shipped("shanghai").replacingOccurrences(of: "\"capGroup\": \"activities\"", with: "\"capGroup\": \"activity\"")
        let error = try #require(loadError(text))
        #expect(error.field == "/repair/categories/publicity/capGroup")
    }

    @Test("malformed JSON names the line")
    func malformed() {
        let error = loadError("{\n  \"pack\": \"x\",\n  oops\n}")
        #expect(error?.line == 3)
        #expect(error?.message.contains("not valid JSON") == true)
    }
}
