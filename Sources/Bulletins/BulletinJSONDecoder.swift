import Scoring
import StrictJSON

/// Decodes the JSON encoding of a bulletin (bulletins.md), strictly: unknown fields, bad dates, bad
/// enum values and broken references are errors naming the JSON pointer and the line.
public struct BulletinJSONDecoder: Sendable {
    /// The largest bulletin accepted, in bytes.
    public static let maxBytes = 1 << 20
    private let parser = JSONParser(limits: JSONLimits(maxDepth: 16, maxStringBytes: 16 * 1024, maxContainerCount: 10_000))

    /// Creates a decoder.
    public init() {}

    /// Decodes one bulletin; `firstLine` is the line of its first byte in the file (JSON Lines).
    public func decode<Bytes: Collection>(_ bytes: Bytes, firstLine: Int = 1) throws(BulletinError) -> Bulletin
    where Bytes.Element == UInt8 {
        try decode(ArraySlice(bytes), firstLine: firstLine)
    }

    /// Decodes one bulletin held in an array slice (no copy). Penalty decisions and agreement handlings
    /// are read in one pass when they can be (``ScoringDecisionFastPath``); everything else, and every
    /// document that pass does not accept, goes the full way, which gives the errors.
    public func decode(_ bytes: ArraySlice<UInt8>, firstLine: Int = 1) throws(BulletinError) -> Bulletin {
        if let bulletin = Self.fastPath(bytes) { return bulletin }
        return try decodeWithoutFastPath(bytes, firstLine: firstLine)
    }

    /// The one-pass reader alone: the bulletin when it accepts the document, else nil. Whatever it
    /// accepts, ``decodeWithoutFastPath(_:firstLine:)`` accepts as the same bulletin (tests and the
    /// intake fuzzer check this).
    public static func fastPath(_ bytes: ArraySlice<UInt8>) -> Bulletin? {
        guard bytes.count <= maxBytes else { return nil }
        return bytes.withUnsafeBufferPointer(ScoringDecisionFastPath.decode)
    }

    /// The full path alone: parse into a tree, check the shape, decode the typed body.
    public func decodeWithoutFastPath(_ bytes: ArraySlice<UInt8>, firstLine: Int = 1) throws(BulletinError) -> Bulletin {
        guard bytes.count <= Self.maxBytes else {
            throw BulletinError(code: .tooLarge, pointer: "", line: firstLine, message: "bulletin larger than \(Self.maxBytes) bytes")
        }
        let root: JSONNode
        do {
            root = try parser.parse(bytes, firstLine: firstLine)
        } catch {
            throw BulletinError(code: .malformed, pointer: "", line: error.line, message: "not valid JSON: \(error.message) (column \(error.column))")
        }
        return try Self.bulletin(fromTree: root)
    }

    /// Decodes a parsed bulletin (from JSON, or from XML through ``BulletinXML``): first the structure every
    /// schema states (``BulletinShapes``), then the typed body and its cross-field rules.
    public static func bulletin(fromTree root: JSONNode) throws(BulletinError) -> Bulletin {
        do {
            try ShapeValidator.validateBulletin(root)
            return try bulletin(root)
        } catch {
            throw BulletinError(code: .schemaInvalid, pointer: error.pointer, line: error.line, message: error.message)
        }
    }

    // MARK: Envelope

    static func bulletin(_ root: JSONNode) throws(JSONDecodingError) -> Bulletin {
        let envelope = try JSONObject(root, pointer: "", allowedKeys: Self.envelopeKeys)
        let id = try code(envelope, "id", pattern: "bulletin id", maxLength: 64)
        let type: BulletinType = try envelope.enumeration("type")
        let issuer = try code(envelope, "issuer", pattern: "participant code", maxLength: 64)
        let issuedAt = try envelope.string("issuedAt", maxLength: 40)
        guard Timestamp.isRFC3339WithOffset(issuedAt) else {
            throw envelope.error("issuedAt", "\"\(issuedAt)\" is not an RFC 3339 timestamp with an offset")
        }
        let region = try envelope.string("region", maxLength: 6)
        guard region.utf8.count == 6, region.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            throw envelope.error("region", "\"\(region)\" is not a 6-digit region code")
        }
        let rules = try envelope.optionalString("rules", maxLength: 64)
        guard let bodyNode = envelope.node("body") else { throw envelope.error("body", "missing required field \"body\"") }
        let body = try Self.body(type, bodyNode, pointer: "/body")
        return Bulletin(id: id, type: type, issuer: issuer, issuedAt: issuedAt, region: region, rules: rules, body: body)
    }

    /// A code-like string: letters, digits, `-`, `_`, `.`; 1…maxLength characters.
    static func code(_ object: JSONObject, _ key: String, pattern: String, maxLength: Int) throws(JSONDecodingError) -> String {
        let text = try object.string(key, maxLength: maxLength)
        guard isCode(text) else {
            throw object.error(key, "\"\(text)\" is not a valid \(pattern) (letters, digits, '-', '_', '.')")
        }
        return text
    }

    static func isCode(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
    }

    // MARK: Bodies

    static func body(_ type: BulletinType, _ node: JSONNode, pointer: String) throws(JSONDecodingError) -> BulletinBody {
        switch type {
        case .penaltyDecision:
            return .penaltyDecision(try scoringDecision(node, pointer: pointer, penalty: true))
        case .agreementHandling:
            return .agreementHandling(try scoringDecision(node, pointer: pointer, penalty: false))
        case .licenceRevocation:
            return .licenceRevocation(try licenceRevocation(node, pointer: pointer))
        case .repairDecision:
            let body = try JSONObject(node, pointer: pointer, allowedKeys: Self.repairKeys)
            let category: RepairCategory = try body.enumeration("category")
            let examScore = try body.optionalInt("examScore", in: 0...100)
            if examScore != nil, category != .trainingExam {
                throw body.error("examScore", "examScore is only for category \"training-exam\"")
            }
            let fraudReport = try body.optionalBool("fraudReport")
            if fraudReport != nil, category != .whistleblowing {
                throw body.error("fraudReport", "fraudReport is only for category \"whistleblowing\"")
            }
            return .repairDecision(RepairDecisionBody(
                decisionNo: try decisionNo(body), decidedOn: try date(body, "decidedOn"),
                person: try person(body.object("person", allowedKeys: personKeys)), category: category,
                examScore: examScore, fraudReport: fraudReport))
        case .restorationDecision:
            let body = try JSONObject(node, pointer: pointer, allowedKeys: Self.restorationKeys)
            let decidedOn = try date(body, "decidedOn")
            let appliedOn = try date(body, "appliedOn")
            guard appliedOn <= decidedOn else { throw body.error("appliedOn", "application \(appliedOn) is after the decision \(decidedOn)") }
            return .restorationDecision(RestorationDecisionBody(
                decisionNo: try decisionNo(body), decidedOn: decidedOn, appliedOn: appliedOn,
                person: try person(body.object("person", allowedKeys: personKeys))))
        case .finalScoreDecision:
            let body = try JSONObject(node, pointer: pointer, allowedKeys: Self.finalDecisionKeys)
            return .finalScoreDecision(FinalScoreDecisionBody(
                decisionNo: try decisionNo(body), decidedOn: try date(body, "decidedOn"),
                target: try reference(body), outcome: try body.enumeration("outcome")))
        case .correction:
            let body = try JSONObject(node, pointer: pointer, allowedKeys: Self.correctionKeys)
            return .correction(CorrectionBody(
                decisionNo: try decisionNo(body), decidedOn: try date(body, "decidedOn"),
                target: try reference(body), action: try body.enumeration("action")))
        case .practiceNotice: return .practiceNotice(try practiceNotice(node, pointer: pointer))
        case .suspectedViolation: return .suspectedViolation(try suspectedViolation(node, pointer: pointer))
        case .referral: return .referral(try referral(node, pointer: pointer))
        case .referralReply: return .referralReply(try referralReply(node, pointer: pointer))
        case .scoreBulletin: return .scoreBulletin(try scoreBulletin(node, pointer: pointer))
        case .creditRating: return .creditRating(try creditRating(node, pointer: pointer))
        case .scoreNotice: return .scoreNotice(try scoreNotice(node, pointer: pointer))
        case .receipt: return .receipt(try receipt(node, pointer: pointer))
        case .registration:
            let body = try JSONObject(node, pointer: pointer, allowedKeys: Self.registrationKeys)
            return .registration(RegistrationBody(
                person: try person(body.object("person", allowedKeys: personKeys)),
                institution: try institution(body.object("institution", allowedKeys: institutionKeys)),
                action: try body.enumeration("action"), on: try date(body, "on")))
        }
    }

    // The fields each object may carry, taken from the one catalogue (BulletinShapes) and built once.
    static let envelopeKeys = Set(BulletinShapes.envelope.map(\.name) + ["body"])
    static let penaltyKeys = keys(BulletinShapes.penaltyDecision)
    static let agreementKeys = keys(BulletinShapes.agreementHandling)
    static let findingKeys = keys(BulletinShapes.finding)
    static let revocationKeys = keys(BulletinShapes.licenceRevocation)
    static let certificateKeys = keys(BulletinShapes.certificate)
    static let repairKeys = keys(BulletinShapes.repairDecision)
    static let restorationKeys = keys(BulletinShapes.restorationDecision)
    static let finalDecisionKeys = keys(BulletinShapes.finalScoreDecision)
    static let correctionKeys = keys(BulletinShapes.correction)
    static let registrationKeys = keys(BulletinShapes.registration)
    static let referenceKeys = keys(BulletinShapes.reference)
    static let personKeys = keys(BulletinShapes.person)
    static let findingPersonKeys = keys(BulletinShapes.findingPerson)
    static let revocationPersonKeys = personKeys.union(["responsibility"])
    static let institutionKeys = keys(BulletinShapes.institution)

    static func scoringDecision(_ node: JSONNode, pointer: String, penalty: Bool) throws(JSONDecodingError) -> ScoringDecisionBody {
        let body = try JSONObject(node, pointer: pointer, allowedKeys: penalty ? Self.penaltyKeys : Self.agreementKeys)
        let decidedOn = try date(body, "decidedOn")
        let scoredOn = try optionalDate(body, "scoredOn")
        if let scoredOn, scoredOn < decidedOn {
            throw body.error("scoredOn", "score date \(scoredOn) is before the decision date \(decidedOn)")
        }
        let measure: AgreementMeasure? = penalty ? nil : try body.enumeration("measure")
        let legalBasis: LegalBasis? = penalty ? try body.optionalEnumeration("legalBasis") : nil
        var findings: [FindingBody] = []
        var violations = Set<String>()
        for element in try body.optionalArray("findings", maxCount: 1000) ?? [] {
            let finding = try self.finding(element.node, pointer: element.pointer)
            guard violations.insert(finding.violation).inserted else {
                throw JSONDecodingError(pointer: element.pointer + "/violation", line: element.node.line,
                                        message: "violation \"\(finding.violation)\" appears twice in this bulletin")
            }
            findings.append(finding)
        }
        if measure == .agreementResumed, !findings.isEmpty {
            throw body.error("findings", "an agreement-resumed handling has no findings")
        }
        if penalty, findings.isEmpty {
            throw body.error("findings", "a penalty decision needs at least one finding")
        }
        return ScoringDecisionBody(
            decisionNo: try decisionNo(body), decidedOn: decidedOn, scoredOn: scoredOn,
            institution: try institution(body.object("institution", allowedKeys: institutionKeys)),
            legalBasis: legalBasis, measure: measure, fraud: try body.optionalBool("fraud"), findings: findings)
    }

    static func finding(_ node: JSONNode, pointer: String) throws(JSONDecodingError) -> FindingBody {
        let finding = try JSONObject(node, pointer: pointer, allowedKeys: Self.findingKeys)
        var situations: [SituationCode] = []
        for element in try finding.array("situations", maxCount: 20) {
            situations.append(try JSONObject.enumeration(element.node, pointer: element.pointer, as: SituationCode.self))
        }
        guard !situations.isEmpty else { throw finding.error("situations", "a finding needs at least one situation") }
        var persons: [FindingPerson] = []
        var seen = Set<String>()
        for element in try finding.array("persons", maxCount: 1000) {
            let object = try JSONObject(element.node, pointer: element.pointer, allowedKeys: findingPersonKeys)
            let ref = try person(object)
            guard seen.insert(ref.code).inserted else {
                throw object.error("code", "person \(ref.code) is named twice in this finding")
            }
            persons.append(FindingPerson(
                person: ref, responsibility: try object.enumeration("responsibility"),
                adjustment: try object.optionalEnumeration("adjustment") ?? .none))
        }
        guard !persons.isEmpty else { throw finding.error("persons", "a finding needs at least one responsible person") }
        return FindingBody(violation: try code(finding, "violation", pattern: "violation id", maxLength: 64), situations: situations, persons: persons)
    }

    static func licenceRevocation(_ node: JSONNode, pointer: String) throws(JSONDecodingError) -> LicenceRevocationBody {
        let body = try JSONObject(node, pointer: pointer, allowedKeys: Self.revocationKeys)
        let personObject = try body.object("person", allowedKeys: revocationPersonKeys)
        var institutions: [String] = []
        for element in try body.array("institutions", maxCount: 100) {
            let code = try JSONObject.string(element.node, pointer: element.pointer, maxLength: 32)
            guard isInstitutionCode(code) else {
                throw JSONDecodingError(pointer: element.pointer, line: element.node.line, message: "\"\(code)\" is not an institution code (H… or P…)")
            }
            institutions.append(code)
        }
        let certificate = try body.object("certificate", allowedKeys: Self.certificateKeys)
        let decidedOn = try date(body, "decidedOn")
        let scoredOn = try optionalDate(body, "scoredOn")
        if let scoredOn, scoredOn < decidedOn {
            throw body.error("scoredOn", "score date \(scoredOn) is before the decision date \(decidedOn)")
        }
        return LicenceRevocationBody(
            decisionNo: try decisionNo(body), decidedOn: decidedOn, scoredOn: scoredOn, person: try person(personObject),
            responsibility: try personObject.optionalEnumeration("responsibility") ?? .main, institutions: institutions,
            certificate: Certificate(kind: try certificate.enumeration("kind"), number: try certificate.string("number", maxLength: 64)),
            action: try body.enumeration("action"), reason: try body.optionalString("reason", maxLength: 2000))
    }

    // MARK: Pieces

    static func decisionNo(_ object: JSONObject) throws(JSONDecodingError) -> String {
        let text = try object.string("decisionNo", maxLength: 128)
        guard !text.isEmpty else { throw object.error("decisionNo", "decisionNo is empty") }
        return text
    }

    static func date(_ object: JSONObject, _ key: String) throws(JSONDecodingError) -> CalendarDate {
        let text = try object.string(key, maxLength: 32)
        guard let date = CalendarDate(iso: text) else { throw object.error(key, "\"\(text)\" is not a YYYY-MM-DD date") }
        return date
    }

    static func optionalDate(_ object: JSONObject, _ key: String) throws(JSONDecodingError) -> CalendarDate? {
        guard object.node(key) != nil else { return nil }
        return try date(object, key)
    }

    static func person(_ object: JSONObject) throws(JSONDecodingError) -> PersonRef {
        let code = try object.string("code", maxLength: 32)
        guard isPersonCode(code) else {
            throw object.error("code", "\"\(code)\" is not a personnel code (an upper-case letter, then letters or digits)")
        }
        return PersonRef(code: code, name: try object.optionalString("name", maxLength: 200), category: try object.optionalEnumeration("category"))
    }

    static func institution(_ object: JSONObject) throws(JSONDecodingError) -> InstitutionRef {
        let code = try object.string("code", maxLength: 32)
        guard isInstitutionCode(code) else { throw object.error("code", "\"\(code)\" is not an institution code (H… or P…)") }
        let kind: InstitutionKind? = try object.optionalEnumeration("kind")
        if let kind, (kind == .medical) != code.hasPrefix("H") {
            throw object.error("kind", "kind \"\(kind.rawValue)\" does not match code \(code) (H… is medical, P… is pharmacy)")
        }
        return InstitutionRef(code: code, name: try object.optionalString("name", maxLength: 200), kind: kind)
    }

    static func reference(_ body: JSONObject) throws(JSONDecodingError) -> BulletinRef {
        try bulletinReference(try body.object("target", allowedKeys: Self.referenceKeys))
    }

    /// A `BulletinRef` object: an issuer and a bulletin id.
    static func bulletinReference(_ object: JSONObject) throws(JSONDecodingError) -> BulletinRef {
        BulletinRef(
            issuer: try code(object, "issuer", pattern: "participant code", maxLength: 64),
            id: try code(object, "id", pattern: "bulletin id", maxLength: 128))
    }

    static func isPersonCode(_ code: String) -> Bool {
        let bytes = Array(code.utf8)
        guard (2...32).contains(bytes.count), let first = bytes.first, (0x41...0x5A).contains(first) else { return false }
        return bytes.allSatisfy { (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) }
    }

    static func isInstitutionCode(_ code: String) -> Bool {
        code.hasPrefix("H") || code.hasPrefix("P") ? isPersonCode(code) : false
    }
}

extension BulletinJSONDecoder {
    /// The line of the value at `pointer` in a bulletin's text, for errors found after decoding.
    public static func line<Bytes: Collection>(of pointer: String, in bytes: Bytes, firstLine: Int) -> Int? where Bytes.Element == UInt8 {
        guard let root = try? JSONParser().parse(bytes, firstLine: firstLine) else { return nil }
        return root.line(at: pointer)
    }
}
