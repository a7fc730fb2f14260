import CLibXML2

/// A read-only view of one element of an ``XMLDocument``; it keeps the document alive.
public struct XMLElement {
    /// The document the element belongs to.
    public let document: XMLDocument
    let node: xmlNodePtr

    init(document: XMLDocument, node: xmlNodePtr) {
        self.document = document
        self.node = node
    }

    /// The local name.
    public var name: String { node.pointee.name.map { String(cString: $0) } ?? "" }

    /// The namespace URI, when the element is in one.
    public var namespace: String? { node.pointee.ns?.pointee.href.map { String(cString: $0) } }

    /// The 1-based line the element starts on.
    public var line: Int { Int(xmlGetLineNo(node)) }

    /// The child elements, in document order.
    public var children: [XMLElement] {
        var result: [XMLElement] = []
        var child = node.pointee.children
        while let current = child {
            if current.pointee.type == XML_ELEMENT_NODE { result.append(XMLElement(document: document, node: current)) }
            child = current.pointee.next
        }
        return result
    }

    /// The concatenated text of the element's own text children (not of its descendants).
    public var text: String {
        var bytes: [UInt8] = []
        var child = node.pointee.children
        while let current = child {
            if current.pointee.type == XML_TEXT_NODE || current.pointee.type == XML_CDATA_SECTION_NODE, let content = current.pointee.content {
                var cursor = content
                while cursor.pointee != 0 {
                    bytes.append(cursor.pointee)
                    cursor += 1
                }
            }
            child = current.pointee.next
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The attributes as (namespace URI, local name, value), in document order.
    public var attributes: [(namespace: String?, name: String, value: String)] {
        var result: [(namespace: String?, name: String, value: String)] = []
        var attribute = node.pointee.properties
        while let current = attribute {
            let name = current.pointee.name.map { String(cString: $0) } ?? ""
            let namespace = current.pointee.ns?.pointee.href.map { String(cString: $0) }
            var value = ""
            if let raw = xmlNodeGetContent(UnsafeMutableRawPointer(current).assumingMemoryBound(to: xmlNode.self)) {
                value = String(cString: raw)
                tongbao_xml_free(raw)
            }
            result.append((namespace, name, value))
            attribute = current.pointee.next
        }
        return result
    }

    /// An XPath naming this element: `/Bulletin/body/findings/finding[2]` (positions only where a name repeats).
    public var path: String {
        var steps: [String] = []
        var current: xmlNodePtr? = node
        while let element = current, element.pointee.type == XML_ELEMENT_NODE {
            let name = element.pointee.name.map { String(cString: $0) } ?? "*"
            var position = 1
            var total = 1
            var sibling = element.pointee.prev
            while let before = sibling {
                if before.pointee.type == XML_ELEMENT_NODE, xmlStrEqual(before.pointee.name, element.pointee.name) != 0 { position += 1; total += 1 }
                sibling = before.pointee.prev
            }
            sibling = element.pointee.next
            while let after = sibling {
                if after.pointee.type == XML_ELEMENT_NODE, xmlStrEqual(after.pointee.name, element.pointee.name) != 0 { total += 1 }
                sibling = after.pointee.next
            }
            steps.append(total > 1 ? "\(name)[\(position)]" : name)
            current = element.pointee.parent
        }
        return "/" + steps.reversed().joined(separator: "/")
    }

    /// The depth of the deepest descendant (1 for an element without child elements), walked without
    /// recursion; stops counting past `limit`.
    func maximumDepth(limit: Int) -> Int {
        var deepest = 0
        var stack: [(xmlNodePtr, Int)] = [(node, 1)]
        while let (current, depth) = stack.popLast() {
            deepest = max(deepest, depth)
            if deepest > limit { return deepest }
            var child = current.pointee.children
            while let next = child {
                if next.pointee.type == XML_ELEMENT_NODE { stack.append((next, depth + 1)) }
                child = next.pointee.next
            }
        }
        return deepest
    }
}
