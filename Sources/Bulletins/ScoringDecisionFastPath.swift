import Scoring
import StrictJSON

/// A one-pass reader for the JSON of the two bulletin types that make up nearly all scoring traffic,
/// `PenaltyDecision` and `AgreementHandling`: it checks every rule the full decoder checks while reading
/// straight into the typed model, without a tree.
///
/// It only ever says yes: on anything unusual — another type, `type` after `body`, a string escape, a
/// `null`, any rule broken — it returns nil and ``BulletinJSONDecoder`` decides the document again on the
/// full path (parse, ``ShapeValidator``, typed decoding), which gives the precise error. So errors are
/// never its business, and whatever it accepts the full path accepts as the same ``Bulletin``; the
/// differential tests and the intake fuzzer hold it to that.
enum ScoringDecisionFastPath {
    typealias Miss = JSONCursor.Miss

    /// The most findings per bulletin, and persons per finding, read here: repeats are found by scanning
    /// the ones read so far, so larger lists (up to the schema's 1,000) go the full way, which uses sets.
    static let maxRepeated = 64

    /// The bulletin, or nil when the full path must decide.
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>) -> Bulletin? {
        var cursor = JSONCursor(bytes)
        do {
            let bulletin = try envelope(&cursor)
            try cursor.end()
            return bulletin
        } catch {
            return nil
        }
    }

    private static func envelope(_ cursor: inout JSONCursor) throws(Miss) -> Bulletin {
        var seen = FieldsSeen<EnvelopeField>()
        var id: String?, type: BulletinType?, issuer: String?, issuedAt: String?, region: String?, rules: String?
        var body: ScoringDecisionBody?
        try cursor.forEachMember { (cursor, key) throws(Miss) in
            switch try seen.field(key) {
            case .id: id = try code(&cursor, .identifier)
            case .type:
                let name = try cursor.string()
                if name.isEqual(to: "PenaltyDecision") {
                    type = .penaltyDecision
                } else if name.isEqual(to: "AgreementHandling") {
                    type = .agreementHandling
                } else {
                    throw Miss()
                }
            case .issuer: issuer = try code(&cursor, .identifier)
            case .issuedAt:
                let text = try cursor.string()
                guard Timestamp.isRFC3339WithOffset(text) else { throw Miss() }
                issuedAt = ascii(text)
            case .region: region = try code(&cursor, .region)
            case .rules: rules = try Tables.packs.value(try cursor.string())
            case .body:
                guard let type else { throw Miss() }
                body = try scoringDecision(&cursor, penalty: type == .penaltyDecision)
            }
        }
        guard let id, let type, let issuer, let issuedAt, let region, let body else { throw Miss() }
        return Bulletin(
            id: id, type: type, issuer: issuer, issuedAt: issuedAt, region: region, rules: rules,
            body: type == .penaltyDecision ? .penaltyDecision(body) : .agreementHandling(body))
    }

    private static func scoringDecision(_ cursor: inout JSONCursor, penalty: Bool) throws(Miss) -> ScoringDecisionBody {
        var seen = FieldsSeen<DecisionField>()
        var decisionNo: String?, decidedOn: CalendarDate?, scoredOn: CalendarDate?, institution: InstitutionRef?
        var legalBasis: LegalBasis?, measure: AgreementMeasure?, fraud: Bool?, findings: [FindingBody]?
        try cursor.forEachMember { (cursor, key) throws(Miss) in
            switch try seen.field(key) {
            case .decisionNo: decisionNo = try cursor.text(maxBytes: 128)
            case .decidedOn: decidedOn = try date(&cursor)
            case .scoredOn: scoredOn = try date(&cursor)
            case .institution: institution = try self.institution(&cursor)
            case .legalBasis:
                guard penalty else { throw Miss() }
                legalBasis = try Tables.legalBases.value(try cursor.string())
            case .measure:
                guard !penalty else { throw Miss() }
                measure = try Tables.measures.value(try cursor.string())
            case .fraud: fraud = try cursor.bool()
            case .findings: findings = try self.findings(&cursor)
            }
        }
        guard let decisionNo, let decidedOn, let institution else { throw Miss() }
        if let scoredOn, scoredOn < decidedOn { throw Miss() }
        if penalty {
            guard let findings, !findings.isEmpty else { throw Miss() }
        } else {
            guard let measure else { throw Miss() }
            if measure == .agreementResumed, findings?.isEmpty == false { throw Miss() }
        }
        return ScoringDecisionBody(
            decisionNo: decisionNo, decidedOn: decidedOn, scoredOn: scoredOn, institution: institution,
            legalBasis: legalBasis, measure: measure, fraud: fraud, findings: findings ?? [])
    }

    private static func findings(_ cursor: inout JSONCursor) throws(Miss) -> [FindingBody] {
        var findings: [FindingBody] = []
        try cursor.forEachElement { (cursor) throws(Miss) in
            let finding = try self.finding(&cursor)
            guard findings.count < maxRepeated, !findings.contains(where: { $0.violation == finding.violation }) else { throw Miss() }
            findings.append(finding)
        }
        return findings
    }

    private static func finding(_ cursor: inout JSONCursor) throws(Miss) -> FindingBody {
        var seen = FieldsSeen<FindingField>()
        var violation: String?, situations: [SituationCode] = [], persons: [FindingPerson] = []
        try cursor.forEachMember { (cursor, key) throws(Miss) in
            switch try seen.field(key) {
            case .violation: violation = try code(&cursor, .identifier)
            case .situations:
                try cursor.forEachElement { (cursor) throws(Miss) in
                    guard situations.count < 20 else { throw Miss() }
                    situations.append(try Tables.situations.value(try cursor.string()))
                }
            case .persons:
                try cursor.forEachElement { (cursor) throws(Miss) in
                    let person = try findingPerson(&cursor)
                    guard persons.count < maxRepeated, !persons.contains(where: { $0.person.code == person.person.code }) else { throw Miss() }
                    persons.append(person)
                }
            }
        }
        guard let violation, !situations.isEmpty, !persons.isEmpty else { throw Miss() }
        return FindingBody(violation: violation, situations: situations, persons: persons)
    }

    private static func findingPerson(_ cursor: inout JSONCursor) throws(Miss) -> FindingPerson {
        var seen = FieldsSeen<FindingPersonField>()
        var code: String?, name: String?, category: PersonCategory?, responsibility: Responsibility?, adjustment: Adjustment?
        try cursor.forEachMember { (cursor, key) throws(Miss) in
            switch try seen.field(key) {
            case .code: code = try self.code(&cursor, .personCode)
            case .name: name = try cursor.text(maxBytes: 200)
            case .category: category = try Tables.categories.value(try cursor.string())
            case .responsibility: responsibility = try Tables.responsibilities.value(try cursor.string())
            case .adjustment: adjustment = try Tables.adjustments.value(try cursor.string())
            }
        }
        guard let code, let responsibility else { throw Miss() }
        return FindingPerson(
            person: PersonRef(code: code, name: name, category: category), responsibility: responsibility,
            adjustment: adjustment ?? .none)
    }

    private static func institution(_ cursor: inout JSONCursor) throws(Miss) -> InstitutionRef {
        var seen = FieldsSeen<InstitutionField>()
        var code: String?, name: String?, kind: InstitutionKind?
        try cursor.forEachMember { (cursor, key) throws(Miss) in
            switch try seen.field(key) {
            case .code: code = try self.code(&cursor, .institutionCode)
            case .name: name = try cursor.text(maxBytes: 200)
            case .kind: kind = try Tables.institutionKinds.value(try cursor.string())
            }
        }
        guard let code else { throw Miss() }
        if let kind, (kind == .medical) != code.hasPrefix("H") { throw Miss() }
        return InstitutionRef(code: code, name: name, kind: kind)
    }

    // MARK: Values

    private static func code(_ cursor: inout JSONCursor, _ format: CodeFormat) throws(Miss) -> String {
        let text = try cursor.string()
        guard format.matches(text) else { throw Miss() }
        return ascii(text)
    }

    private static func date(_ cursor: inout JSONCursor) throws(Miss) -> CalendarDate {
        guard let date = CalendarDate(isoUTF8: try cursor.string()) else { throw Miss() }
        return date
    }

    /// A string from bytes already checked to be ASCII by a format.
    private static func ascii(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    // MARK: Fields

    /// The fields of each object, by the names of ``BulletinShapes`` (a test keeps them equal).
    enum EnvelopeField: Int, FieldNames {
        case id, type, issuer, issuedAt, region, rules, body
        static let names: [StaticString] = ["id", "type", "issuer", "issuedAt", "region", "rules", "body"]
    }

    enum DecisionField: Int, FieldNames {
        case decisionNo, decidedOn, scoredOn, institution, legalBasis, measure, fraud, findings
        static let names: [StaticString] = [
            "decisionNo", "decidedOn", "scoredOn", "institution", "legalBasis", "measure", "fraud", "findings",
        ]
    }

    enum FindingField: Int, FieldNames {
        case violation, situations, persons
        static let names: [StaticString] = ["violation", "situations", "persons"]
    }

    enum FindingPersonField: Int, FieldNames {
        case code, name, category, responsibility, adjustment
        static let names: [StaticString] = ["code", "name", "category", "responsibility", "adjustment"]
    }

    enum InstitutionField: Int, FieldNames {
        case code, name, kind
        static let names: [StaticString] = ["code", "name", "kind"]
    }

    /// The enumerations' raw values as bytes.
    enum Tables {
        static let packs = ByteTable(strings: BulletinShapes.packNames)
        static let legalBases = ByteTable<LegalBasis>()
        static let measures = ByteTable<AgreementMeasure>()
        static let situations = ByteTable<SituationCode>()
        static let categories = ByteTable<PersonCategory>()
        static let responsibilities = ByteTable<Responsibility>()
        static let adjustments = ByteTable<Adjustment>()
        static let institutionKinds = ByteTable<InstitutionKind>()
    }
}

/// An object's field names, in the order of the conforming enum's cases (raw values 0, 1, …).
protocol FieldNames: RawRepresentable<Int>, CaseIterable {
    static var names: [StaticString] { get }
}

/// Which fields of one object have been read: an unknown or repeated key is a miss.
struct FieldsSeen<Field: FieldNames> {
    private var mask: UInt64 = 0

    mutating func field(_ key: UnsafeBufferPointer<UInt8>) throws(JSONCursor.Miss) -> Field {
        for (index, name) in Field.names.enumerated() where key.isEqual(to: name) {
            let bit: UInt64 = 1 << UInt64(index)
            guard mask & bit == 0, let field = Field(rawValue: index) else { throw JSONCursor.Miss() }
            mask |= bit
            return field
        }
        throw JSONCursor.Miss()
    }
}

/// Values looked up by their UTF-8 bytes, without making a string.
struct ByteTable<Value: Sendable>: Sendable {
    private let entries: [(bytes: [UInt8], value: Value)]

    init(_ entries: [(String, Value)]) {
        self.entries = entries.map { (Array($0.0.utf8), $0.1) }
    }

    /// The value whose text is exactly `bytes`, else a miss.
    func value(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONCursor.Miss) -> Value {
        for entry in entries where entry.bytes.count == bytes.count && entry.bytes.elementsEqual(bytes) { return entry.value }
        throw JSONCursor.Miss()
    }
}

extension ByteTable {
    /// An enum's cases by raw value.
    init() where Value: RawRepresentable & CaseIterable, Value.RawValue == String {
        self.init(Value.allCases.map { ($0.rawValue, $0) })
    }

    /// Strings by themselves.
    init(strings: [String]) where Value == String {
        self.init(strings.map { ($0, $0) })
    }
}
