import Foundation
import Testing

/// The shipped data files conform to the JSON Schemas in schemas/, checked by an independent
/// validator (Python's jsonschema, Draft 2020-12), so that the schema and the loader never drift apart.
@Suite("schemas")
struct SchemaConformanceTests {
    /// Runs the validator on `files` against `schema`; returns its exit status and output.
    func validate(_ schema: String, _ files: [String]) throws -> (Int32, String) {
        let script = """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1], encoding="utf-8"))
            jsonschema.Draft202012Validator.check_schema(schema)
            validator = jsonschema.Draft202012Validator(schema)
            failed = False
            for path in sys.argv[2:]:
                for error in validator.iter_errors(json.load(open(path, encoding="utf-8"))):
                    failed = True
                    print(path, "/".join(map(str, error.absolute_path)), error.message)
            sys.exit(1 if failed else 0)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, Fixtures.repository.appendingPathComponent(schema).path] + files
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    func files(_ folder: String) throws -> [String] {
        let url = Fixtures.repository.appendingPathComponent(folder)
        return try FileManager.default.contentsOfDirectory(atPath: url.path).filter { $0.hasSuffix(".json") }.sorted()
            .map { url.appendingPathComponent($0).path }
    }

    @Test("every rule pack conforms to schemas/rule-pack.schema.json")
    func packs() throws {
        let packs = try files("rules/packs")
        #expect(packs.count == 5)
        let (status, output) = try validate("schemas/rule-pack.schema.json", packs)
        #expect(status == 0, "\(output)")
    }

    @Test("every calendar conforms to schemas/calendar.schema.json")
    func calendars() throws {
        let (status, output) = try validate("schemas/calendar.schema.json", try files("rules/calendar"))
        #expect(status == 0, "\(output)")
    }

    @Test("the schema rejects an unknown key and a bad tier")
    func rejects() throws {
        let original = try String(contentsOfFile: Fixtures.repository.appendingPathComponent("rules/packs/guangdong.json").path, encoding: .utf8)
        let broken = original.replacingOccurrences(of: "\"tier\": \"T3\"", with: "\"tier\": \"T5\"")
            .replacingOccurrences(of: "\"scoreDate\"", with: "\"extra\": 1, \"scoreDate\"")
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("broken-pack-\(UUID().uuidString).json")
        try Data(broken.utf8).write(to: url)
        let (status, output) = try validate("schemas/rule-pack.schema.json", [url.path])
        #expect(status == 1)
        #expect(output.contains("situations/impersonation"))
        #expect(output.contains("'extra' was unexpected"))
    }
}
