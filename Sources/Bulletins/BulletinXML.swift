import StrictJSON
import XMLSupport

/// The XML encoding of bulletins, converted to and from the JSON encoding through ``BulletinShapes``, so
/// that both carry exactly the same facts: numbers stay numbers, booleans booleans, arrays keep order.
///
/// ```xml
/// <Bulletin xmlns="urn:tongbao:bulletin:1">
///   <id>…</id><type>PenaltyDecision</type>…
///   <body><PenaltyDecision>…</PenaltyDecision></body>
///   <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">…</ds:Signature>   (optional, last)
/// </Bulletin>
/// ```
public enum BulletinXML {
    // MARK: XML → JSON

    /// The JSON tree of an XML bulletin (the signature, if any, is left out). Lines are the XML lines.
    public static func jsonTree(from document: XMLDocument) throws(BulletinError) -> JSONNode {
        let root = document.root
        guard root.name == "Bulletin", root.namespace == BulletinShapes.namespace else {
            throw error(root, "/", "the root element must be Bulletin in the namespace \(BulletinShapes.namespace)")
        }
        var children = root.children
        if let last = children.last, last.namespace == BulletinShapes.signatureNamespace, last.name == "Signature" {
            children.removeLast()
        }
        var members: [JSONMember] = []
        for child in children {
            try checkNamespace(child)
            if child.name == "body" {
                let bodies = child.children
                guard bodies.count == 1, let body = bodies.first else {
                    throw error(child, "/body", "body must hold exactly one element, named after the bulletin type")
                }
                try checkNamespace(body)
                guard let shape = BulletinShapes.body(of: body.name) else {
                    throw error(body, "/body", "\"\(body.name)\" is not a bulletin type")
                }
                let declared = members.first { $0.key == "type" }.flatMap { member -> String? in
                    if case .string(let text) = member.node.value { return text }
                    return nil
                }
                guard declared == body.name else {
                    throw error(body, "/body", "the body element \(body.name) does not match type \(declared ?? "(missing)")")
                }
                members.append(JSONMember(key: "body", node: try convert(body, as: .object(shape), pointer: "/body")))
                continue
            }
            guard let field = BulletinShapes.envelope.first(where: { $0.name == child.name }) else {
                throw error(child, "/" + child.name, "unknown element \(child.name)")
            }
            guard !members.contains(where: { $0.key == child.name }) else {
                throw error(child, "/" + child.name, "element \(child.name) appears twice")
            }
            members.append(JSONMember(key: child.name, node: try convert(child, as: field.shape, pointer: "/" + child.name)))
        }
        return JSONNode(.object(members), line: root.line)
    }

    private static func checkNamespace(_ element: XMLElement) throws(BulletinError) {
        guard element.namespace == BulletinShapes.namespace else {
            throw error(element, "", "element \(element.name) is not in the namespace \(BulletinShapes.namespace)")
        }
    }

    private static func convert(_ element: XMLElement, as shape: ValueShape, pointer: String) throws(BulletinError) -> JSONNode {
        let line = element.line
        switch shape {
        case .object(let object):
            try noText(element, pointer)
            var members: [JSONMember] = []
            for child in element.children {
                try checkNamespace(child)
                let childPointer = JSONObject.join(pointer, child.name)
                guard let field = object.field(child.name) else { throw error(child, childPointer, "unknown element \(child.name)") }
                guard !members.contains(where: { $0.key == child.name }) else {
                    throw error(child, childPointer, "element \(child.name) appears twice")
                }
                members.append(JSONMember(key: child.name, node: try convert(child, as: field.shape, pointer: childPointer)))
            }
            return JSONNode(.object(members), line: line)
        case .array(let item, let itemName, _, _):
            try noText(element, pointer)
            var items: [JSONNode] = []
            for (index, child) in element.children.enumerated() {
                try checkNamespace(child)
                guard child.name == itemName else {
                    throw error(child, pointer + "/\(index)", "expected \(itemName) elements in \(element.name), found \(child.name)")
                }
                items.append(try convert(child, as: item, pointer: pointer + "/\(index)"))
            }
            return JSONNode(.array(items), line: line)
        case .integer:
            let text = try leafText(element, pointer).trimmingXMLWhitespace()
            guard let value = Int(text) else { throw error(element, pointer, "\"\(text)\" is not an integer") }
            return JSONNode(.number(String(value)), line: line)
        case .boolean:
            switch try leafText(element, pointer).trimmingXMLWhitespace() {
            case "true", "1": return JSONNode(.bool(true), line: line)
            case "false", "0": return JSONNode(.bool(false), line: line)
            case let text: throw error(element, pointer, "\"\(text)\" is not a boolean")
            }
        case .text, .code, .date, .timestamp, .enumeration:
            return JSONNode(.string(try leafText(element, pointer)), line: line)
        }
    }

    private static func leafText(_ element: XMLElement, _ pointer: String) throws(BulletinError) -> String {
        guard element.children.isEmpty else {
            throw error(element, pointer, "\(element.name) must hold text, not elements")
        }
        return element.text
    }

    private static func noText(_ element: XMLElement, _ pointer: String) throws(BulletinError) {
        guard element.text.trimmingXMLWhitespace().isEmpty else {
            throw error(element, pointer, "\(element.name) must hold elements, not text")
        }
    }

    private static func error(_ element: XMLElement, _ pointer: String, _ message: String) -> BulletinError {
        BulletinError(code: .schemaInvalid, pointer: pointer, line: element.line, message: message, path: element.path)
    }

    // MARK: JSON → XML

    /// The XML text of a bulletin given as a JSON tree that has passed ``ShapeValidator``.
    public static func xml(from root: JSONNode) throws(BulletinError) -> String {
        var output = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Bulletin xmlns=\"\(BulletinShapes.namespace)\">\n"
        guard case .object(let members) = root.value else {
            throw BulletinError(code: .schemaInvalid, pointer: "", line: root.line, message: "expected an object")
        }
        func member(_ key: String) -> JSONNode? { members.first { $0.key == key }?.node }
        for field in BulletinShapes.envelope {
            guard let node = member(field.name) else { continue }
            try write(field.name, node, as: field.shape, pointer: "/" + field.name, indent: "  ", into: &output)
        }
        guard let typeNode = member("type"), case .string(let type) = typeNode.value, let shape = BulletinShapes.body(of: type),
              let body = member("body") else {
            throw BulletinError(code: .schemaInvalid, pointer: "/type", line: root.line, message: "a known type and a body are required")
        }
        output += "  <body>\n"
        try write(type, body, as: .object(shape), pointer: "/body", indent: "    ", into: &output)
        output += "  </body>\n</Bulletin>\n"
        return output
    }

    private static func write(_ name: String, _ node: JSONNode, as shape: ValueShape, pointer: String, indent: String, into output: inout String) throws(BulletinError) {
        switch (shape, node.value) {
        case (.object(let object), .object(let members)):
            output += "\(indent)<\(name)>\n"
            for field in object.fields {
                guard let child = members.first(where: { $0.key == field.name })?.node else { continue }
                if case .null = child.value { continue }
                try write(field.name, child, as: field.shape, pointer: JSONObject.join(pointer, field.name), indent: indent + "  ", into: &output)
            }
            output += "\(indent)</\(name)>\n"
        case (.array(let item, let itemName, _, _), .array(let elements)):
            guard !elements.isEmpty else {
                output += "\(indent)<\(name)/>\n"
                return
            }
            output += "\(indent)<\(name)>\n"
            for (index, element) in elements.enumerated() {
                try write(itemName, element, as: item, pointer: pointer + "/\(index)", indent: indent + "  ", into: &output)
            }
            output += "\(indent)</\(name)>\n"
        case (_, .string(let text)):
            output += "\(indent)<\(name)>\(try escaped(text, pointer: pointer, line: node.line))</\(name)>\n"
        case (_, .number(let lexeme)):
            output += "\(indent)<\(name)>\(lexeme)</\(name)>\n"
        case (_, .bool(let value)):
            output += "\(indent)<\(name)>\(value)</\(name)>\n"
        default:
            throw BulletinError(code: .schemaInvalid, pointer: pointer, line: node.line, message: "\(node.kindDescription) does not fit this field")
        }
    }

    /// Text content with `&`, `<`, `>` and carriage returns escaped; characters XML 1.0 cannot carry are refused.
    static func escaped(_ text: String, pointer: String, line: Int) throws(BulletinError) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\r": result += "&#13;"
            case "\t", "\n": result.unicodeScalars.append(scalar)
            case let control where control.value < 0x20 || (0xFFFE...0xFFFF).contains(control.value):
                throw BulletinError(code: .schemaInvalid, pointer: pointer, line: line,
                                    message: "character U+\(String(control.value, radix: 16, uppercase: true)) cannot be carried in XML")
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    // MARK: Paths

    /// The XPath of the element that carries the value at a JSON pointer of a bulletin of `type`.
    public static func xpath(for pointer: String, type: String?) -> String {
        var path = "/Bulletin"
        var shape: ValueShape?
        for token in pointer.split(separator: "/", omittingEmptySubsequences: true).map(String.init) {
            switch shape {
            case nil:
                if token == "body", let type, let body = BulletinShapes.body(of: type) {
                    path += "/body/\(type)"
                    shape = .object(body)
                } else {
                    path += "/" + token
                    shape = BulletinShapes.envelope.first { $0.name == token }?.shape ?? .text(maxLength: 0)
                }
            case .object(let object)?:
                path += "/" + token
                shape = object.field(token)?.shape ?? .text(maxLength: 0)
            case .array(let item, let itemName, _, _)?:
                path += "/\(itemName)[\((Int(token) ?? 0) + 1)]"
                shape = item
            default:
                path += "/" + token
            }
        }
        return path
    }
}

extension String {
    /// Without leading and trailing XML white space (space, tab, CR, LF).
    func trimmingXMLWhitespace() -> String {
        var scalars = Substring(self).unicodeScalars
        while let first = scalars.first, [" ", "\t", "\r", "\n"].contains(first) { scalars.removeFirst() }
        while let last = scalars.last, [" ", "\t", "\r", "\n"].contains(last) { scalars.removeLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}
