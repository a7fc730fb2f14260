import Foundation
import Testing

@Suite("tongbao validate and convert")
struct FormatCommandTests {
    let penaltyXML = CLI.example("examples/bulletins/penalty-decision.xml")
    let penaltyJSON = CLI.example("examples/bulletins/penalty-decision.json")

    @Test("validate: ok lines on stdout, exit 0; problems on stderr with XPath or pointer, exit 65")
    func validate() throws {
        let ok = try CLI.run(["validate", penaltyXML, penaltyJSON])
        #expect(ok.status == 0)
        #expect(ok.lines == ["\(penaltyXML): ok PenaltyDecision xml", "\(penaltyJSON): ok PenaltyDecision json"])
        let brokenXML = try CLI.file(try String(contentsOfFile: penaltyXML, encoding: .utf8)
            .replacingOccurrences(of: "<kind>medical</kind>", with: "<kind>clinic</kind>"), name: "broken.xml")
        let brokenJSON = try CLI.file(try String(contentsOfFile: penaltyJSON, encoding: .utf8)
            .replacingOccurrences(of: "\"kind\": \"medical\"", with: "\"kind\": \"clinic\""), name: "broken.json")
        let bad = try CLI.run(["validate", brokenXML, penaltyJSON, brokenJSON])
        #expect(bad.status == 65)
        #expect(bad.lines == ["\(penaltyJSON): ok PenaltyDecision json"])
        #expect(bad.stderr.contains("\(brokenXML):16: /Bulletin/body/PenaltyDecision/institution/kind:"))
        #expect(bad.stderr.contains("[schema-invalid]"))
        #expect(bad.stderr.contains("\(brokenJSON):14: /body/institution/kind: \"clinic\" is not one of \"medical\", \"pharmacy\" [schema-invalid]"))
    }

    @Test("validate refuses a DOCTYPE and a 10 MB file with their codes")
    func validateAttacks() throws {
        let doctype = try CLI.file("<?xml version=\"1.0\"?><!DOCTYPE Bulletin SYSTEM \"http://127.0.0.1:9/x.dtd\"><Bulletin/>", name: "dtd.xml")
        let result = try CLI.run(["validate", doctype])
        #expect(result.status == 65)
        #expect(result.stderr.contains("[dtd-forbidden]"))
        let large = try CLI.file("{\"id\": \"" + String(repeating: "x", count: 10 << 20) + "\"}", name: "large.json")
        let big = try CLI.run(["validate", large])
        #expect(big.status == 65)
        #expect(big.stderr.contains("[too-large]"))
    }

    @Test("convert prints the other encoding, byte for byte the committed example")
    func convert() throws {
        let toXML = try CLI.run(["convert", "--to", "xml", penaltyJSON])
        #expect(toXML.status == 0)
        #expect(toXML.stdout == (try String(contentsOfFile: penaltyXML, encoding: .utf8)))
        let toJSON = try CLI.run(["convert", "--to", "json", "-"], stdin: try String(contentsOfFile: penaltyXML, encoding: .utf8))
        #expect(toJSON.stdout == (try String(contentsOfFile: penaltyJSON, encoding: .utf8)))
        let invalid = try CLI.run(["convert", "--to", "xml", try CLI.file("{\"id\": 1}", name: "x.json")])
        #expect(invalid.status == 65)
        #expect(invalid.stderr.contains("/id: expected a string"))
    }

    @Test("replay reads XML bulletins through the same model, and says which bulletins are not scoring facts")
    func replayXML() throws {
        let result = try CLI.run(["replay", "--rules", "guangdong", "--as-of", "2025-12-31", penaltyXML,
                                  CLI.example("examples/bulletins/practice-notice.xml"), CLI.example("examples/bulletins/suspected-violation.xml")])
        #expect(result.status == 0)
        #expect(result.lines.first == #"{"person":"D440802000123","year":2025,"points":6,"status":"normal","until":null,"actions":["agency-talk","internal-bulletin","training"]}"#)
        #expect(result.lines.contains(#"{"person":"D440802000321","year":2025,"points":0,"status":"normal","until":null,"actions":[]}"#),
                "a practice notice is applied (it never scores): \(result.lines)")
        #expect(result.stderr.contains("a SuspectedViolation is not a scoring fact"))
    }
}
