/// Writes a JSON tree as indented text (two spaces, keys in tree order), the form of the examples.
public enum JSONWriter {
    /// The indented text of `node`, ending with a newline.
    public static func pretty(_ node: JSONNode) -> String {
        var output = ""
        write(node, indent: "", into: &output)
        return output + "\n"
    }

    private static func write(_ node: JSONNode, indent: String, into output: inout String) {
        switch node.value {
        case .null: output += "null"
        case .bool(let value): output += value ? "true" : "false"
        case .number(let lexeme): output += lexeme
        case .string(let text): output += JSONText.quoted(text)
        case .array(let elements):
            guard !elements.isEmpty else { output += "[]"; return }
            if elements.allSatisfy(\.isScalar) {
                output += "["
                for (index, element) in elements.enumerated() {
                    if index > 0 { output += ", " }
                    write(element, indent: indent, into: &output)
                }
                output += "]"
                return
            }
            output += "[\n"
            for (index, element) in elements.enumerated() {
                output += indent + "  "
                write(element, indent: indent + "  ", into: &output)
                output += index + 1 < elements.count ? ",\n" : "\n"
            }
            output += indent + "]"
        case .object(let members):
            guard !members.isEmpty else { output += "{}"; return }
            output += "{\n"
            for (index, member) in members.enumerated() {
                output += indent + "  " + JSONText.quoted(member.key) + ": "
                write(member.node, indent: indent + "  ", into: &output)
                output += index + 1 < members.count ? ",\n" : "\n"
            }
            output += indent + "}"
        }
    }
}

extension JSONNode {
    /// Whether the node is neither an array nor an object.
    var isScalar: Bool {
        switch value {
        case .array, .object: false
        default: true
        }
    }
}
