import CLibXML2

extension XMLDocument {
    /// The exclusive C14N 1.0 (without comments) of the subtree of `element` (the whole document when
    /// nil), leaving out the subtree of `excluded` — the enveloped-signature transform when `excluded` is
    /// the signature.
    public func exclusiveCanonicalForm(of element: XMLElement?, excluding excluded: XMLElement?) throws(XMLError) -> [UInt8] {
        var visibility = Visibility(include: element?.node, exclude: excluded?.node)
        guard let buffer = xmlAllocOutputBuffer(nil) else { throw XMLError(code: .malformed, message: "cannot allocate a buffer") }
        defer { xmlOutputBufferClose(buffer) }
        let result = withUnsafeMutablePointer(to: &visibility) { pointer in
            xmlC14NExecute(pointer_(self), isVisible, pointer, Int32(XML_C14N_EXCLUSIVE_1_0.rawValue), nil, 0, buffer)
        }
        guard result >= 0, let content = xmlOutputBufferGetContent(buffer) else {
            throw XMLError(code: .malformed, message: "the document cannot be canonicalized")
        }
        return Array(UnsafeBufferPointer(start: content, count: Int(xmlOutputBufferGetSize(buffer))))
    }

    /// Whether the document holds a comment or a processing instruction anywhere (the signature profile
    /// refuses both: what a reader sees must be exactly what was signed).
    public var containsCommentsOrProcessingInstructions: Bool {
        var stack: [xmlNodePtr] = []
        var child = pointer.pointee.children
        while let node = child {
            stack.append(node)
            child = node.pointee.next
        }
        while let node = stack.popLast() {
            if node.pointee.type == XML_COMMENT_NODE || node.pointee.type == XML_PI_NODE { return true }
            var inner = node.pointee.children
            while let next = inner {
                stack.append(next)
                inner = next.pointee.next
            }
        }
        return false
    }
}

extension XMLElement {
    /// Every element below this one, in document order (walked without recursion).
    public var descendants: [XMLElement] {
        var result: [XMLElement] = []
        var stack = children.reversed() as [XMLElement]
        while let element = stack.popLast() {
            result.append(element)
            stack.append(contentsOf: element.children.reversed())
        }
        return result
    }

    /// The value of the attribute `name` in no namespace, or nil.
    public func attribute(_ name: String) -> String? {
        attributes.first { $0.namespace == nil && $0.name == name }?.value
    }

    /// Whether `other` is this very element.
    public func isSame(as other: XMLElement) -> Bool { node == other.node }
}

private struct Visibility {
    let include: xmlNodePtr?
    let exclude: xmlNodePtr?
}

private func pointer_(_ document: XMLDocument) -> xmlDocPtr { document.pointer }

/// libxml2 asks, for every node, whether C14N renders it: inside `include` (when set), outside `exclude`.
private let isVisible: xmlC14NIsVisibleCallback = { userData, node, parent in
    guard let userData, let node else { return 0 }
    let visibility = userData.assumingMemoryBound(to: Visibility.self).pointee
    // Namespace nodes are not real nodes: their element is `parent`.
    var current: xmlNodePtr? = node.pointee.type == XML_NAMESPACE_DECL ? parent : node
    var inside = visibility.include == nil
    while let step = current {
        if step == visibility.exclude { return 0 }
        if step == visibility.include { inside = true }
        current = step.pointee.parent
    }
    return inside ? 1 : 0
}
