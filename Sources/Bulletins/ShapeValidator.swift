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
        let type = members.first { $0.key == "type" }.flatMap { member -> String? in
            if case .string(let text) = member.node.value { return text }
            return nil
        }
        let body = type.flatMap(BulletinShapes.body(of:))
        let envelope = ObjectShape("Bulletin", BulletinShapes.envelope + [
            FieldShape("body", body.map(ValueShape.object) ?? .object(ObjectShape("Body", []))),
        ])
        try validate(root, as: .object(envelope), pointer: "")
    }

    static func validate(_ node: JSONNode, as shape: ValueShape, pointer: String) throws(JSONDecodingError) {
        func fail(_ message: String) -> JSONDecodingError { JSONDecodingError(pointer: pointer, line: node.line, message: message) }
        switch shape {
        case .text(let maxLength):
            let text = try string(node, pointer)
            let count = text.unicodeScalars.count
            guard count >= 1 else { throw fail("must not be empty") }
            guard count <= maxLength else { throw fail("longer than \(maxLength) characters") }
        case .code(let format):
            let text = try string(node, pointer)
            guard format.matches(text) else { throw fail("\"\(text)\" is not \(format.description)") }
        case .date:
            let text = try string(node, pointer)
            guard CalendarDate(iso: text) != nil else { throw fail("\"\(text)\" is not a YYYY-MM-DD date") }
        case .timestamp:
            let text = try string(node, pointer)
            guard Timestamp.isRFC3339WithOffset(text) else { throw fail("\"\(text)\" is not an RFC 3339 timestamp with an offset") }
        case .integer(let range):
            guard case .number(let lexeme) = node.value, let value = Int(lexeme) else {
                throw fail("expected an integer, found \(node.kindDescription)")
            }
            guard range.contains(value) else { throw fail("\(value) is outside \(range.lowerBound)…\(range.upperBound)") }
        case .boolean:
            guard case .bool = node.value else { throw fail("expected a boolean, found \(node.kindDescription)") }
        case .enumeration(_, let values):
            let text = try string(node, pointer)
            guard values.contains(text) else {
                throw fail("\"\(text)\" is not one of \(values.map { "\"\($0)\"" }.joined(separator: ", "))")
            }
        case .array(let item, _, let minItems, let maxItems):
            guard case .array(let elements) = node.value else { throw fail("expected an array, found \(node.kindDescription)") }
            guard elements.count >= minItems else { throw fail("needs at least \(minItems) item(s)") }
            guard elements.count <= maxItems else { throw fail("has more than \(maxItems) items") }
            for (index, element) in elements.enumerated() {
                try validate(element, as: item, pointer: pointer + "/\(index)")
            }
        case .object(let object):
            guard case .object(let members) = node.value else { throw fail("expected an object, found \(node.kindDescription)") }
            for member in members where object.field(member.key) == nil {
                throw JSONDecodingError(pointer: JSONObject.join(pointer, member.key), line: member.node.line,
                                        message: "unknown field \"\(member.key)\"")
            }
            for field in object.fields {
                guard let member = members.first(where: { $0.key == field.name }) else {
                    if field.required {
                        throw JSONDecodingError(pointer: JSONObject.join(pointer, field.name), line: node.line,
                                                message: "missing required field \"\(field.name)\"")
                    }
                    continue
                }
                try validate(member.node, as: field.shape, pointer: JSONObject.join(pointer, field.name))
            }
        }
    }

    private static func string(_ node: JSONNode, _ pointer: String) throws(JSONDecodingError) -> String {
        guard case .string(let text) = node.value else {
            throw JSONDecodingError(pointer: pointer, line: node.line, message: "expected a string, found \(node.kindDescription)")
        }
        return text
    }
}
