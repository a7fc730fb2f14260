import Bulletins
import Foundation
import Scoring
import Testing

enum Samples {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: repository.appendingPathComponent("examples/bulletins/\(name).json")))
    }

    static func pack(_ name: String) throws -> RulePack {
        let url = repository.appendingPathComponent("rules/packs/\(name).json")
        return try RulePackLoader.load(try Data(contentsOf: url), source: url.path)
    }

    /// A one-line penalty decision whose body can be varied.
    static func penalty(situation: String = "penalty.art38-39", extraBody: String = "", decidedOn: String = "2025-06-03") -> String {
        #"{"id":"P1","type":"PenaltyDecision","issuer":"440800-INS-ADMIN","issuedAt":"2025-06-03T10:00:00+08:00","region":"440800","rules":"guangdong","body":{"decisionNo":"1号","decidedOn":""# + decidedOn + #"","institution":{"code":"H1","kind":"medical"},"findings":[{"violation":"V1","situations":[""# + situation + #""],"persons":[{"code":"D1","responsibility":"main"}]}]"# + extraBody + "}}"
    }
}

@Suite("bulletin JSON decoding")
struct BulletinJSONDecoderTests {
    let decoder = BulletinJSONDecoder()

    @Test("every example bulletin decodes to its type", arguments: [
        ("penalty-decision", BulletinType.penaltyDecision), ("agreement-handling", .agreementHandling),
        ("licence-revocation", .licenceRevocation), ("repair-decision", .repairDecision),
        ("restoration-decision", .restorationDecision), ("final-score-decision", .finalScoreDecision),
        ("correction", .correction), ("registration", .registration),
    ])
    func examples(name: String, type: BulletinType) throws {
        let bulletin = try decoder.decode(try Samples.bytes(name))
        #expect(bulletin.type == type)
    }

    @Test("a penalty decision carries its findings and becomes an act")
    func penaltyToFact() throws {
        let bulletin = try decoder.decode(try Samples.bytes("penalty-decision"))
        guard case .penaltyDecision(let body) = bulletin.body else { Issue.record("wrong body"); return }
        #expect(body.decidedOn == CalendarDate(year: 2025, month: 6, day: 3))
        #expect(body.findings.first?.persons.map(\.person.code) == ["D440802000123", "N440802000456"])
        #expect(body.findings.first?.persons.last?.adjustment == Adjustment.none)
        guard case .act(let act) = try bulletin.fact(under: try Samples.pack("guangdong")) else { Issue.record("not an act"); return }
        #expect(act.id == FactID(issuer: "440800-INS-ADMIN", id: "440800-INS-ADMIN-2025-0001"))
        #expect(act.institutions == ["H44080200001"])
    }

    @Test("a licence revocation is one licence.revoked act, main responsibility by default")
    func revocationToFact() throws {
        let bulletin = try decoder.decode(try Samples.bytes("licence-revocation"))
        guard case .act(let act) = try bulletin.fact(under: try Samples.pack("guangdong")) else { Issue.record("not an act"); return }
        #expect(act.findings == [Finding(violation: "licence", situations: [.licenceRevoked], persons: [ResponsiblePerson(code: "D440802000789", responsibility: .main)])])
    }

    @Test("agreement-resumed becomes a resumption of that institution")
    func resumption() throws {
        let text = #"{"id":"A1","type":"AgreementHandling","issuer":"X","issuedAt":"2025-06-03T10:00:00Z","region":"440800","body":{"decisionNo":"1","decidedOn":"2025-08-01","institution":{"code":"H1"},"measure":"agreement-resumed"}}"#
        let fact = try decoder.decode(Array(text.utf8)).fact(under: try Samples.pack("guangdong"))
        #expect(fact == .resumption(AgreementResumption(id: FactID(issuer: "X", id: "A1"), institution: "H1", decidedOn: CalendarDate(iso: "2025-08-01")!)))
    }

    @Test("shape errors name the JSON pointer and the line", arguments: [
        (Samples.penalty(extraBody: #","note":"x""#), "/body/note", "unknown field"),
        (Samples.penalty(decidedOn: "2025-02-30"), "/body/decidedOn", "not a YYYY-MM-DD date"),
        (Samples.penalty(situation: "penalty.art41"), "/body/findings/0/situations/0", "is not one of"),
        (Samples.penalty(extraBody: #","legalBasis":"regulation-41""#), "/body/legalBasis", "is not one of"),
        (Samples.penalty().replacingOccurrences(of: "\"main\"", with: "\"chief\""), "/body/findings/0/persons/0/responsibility", "is not one of"),
        (Samples.penalty().replacingOccurrences(of: "\"medical\"", with: "\"pharmacy\""), "/body/institution/kind", "does not match"),
        (Samples.penalty().replacingOccurrences(of: "+08:00", with: ""), "/issuedAt", "RFC 3339"),
        (Samples.penalty().replacingOccurrences(of: "PenaltyDecision", with: "Penalty"), "/type", "is not one of"),
        (Samples.penalty().replacingOccurrences(of: "\"D1\"", with: "\"d1\""), "/body/findings/0/persons/0/code", "personnel code"),
    ])
    func shapeErrors(text: String, pointer: String, message: String) {
        #expect {
            try decoder.decode(Array(text.utf8), firstLine: 7)
        } throws: { error in
            guard let error = error as? BulletinError else { return false }
            return error.code == .schemaInvalid && error.pointer == pointer && error.line == 7 && error.message.contains(message)
        }
    }

    @Test("the line of an error inside a multi-line document")
    func multiLine() throws {
        var text = try String(decoding: Samples.bytes("penalty-decision"), as: UTF8.self)
        text = text.replacingOccurrences(of: "\"responsibility\": \"general\"", with: "\"responsibility\": \"minor\"")
        #expect {
            try decoder.decode(Array(text.utf8))
        } throws: { error in
            (error as? BulletinError)?.line == 34 && (error as? BulletinError)?.pointer == "/body/findings/0/persons/1/responsibility"
        }
    }

    @Test("malformed JSON is malformed, with its line")
    func malformed() {
        #expect {
            try decoder.decode(Array("{\n\"id\": \"x\",\n\"type\" \"y\"}".utf8))
        } throws: { error in
            (error as? BulletinError)?.code == .malformed && (error as? BulletinError)?.line == 3
        }
    }

    @Test("a situation the pack marks not applicable is rules-invalid with its pointer")
    func notApplicable() throws {
        let bulletin = try decoder.decode(Array(Samples.penalty(situation: "penalty.shanghai-63").utf8))
        #expect {
            try bulletin.fact(under: try Samples.pack("guangdong"))
        } throws: { error in
            (error as? BulletinError)?.code == .rulesInvalid && (error as? BulletinError)?.pointer == "/body/findings/0/situations/0"
        }
    }

    @Test("a bulletin issued under another pack is refused")
    func wrongPack() throws {
        let bulletin = try decoder.decode(Array(Samples.penalty().utf8))
        #expect(throws: BulletinError.self) { try bulletin.fact(under: try Samples.pack("shanghai")) }
    }

    @Test("repair fields only where they belong; a category the pack lacks is rules-invalid")
    func repairFields() throws {
        func repair(_ body: String) -> [UInt8] {
            Array((#"{"id":"R1","type":"RepairDecision","issuer":"A","issuedAt":"2025-08-01T10:00:00+08:00","region":"150300","body":{"decisionNo":"1","decidedOn":"2025-08-01","person":{"code":"D1"},"# + body + "}}").utf8)
        }
        #expect(throws: BulletinError.self) { try decoder.decode(repair(#""category":"publicity","examScore":80"#)) }
        #expect(throws: BulletinError.self) { try decoder.decode(repair(#""category":"training-exam","examScore":101"#)) }
        #expect(throws: BulletinError.self) { try decoder.decode(repair(#""category":"publicity","fraudReport":true"#)) }
        let whistle = try decoder.decode(repair(#""category":"whistleblowing","fraudReport":true"#))
        #expect(throws: BulletinError.self) { try whistle.fact(under: try Samples.pack("shanghai")) }
        #expect(try whistle.fact(under: try Samples.pack("guangdong")) == .repair(RepairDecision(
            id: FactID(issuer: "A", id: "R1"), person: "D1", decidedOn: CalendarDate(iso: "2025-08-01")!, category: .whistleblowing, fraudReport: true)))
    }

    @Test("random mutations of a valid bulletin never crash the decoder")
    func mutations() throws {
        let original = try Samples.bytes("penalty-decision")
        var state: UInt64 = 7
        for _ in 0..<3000 {
            var bytes = original
            for _ in 0..<3 {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let index = Int((state >> 33) % UInt64(bytes.count))
                bytes[index] = UInt8(truncatingIfNeeded: state >> 13)
            }
            _ = try? decoder.decode(bytes)
        }
    }
}
