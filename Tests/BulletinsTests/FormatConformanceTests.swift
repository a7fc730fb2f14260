import Bulletins
import Foundation
import StrictJSON
import Testing
import TongbaoTestSupport
import XMLSupport

/// External validators run as a user would: `xmllint --schema` and Python's `jsonschema`.
enum ExternalValidators {
    static let schemas = Samples.repository.appendingPathComponent("schemas")

    static func run(_ executable: String, _ arguments: [String]) throws -> ExternalCommand.Result {
        try ExternalCommand.run(executable, arguments)
    }

    /// Whether `xmllint` finds every file valid against schemas/bulletin.xsd.
    static func xmllintAccepts(_ files: [String]) throws -> (Bool, String) {
        let result = try run("xmllint", ["--noout", "--nonet", "--schema", schemas.appendingPathComponent("bulletin.xsd").path] + files)
        return (result.status == 0, result.output)
    }

    /// Whether Python's jsonschema (Draft 2020-12) finds every file valid against schemas/bulletin.schema.json.
    static func jsonschemaAccepts(_ files: [String]) throws -> (Bool, String) {
        let script = """
            import json, sys, jsonschema
            validator = jsonschema.Draft202012Validator(json.load(open(sys.argv[1], encoding="utf-8")))
            bad = 0
            for path in sys.argv[2:]:
                try:
                    document = json.load(open(path, encoding="utf-8"))
                except Exception as error:
                    print(path, "unreadable:", error); bad += 1; continue
                for error in validator.iter_errors(document):
                    print(path, "/".join(map(str, error.absolute_path)), error.message[:200]); bad += 1; break
            sys.exit(1 if bad else 0)
            """
        let result = try run("python3", ["-c", script, schemas.appendingPathComponent("bulletin.schema.json").path] + files)
        return (result.status == 0, result.output)
    }

    static func temporaryFile(_ bytes: [UInt8], suffix: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tongbao-variant-\(UUID().uuidString).\(suffix)")
        try Data(bytes).write(to: url)
        return url.path
    }
}

@Suite("formats: schemas, examples, round trips, broken variants")
struct FormatConformanceTests {
    static let types = [
        "penalty-decision", "agreement-handling", "licence-revocation", "repair-decision", "restoration-decision",
        "final-score-decision", "correction", "registration", "practice-notice", "suspected-violation", "referral", "referral-reply",
        "score-bulletin", "credit-rating", "score-notice", "receipt",
    ]

    func example(_ name: String, _ suffix: String) -> String {
        Samples.repository.appendingPathComponent("examples/bulletins/\(name).\(suffix)").path
    }

    func bytes(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

    @Test("the committed schemas are exactly what the shapes generate")
    func schemasUpToDate() throws {
        let json = try String(contentsOf: ExternalValidators.schemas.appendingPathComponent("bulletin.schema.json"), encoding: .utf8)
        let xsd = try String(contentsOf: ExternalValidators.schemas.appendingPathComponent("bulletin.xsd"), encoding: .utf8)
        #expect(json == SchemaWriter.jsonSchema(), "run `swift run tongbao schemas` and commit")
        #expect(xsd == SchemaWriter.xsd(), "run `swift run tongbao schemas` and commit")
    }

    @Test("there is an example of every type in both encodings, and the root is Bulletin in urn:tongbao:bulletin:1")
    func everyType() throws {
        let reader = try BulletinReader()
        var seen = Set<String>()
        for name in Self.types {
            let json = try reader.read(try bytes(example(name, "json")))
            let xml = try reader.read(try bytes(example(name, "xml")))
            #expect(json.bulletin == xml.bulletin, "\(name): both encodings carry the same facts")
            #expect(xml.encoding == .xml)
            seen.insert(json.bulletin.type.rawValue)
            let document = try XMLDocument(parsing: try bytes(example(name, "xml")))
            #expect(document.root.name == "Bulletin")
            #expect(document.root.namespace == "urn:tongbao:bulletin:1")
        }
        #expect(seen == Set(BulletinType.allCases.map(\.rawValue)))
    }

    @Test("every example validates in xmllint and in python jsonschema too")
    func externalToolsAccept() throws {
        let (xmlOK, xmlOutput) = try ExternalValidators.xmllintAccepts(Self.types.map { example($0, "xml") })
        #expect(xmlOK, "\(xmlOutput)")
        let (jsonOK, jsonOutput) = try ExternalValidators.jsonschemaAccepts(Self.types.map { example($0, "json") })
        #expect(jsonOK, "\(jsonOutput)")
    }

    @Test("JSON → XML → JSON and XML → JSON → XML are identity on every example", arguments: types)
    func roundTrips(name: String) throws {
        let reader = try BulletinReader()
        let jsonText = try bytes(example(name, "json"))
        let xmlText = try bytes(example(name, "xml"))
        let fromJSON = try reader.read(jsonText)
        let asXML = try BulletinXML.xml(from: fromJSON.tree)
        #expect(Array(asXML.utf8) == xmlText)
        let back = try reader.read(Array(asXML.utf8))
        #expect(Array(JSONWriter.pretty(back.tree).utf8) == jsonText)
        let fromXML = try reader.read(xmlText)
        let asJSON = JSONWriter.pretty(fromXML.tree)
        #expect(Array(asJSON.utf8) == jsonText)
        #expect(Array(try BulletinXML.xml(from: try reader.read(Array(asJSON.utf8)).tree).utf8) == xmlText)
    }

    /// Broken variants of the penalty decision, as (name, JSON text edit, XML text edit).
    static let variants: [(String, @Sendable (String) -> String, @Sendable (String) -> String)] = [
        ("unknown field",
         { $0.replacingOccurrences(of: "\"decidedOn\": \"2025-06-03\",", with: "\"decidedOn\": \"2025-06-03\",\n    \"note\": \"x\",") },
         { $0.replacingOccurrences(of: "<decidedOn>2025-06-03</decidedOn>", with: "<decidedOn>2025-06-03</decidedOn><note>x</note>") }),
        ("missing field",
         { $0.replacingOccurrences(of: "\"decidedOn\": \"2025-06-03\",", with: "") },
         { $0.replacingOccurrences(of: "<decidedOn>2025-06-03</decidedOn>", with: "") }),
        ("bad enum",
         { $0.replacingOccurrences(of: "regulation-38", with: "regulation-41") },
         { $0.replacingOccurrences(of: "regulation-38", with: "regulation-41") }),
        ("bad date",
         { $0.replacingOccurrences(of: "\"decidedOn\": \"2025-06-03\"", with: "\"decidedOn\": \"2025-02-30\"") },
         { $0.replacingOccurrences(of: "<decidedOn>2025-06-03</decidedOn>", with: "<decidedOn>2025-02-30</decidedOn>") }),
        ("bad id",
         { $0.replacingOccurrences(of: "\"id\": \"440800-INS-ADMIN-2025-0001\"", with: "\"id\": \"bad id!\"") },
         { $0.replacingOccurrences(of: "<id>440800-INS-ADMIN-2025-0001</id>", with: "<id>bad id!</id>") }),
        ("wrong type",
         { $0.replacingOccurrences(of: "\"fraud\": false", with: "\"fraud\": \"no\"") },
         { $0.replacingOccurrences(of: "<fraud>false</fraud>", with: "<fraud>no</fraud>") }),
        ("deep nesting",
         { $0.replacingOccurrences(of: "\"fraud\": false", with: "\"fraud\": false, \"note\": " + String(repeating: "[", count: 300) + String(repeating: "]", count: 300)) },
         { $0.replacingOccurrences(of: "<fraud>false</fraud>", with: "<fraud>false</fraud>" + String(repeating: "<x>", count: 300) + String(repeating: "</x>", count: 300)) }),
        ("10 MB input",
         { $0.replacingOccurrences(of: "湛医保罚〔2025〕1号", with: String(repeating: "x", count: 10 << 20)) },
         { $0.replacingOccurrences(of: "湛医保罚〔2025〕1号", with: String(repeating: "x", count: 10 << 20)) }),
    ]

    @Test("tongbao validate agrees with xmllint and jsonschema on every broken variant",
          arguments: variants.map(\.0))
    func brokenVariants(name: String) throws {
        guard let variant = Self.variants.first(where: { $0.0 == name }) else { return }
        let reader = try BulletinReader()
        let json = variant.1(try String(contentsOfFile: example("penalty-decision", "json"), encoding: .utf8))
        let xml = variant.2(try String(contentsOfFile: example("penalty-decision", "xml"), encoding: .utf8))
        #expect(!json.isEmpty && !xml.isEmpty)
        let jsonPath = try ExternalValidators.temporaryFile(Array(json.utf8), suffix: "json")
        let xmlPath = try ExternalValidators.temporaryFile(Array(xml.utf8), suffix: "xml")
        #expect(!reader.problems(Array(json.utf8)).isEmpty, "tongbao accepted the JSON variant")
        #expect(!reader.problems(Array(xml.utf8)).isEmpty, "tongbao accepted the XML variant")
        #expect(try ExternalValidators.jsonschemaAccepts([jsonPath]).0 == false, "jsonschema accepted the JSON variant")
        #expect(try ExternalValidators.xmllintAccepts([xmlPath]).0 == false, "xmllint accepted the XML variant")
    }

    @Test("XML problems name the XPath and line; JSON problems the pointer")
    func locations() throws {
        let reader = try BulletinReader()
        let xml = try String(contentsOfFile: example("penalty-decision", "xml"), encoding: .utf8)
            .replacingOccurrences(of: "<responsibility>general</responsibility>", with: "<responsibility>minor</responsibility>")
        let problem = try #require(reader.problems(Array(xml.utf8)).first)
        #expect(problem.code == .schemaInvalid)
        #expect(problem.location == "/Bulletin/body/PenaltyDecision/findings/finding/persons/person[2]/responsibility")
        #expect(problem.line == 38)
        // A rule the schema cannot state (score date before the decision) is found after conversion and
        // still located by XPath.
        let late = try String(contentsOfFile: example("penalty-decision", "xml"), encoding: .utf8)
            .replacingOccurrences(of: "<decidedOn>2025-06-03</decidedOn>", with: "<decidedOn>2025-06-03</decidedOn><scoredOn>2025-06-01</scoredOn>")
        let ordering = try #require(reader.problems(Array(late.utf8)).first)
        #expect(ordering.location == "/Bulletin/body/PenaltyDecision/scoredOn")
        #expect(ordering.message.contains("before the decision date"))
    }

    @Test("DTDs and entity expansion are refused before parsing, in milliseconds; nothing is fetched")
    func xmlAttacks() throws {
        let reader = try BulletinReader()
        let valid = try String(contentsOfFile: example("penalty-decision", "xml"), encoding: .utf8)
        var entities = #"<!ENTITY a "lol">"#
        for level in 1...9 { entities += "<!ENTITY a\(level) \"" + String(repeating: "&a\(level == 1 ? "" : String(level - 1));", count: 10) + "\">" }
        let laughs = valid.replacingOccurrences(of: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>", with: "<?xml version=\"1.0\"?><!DOCTYPE Bulletin [\(entities)]>")
            .replacingOccurrences(of: "湛医保罚〔2025〕1号", with: "&a9;")
        let external = valid.replacingOccurrences(of: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
                                                  with: "<?xml version=\"1.0\"?><!DOCTYPE Bulletin [<!ENTITY x SYSTEM \"http://127.0.0.1:9/x\">]>")
            .replacingOccurrences(of: "湛医保罚〔2025〕1号", with: "&x;")
        for attack in [laughs, external] {
            let start = ContinuousClock.now
            #expect(reader.problems(Array(attack.utf8)).map(\.code) == [.dtdForbidden])
            #expect(ContinuousClock.now - start < .milliseconds(500))
            // xmllint rejects these too (entity loop; unresolvable entity), so the two still agree.
            #expect(try ExternalValidators.xmllintAccepts([try ExternalValidators.temporaryFile(Array(attack.utf8), suffix: "xml")]).0 == false)
        }
        // A bare DOCTYPE is where tongbao is deliberately stricter than the schema: gateway.md §3 allows none.
        let bare = valid.replacingOccurrences(of: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>", with: "<?xml version=\"1.0\"?><!DOCTYPE Bulletin>")
        #expect(reader.problems(Array(bare.utf8)).map(\.code) == [.dtdForbidden])
    }
}
