@testable import Bulletins
import Foundation
import Scoring
import Testing
import TongbaoTestSupport

/// The one-pass reader of penalty decisions and agreement handlings must accept only what the full path
/// accepts, as the same bulletin; and it must accept the ordinary documents, or it saves nothing.
@Suite("one-pass scoring decisions")
struct ScoringDecisionFastPathTests {
    let decoder = BulletinJSONDecoder()

    /// The full path's verdict: the bulletin, or the error's code, pointer and message.
    func full(_ text: [UInt8]) -> Result<Bulletin, BulletinError> {
        do throws(BulletinError) { return .success(try decoder.decodeWithoutFastPath(text[...])) } catch { return .failure(error) }
    }

    /// Checks the one rule the fast path lives by on `text`; returns whether it accepted.
    @discardableResult
    func checkAgreement(_ text: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        guard let fast = BulletinJSONDecoder.fastPath(text[...]) else { return false }
        let verdict = try? full(text).get()
        #expect(verdict == fast, "accepted by the fast path: \(String(decoding: text, as: UTF8.self))", sourceLocation: sourceLocation)
        return true
    }

    @Test("its field names are the catalogue's, so a field added to a schema cannot be silently skipped")
    func fieldNamesMatchTheCatalogue() {
        func names<F: FieldNames>(_ type: F.Type) -> Set<String> { Set(F.names.map { $0.description }) }
        func catalogue(_ shapes: ObjectShape...) -> Set<String> { Set(shapes.flatMap(\.fields).map(\.name)) }
        #expect(names(ScoringDecisionFastPath.EnvelopeField.self) == Set(BulletinShapes.envelope.map(\.name) + ["body"]))
        #expect(names(ScoringDecisionFastPath.DecisionField.self) == catalogue(BulletinShapes.penaltyDecision, BulletinShapes.agreementHandling))
        #expect(names(ScoringDecisionFastPath.FindingField.self) == catalogue(BulletinShapes.finding))
        #expect(names(ScoringDecisionFastPath.FindingPersonField.self) == catalogue(BulletinShapes.findingPerson))
        #expect(names(ScoringDecisionFastPath.InstitutionField.self) == catalogue(BulletinShapes.institution))
        #expect(ScoringDecisionFastPath.EnvelopeField.names.count == ScoringDecisionFastPath.EnvelopeField.allCases.count)
        #expect(ScoringDecisionFastPath.DecisionField.names.count == ScoringDecisionFastPath.DecisionField.allCases.count)
    }

    @Test("the example penalty decision and agreement handling are read in one pass; no example is read differently")
    func examples() throws {
        for name in ["penalty-decision", "agreement-handling"] {
            #expect(checkAgreement(try Samples.bytes(name)), "\(name) not taken by the fast path")
        }
        let folder = Samples.repository.appendingPathComponent("examples/bulletins")
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) where file.hasSuffix(".json") {
            let text = Array(try Data(contentsOf: folder.appendingPathComponent(file)))
            let accepted = checkAgreement(text)
            #expect(accepted == (file == "penalty-decision.json" || file == "agreement-handling.json"), "\(file)")
        }
    }

    @Test("generated decisions (any key order, whitespace, optional fields, several findings and persons) are read in one pass as the full path reads them")
    func generated() {
        var random = SeededGenerator(seed: 42)
        for _ in 0..<2_000 {
            let document = GeneratedDecision(using: &random)
            #expect(checkAgreement(document.text(using: &random)), "\(document)")
        }
    }

    @Test("random byte edits of valid decisions: whatever the fast path accepts, the full path accepts as the same bulletin")
    func mutations() {
        var random = SeededGenerator(seed: 43)
        let alphabet = Array(#"{}[],:"\ 0aZ-.1tfn"#.utf8) + [0x00, 0x09, 0x0A, 0x7F, 0x80, 0xC3, 0xE6, 0xFF]
        var acceptedByFast = 0
        var refusedByFull = 0
        for _ in 0..<20_000 {
            var text = GeneratedDecision(using: &random).text(using: &random)
            for _ in 0...random.below(2) {
                let position = random.below(text.count)
                switch random.below(4) {
                case 0: text[position] = alphabet[random.below(alphabet.count)]
                case 1: text.remove(at: position)
                case 2: text.insert(alphabet[random.below(alphabet.count)], at: position)
                default:
                    let end = min(text.count, position + 1 + random.below(24))
                    text.insert(contentsOf: text[position..<end], at: random.below(text.count))
                }
            }
            if checkAgreement(text) { acceptedByFast += 1 }
            if case .failure = full(text) { refusedByFull += 1 }
        }
        // Both sides of the rule were exercised: edits the fast path took, and many the full path refused.
        #expect(acceptedByFast > 500)
        #expect(refusedByFull > 10_000)
    }

    @Test("each rule the full path enforces is also the fast path's: the document is left to the full path, which refuses it", arguments: [
        ("unknown field", #""fraud":false"#, #""fraud":false,"extra":1"#),
        ("duplicate key", #""fraud":false"#, #""fraud":false,"fraud":true"#),
        ("null for an optional field", #""fraud":false"#, #""fraud":null"#),
        ("score date before the decision", #""scoredOn":"2025-06-03""#, #""scoredOn":"2025-06-02""#),
        ("impossible date", #""decidedOn":"2025-06-03""#, #""decidedOn":"2025-02-30""#),
        ("kind does not match the code", #""kind":"medical""#, #""kind":"pharmacy""#),
        ("institution code format", #""code":"H1""#, #""code":"X1""#),
        ("person code format", #""code":"D1""#, #""code":"d1""#),
        ("unknown situation", #""penalty.art38-39""#, #""penalty.art38""#),
        ("no situation", #"["penalty.art38-39"]"#, "[]"),
        ("repeated violation", #"}]}]"#, #"}]},{"violation":"V1","situations":["other.t1"],"persons":[{"code":"D2","responsibility":"main"}]}]"#),
        ("repeated person in a finding", #""responsibility":"main"}"#, #""responsibility":"main"},{"code":"D1","responsibility":"general"}"#),
        ("empty decision number", #""decisionNo":"1号""#, #""decisionNo":"""#),
        ("a measure on a penalty decision", #""fraud":false"#, #""fraud":false,"measure":"interview""#),
        ("bad UTF-8 in text", #""decisionNo":"1号""#, "\"decisionNo\":\"1\u{FFFD}\""),
        ("trailing content", #"}}"#, #"}} x"#),
        ("a number where a string goes", #""region":"440800""#, #""region":440800"#),
        ("bad timestamp", #""issuedAt":"2025-06-03T10:00:00+08:00""#, #""issuedAt":"2025-06-03T24:00:00+08:00""#),
        ("unknown rule pack", #""rules":"guangdong""#, #""rules":"guangzhou""#),
    ])
    func rules(_ rule: String, _ original: String, _ replacement: String) throws {
        let valid = Samples.penalty(extraBody: #","scoredOn":"2025-06-03","fraud":false"#)
        #expect(checkAgreement(Array(valid.utf8)), "the base document is not taken")
        var text = Array(valid.replacingOccurrences(of: original, with: replacement).utf8)
        if rule == "bad UTF-8 in text", let position = text.firstIndex(of: 0xEF) {
            text.replaceSubrange(position..<(position + 3), with: [0xC3, 0x28, 0x41])
        }
        #expect(text != Array(valid.utf8), "\(rule): the edit did not apply")
        #expect(BulletinJSONDecoder.fastPath(text[...]) == nil, "\(rule)")
        guard case .failure(let expected) = full(text) else {
            Issue.record("\(rule): the full path accepts the edited document")
            return
        }
        #expect(throws: expected) { try decoder.decode(text) }
    }

    @Test("what the fast path leaves alone is still read: escapes, type after body, long lists; whitespace anywhere is its own")
    func leftToTheFullPath() throws {
        let valid = Samples.penalty()
        for text in [
            valid.replacingOccurrences(of: #""V1""#, with: #""V\u0031""#),
            valid.replacingOccurrences(of: #""type":"PenaltyDecision","#, with: "").replacingOccurrences(of: "}}", with: #"},"type":"PenaltyDecision"}"#),
        ] {
            #expect(BulletinJSONDecoder.fastPath(Array(text.utf8)[...]) == nil)
            #expect(try decoder.decode(Array(text.utf8)) == decoder.decode(Array(valid.utf8)))
        }
        // Long lists of persons go the full way too (it finds repeats with a set).
        let persons = (1...ScoringDecisionFastPath.maxRepeated + 1).map { #"{"code":"D\#($0)","responsibility":"main"}"# }
        let crowded = valid.replacingOccurrences(of: #"{"code":"D1","responsibility":"main"}"#, with: persons.joined(separator: ","))
        #expect(BulletinJSONDecoder.fastPath(Array(crowded.utf8)[...]) == nil)
        guard case .penaltyDecision(let body) = try decoder.decode(Array(crowded.utf8)).body else {
            Issue.record("not a penalty decision")
            return
        }
        #expect(body.findings.first?.persons.count == ScoringDecisionFastPath.maxRepeated + 1)
        let spaced = valid.replacingOccurrences(of: "\":", with: "\" \n:\t").replacingOccurrences(of: ",\"", with: "\r\n, \"")
        #expect(checkAgreement(Array(spaced.utf8)))
    }
}

/// A valid penalty decision or agreement handling with random optional parts, written with random key
/// order (type still before body) and whitespace.
struct GeneratedDecision: CustomStringConvertible {
    var members: [(String, String)]
    var description: String { members.map { "\($0.0)=\($0.1)" }.joined(separator: " ") }

    init(using random: inout SeededGenerator) {
        func pick<T>(_ items: [T]) -> T { items[random.below(items.count)] }
        func quoted(_ text: String) -> String { "\"" + text + "\"" }
        let penalty = random.below(3) > 0
        let resumed = !penalty && random.below(5) == 0
        var body: [(String, String)] = [
            ("decisionNo", quoted(pick(["湛医保罚〔2025〕\(random.below(1000))号", "No. \(random.below(99))", "粤-\(random.below(9))"]))),
            ("decidedOn", quoted("2025-0\(1 + random.below(9))-1\(random.below(10))")),
        ]
        if random.below(2) == 0 { body.append(("scoredOn", quoted("2025-11-2\(random.below(10))"))) }
        let medical = random.below(2) == 0
        var institution = [("code", quoted((medical ? "H" : "P") + "4408\(random.below(100_000))"))]
        if random.below(2) == 0 { institution.append(("name", quoted(pick(["湛江市第一人民医院", "Pharmacy \(random.below(50))"])))) }
        if random.below(2) == 0 { institution.append(("kind", quoted(medical ? "medical" : "pharmacy"))) }
        body.append(("institution", Self.object(institution)))
        if penalty, random.below(2) == 0 { body.append(("legalBasis", quoted(pick(LegalBasis.allCases).rawValue))) }
        if !penalty {
            body.append(("measure", quoted(resumed ? "agreement-resumed" : pick(AgreementMeasure.allCases.filter { $0 != .agreementResumed }).rawValue)))
        }
        if random.below(3) == 0 { body.append(("fraud", random.below(2) == 0 ? "true" : "false")) }
        if !resumed, penalty || random.below(4) > 0 {
            let findings = (0...random.below(3)).map { number -> String in
                let situations = (0...random.below(3)).map { _ in quoted(pick(SituationCode.allCases).rawValue) }
                let persons = (0...random.below(3)).map { index -> String in
                    var person = [("code", quoted("D4408\(number)\(index)\(random.below(1000))")), ("responsibility", quoted(pick(Responsibility.allCases).rawValue))]
                    if random.below(2) == 0 { person.append(("name", quoted(pick(["张三", "Li Si"])))) }
                    if random.below(2) == 0 { person.append(("category", quoted(pick(PersonCategory.allCases).rawValue))) }
                    if random.below(2) == 0 { person.append(("adjustment", quoted(pick(Adjustment.allCases).rawValue))) }
                    return Self.object(person)
                }
                return Self.object([("violation", quoted("V\(number)")), ("situations", "[" + situations.joined(separator: ",") + "]"),
                                    ("persons", "[" + persons.joined(separator: ",") + "]")])
            }
            body.append(("findings", "[" + findings.joined(separator: ",") + "]"))
        }
        members = [
            ("id", quoted(pick(["B\(random.below(1_000_000))", "440800-INS-ADMIN-2025_0.\(random.below(99))"]))),
            ("type", quoted(penalty ? "PenaltyDecision" : "AgreementHandling")),
            ("issuer", quoted("440800-INS-ADMIN")),
            ("issuedAt", quoted(pick(["2025-12-31T10:00:00+08:00", "2025-12-31T02:00:00Z", "2025-12-31T10:00:00.250-05:30"]))),
            ("region", quoted("440800")),
            ("body", Self.object(body.shuffled(using: &random))),
        ]
        if random.below(2) == 0 { members.append(("rules", quoted(pick(BulletinShapes.packNames)))) }
    }

    static func object(_ members: [(String, String)]) -> String {
        "{" + members.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    /// The JSON text: envelope members shuffled with `type` kept before `body`, whitespace sprinkled.
    func text(using random: inout SeededGenerator) -> [UInt8] {
        var order = members.shuffled(using: &random)
        if let type = order.firstIndex(where: { $0.0 == "type" }), let body = order.firstIndex(where: { $0.0 == "body" }), body < type {
            order.swapAt(type, body)
        }
        let compact = Self.object(order)
        guard random.below(3) == 0 else { return Array(compact.utf8) }
        var spaced: [UInt8] = []
        var inString = false
        for byte in compact.utf8 {
            if byte == UInt8(ascii: "\"") { inString.toggle() }
            spaced.append(byte)
            if !inString, [UInt8(ascii: ","), UInt8(ascii: ":"), UInt8(ascii: "{"), UInt8(ascii: "[")].contains(byte), random.below(2) == 0 {
                spaced.append(contentsOf: Array([" ", "\n  ", "\t", "\r\n"][random.below(4)].utf8))
            }
        }
        return spaced
    }
}
