import Scoring
import StrictJSON

/// Checks a parsed JSON bulletin against ``BulletinShapes``: the same rules the generated JSON Schema
/// and XSD state, so `tongbao validate`, a JSON Schema validator and `xmllint` agree.
enum ShapeValidator {
    /// Validates a whole bulletin (envelope and the body of its type).
    static func validateBulletin(_ root: JSONNode) throws(JSONDecodingError) {
        guard case .object(let members) = root.value else {
            throw JSONDecodingError(pointer: "", line: root.line, message: "expected an object, found \(root.kindDescription)")
        }
        var shape = ShapeTable.shared.unknownTypeEnvelope
        for member in members where member.key == "type" {
            if case .string(let type) = member.node.value, let envelope = ShapeTable.shared.envelopes[type] { shape = envelope }
        }
        try ShapeTable.shared.validate(root, as: shape, pointer: { "" })
    }
}

/// ``ValueShape``s compiled into flat tables of plain values for checking documents: each check is a
/// trivial value, children are indexes, and field names and enumeration values are byte ranges. Walking
/// it touches no reference counts, which walking the `indirect enum` catalogue did at every node (a third
/// of a replay's time went there). Immutable after creation, so shared by every thread.
final class ShapeTable: Sendable {
    /// One check, with everything it needs as plain values.
    enum Check {
        case text(maxLength: Int)
        case code(CodeFormat)
        case date
        case timestamp
        case integer(ClosedRange<Int>)
        case boolean
        /// Allowed values: `values[first..<first + count]`.
        case enumeration(first: Int, count: Int)
        /// Fields: `fields[first..<first + count]`, in schema order.
        case object(first: Int, count: Int)
        case array(item: Int, minItems: Int, maxItems: Int)
    }

    struct Field {
        var name: Range<Int>
        var shape: Int
        var required: Bool
    }

    /// The shared table of every bulletin type's whole shape.
    static let shared = ShapeTable(bulletinTypes: BulletinShapes.bodies)

    private let checks: [Check]
    private let fields: [Field]
    private let values: [Range<Int>]
    private let bytes: [UInt8]
    /// The check index of each bulletin type's envelope-with-body.
    let envelopes: [String: Int]
    /// The check used when the type is missing or unknown (the envelope's own checks then name the type).
    let unknownTypeEnvelope: Int

    private convenience init(bulletinTypes: [(type: String, body: ObjectShape)]) {
        func envelope(_ body: ObjectShape) -> ValueShape {
            .object(ObjectShape("Bulletin", BulletinShapes.envelope + [FieldShape("body", .object(body))]))
        }
        self.init(roots: bulletinTypes.map { envelope($0.body) } + [envelope(ObjectShape("Body", []))], types: bulletinTypes.map(\.type))
    }

    /// Compiles `roots`; root `i` gets check index `i`, and `types[i]` names root `i` in ``envelopes``.
    init(roots: [ValueShape], types: [String] = []) {
        var builder = Builder()
        for _ in roots { builder.reserve() }
        for (index, root) in roots.enumerated() { builder.fill(index, root) }
        checks = builder.checks.map { $0 ?? .boolean }
        fields = builder.fields
        values = builder.values
        bytes = builder.bytes
        var envelopes: [String: Int] = [:]
        for (index, type) in types.enumerated() { envelopes[type] = index }
        self.envelopes = envelopes
        unknownTypeEnvelope = roots.count - 1
    }

    /// Builds the tables: a shape's check is reserved before its children are added, depth first.
    private struct Builder {
        var checks: [Check?] = []
        var fields: [Field] = []
        var values: [Range<Int>] = []
        var bytes: [UInt8] = []

        /// Makes room for one check, filled in by ``fill(_:_:)``.
        mutating func reserve() {
            checks.append(nil)
        }

        mutating func bytesRange(_ text: String) -> Range<Int> {
            let start = bytes.count
            bytes.append(contentsOf: text.utf8)
            return start..<bytes.count
        }

        mutating func add(_ shape: ValueShape) -> Int {
            reserve()
            let index = checks.count - 1
            fill(index, shape)
            return index
        }

        mutating func fill(_ index: Int, _ shape: ValueShape) {
            switch shape {
            case .text(let maxLength): checks[index] = .text(maxLength: maxLength)
            case .code(let format): checks[index] = .code(format)
            case .date: checks[index] = .date
            case .timestamp: checks[index] = .timestamp
            case .integer(let range): checks[index] = .integer(range)
            case .boolean: checks[index] = .boolean
            case .enumeration(_, let list):
                let first = values.count
                for value in list { values.append(bytesRange(value)) }
                checks[index] = .enumeration(first: first, count: list.count)
            case .array(let item, _, let minItems, let maxItems):
                checks[index] = .array(item: add(item), minItems: minItems, maxItems: maxItems)
            case .object(let object):
                let children = object.fields.map { (name: $0.name, shape: add($0.shape), required: $0.required) }
                let first = fields.count
                for child in children { fields.append(Field(name: bytesRange(child.name), shape: child.shape, required: child.required)) }
                checks[index] = .object(first: first, count: children.count)
            }
        }
    }

    // MARK: Checking

    /// Checks `node` against check `index`; `pointer` makes the node's JSON pointer, only when there is
    /// an error to report (building every pointer up front cost more than the checks themselves).
    func validate(_ node: JSONNode, as index: Int, pointer: () -> String) throws(JSONDecodingError) {
        func fail(_ message: String) -> JSONDecodingError { JSONDecodingError(pointer: pointer(), line: node.line, message: message) }
        switch checks[index] {
        case .text(let maxLength):
            let (count, control) = try withText(node, pointer) { bytes in
                (bytes.reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }, bytes.first(where: TextRule.isControl))
            }
            if let control { throw fail("holds the control character U+00\(control < 0x10 ? "0" : "")\(String(control, radix: 16, uppercase: true)); text may hold tab and newline, no other") }
            guard count >= 1 else { throw fail("must not be empty") }
            guard count <= maxLength else { throw fail("longer than \(maxLength) characters") }
        case .code(let format):
            guard try withText(node, pointer, format.matches) else { throw fail("\"\(Self.text(node))\" is not \(format.description)") }
        case .date:
            guard try withText(node, pointer, { CalendarDate(iso: String(decoding: $0, as: UTF8.self)) != nil }) else {
                throw fail("\"\(Self.text(node))\" is not a YYYY-MM-DD date")
            }
        case .timestamp:
            guard try withText(node, pointer, Timestamp.isRFC3339WithOffset) else {
                throw fail("\"\(Self.text(node))\" is not an RFC 3339 timestamp with an offset")
            }
        case .integer(let range):
            guard case .number(let lexeme) = node.value, let value = Int(lexeme) else {
                throw fail("expected an integer, found \(node.kindDescription)")
            }
            guard range.contains(value) else { throw fail("\(value) is outside \(range.lowerBound)…\(range.upperBound)") }
        case .boolean:
            guard case .bool = node.value else { throw fail("expected a boolean, found \(node.kindDescription)") }
        case .enumeration(let first, let count):
            let known = try withText(node, pointer) { text in values[first..<(first + count)].contains { equal(text, $0) } }
            guard known else {
                let allowed = (first..<(first + count)).map { "\"\(string(values[$0]))\"" }.joined(separator: ", ")
                throw fail("\"\(Self.text(node))\" is not one of \(allowed)")
            }
        case .array(let item, let minItems, let maxItems):
            guard case .array(let elements) = node.value else { throw fail("expected an array, found \(node.kindDescription)") }
            guard elements.count >= minItems else { throw fail("needs at least \(minItems) item(s)") }
            guard elements.count <= maxItems else { throw fail("has more than \(maxItems) items") }
            for (position, element) in elements.enumerated() {
                try validate(element, as: item, pointer: { pointer() + "/\(position)" })
            }
        case .object(let first, let count):
            guard case .object(let members) = node.value else { throw fail("expected an object, found \(node.kindDescription)") }
            let range = first..<(first + count)
            for member in members where !range.contains(where: { matches(member.key, fields[$0].name) }) {
                throw JSONDecodingError(pointer: JSONObject.join(pointer(), member.key), line: member.node.line,
                                        message: "unknown field \"\(member.key)\"")
            }
            for fieldIndex in range {
                let field = fields[fieldIndex]
                guard let member = members.first(where: { matches($0.key, field.name) }) else {
                    if field.required {
                        let name = string(field.name)
                        throw JSONDecodingError(pointer: JSONObject.join(pointer(), name), line: node.line,
                                                message: "missing required field \"\(name)\"")
                    }
                    continue
                }
                try validate(member.node, as: field.shape, pointer: { JSONObject.join(pointer(), string(field.name)) })
            }
        }
    }

    /// Calls `body` with a string node's UTF-8 bytes, or throws when the node is not a string.
    private func withText<Result>(
        _ node: JSONNode, _ pointer: () -> String, _ body: (UnsafeBufferPointer<UInt8>) -> Result
    ) throws(JSONDecodingError) -> Result {
        guard case .string(var text) = node.value else {
            throw JSONDecodingError(pointer: pointer(), line: node.line, message: "expected a string, found \(node.kindDescription)")
        }
        return text.withUTF8(body)
    }

    private static func text(_ node: JSONNode) -> String {
        if case .string(let text) = node.value { return text }
        return ""
    }

    private func matches(_ key: String, _ name: Range<Int>) -> Bool {
        var key = key
        return key.withUTF8 { equal($0, name) }
    }

    private func equal(_ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        guard text.count == range.count else { return false }
        var offset = 0
        for index in range {
            guard bytes[index] == text[offset] else { return false }
            offset += 1
        }
        return true
    }

    private func string(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }
}

/// What text fields may hold beyond their length: any character but the C0 controls other than tab and
/// newline, and DEL. XML 1.0 cannot carry most of them, a carriage return does not survive an XML parser,
/// and none belongs in a decision's text.
enum TextRule {
    /// Whether a UTF-8 byte is a control character text may not hold (bytes of multi-byte characters never are).
    static func isControl(_ byte: UInt8) -> Bool {
        (byte < 0x20 && byte != 0x09 && byte != 0x0A) || byte == 0x7F
    }

    /// The JSON Schema pattern of the rule.
    static let jsonPattern = #"^[^\u0000-\u0008\u000B-\u001F\u007F]*$"#
    /// The XSD pattern of the rule (the other controls cannot appear in XML 1.0 at all).
    static let xsdPattern = "[^&#xD;&#x7F;]*"
}
