import CLibXML2

/// A parsed XML document, owned: the libxml2 tree is freed when the last reference goes.
///
/// Parsing is hardened for untrusted input: no DOCTYPE at all (so no DTD, no entity definitions and no
/// entity expansion), no network, no XInclude, never `XML_PARSE_HUGE`, a byte limit and a depth limit.
public final class XMLDocument {
    let pointer: xmlDocPtr
    private let rootNode: xmlNodePtr

    /// Parses `bytes` under `limits`.
    public init(parsing bytes: [UInt8], limits: XMLLimits = .standard) throws(XMLError) {
        guard bytes.count <= limits.maxBytes else {
            throw XMLError(code: .tooLarge, message: "document larger than \(limits.maxBytes) bytes")
        }
        if let line = Self.declarationLine(in: bytes) {
            throw XMLError(code: .dtdForbidden, message: "DOCTYPE and ENTITY declarations are not allowed", line: line)
        }
        guard let context = xmlNewParserCtxt() else { throw XMLError(code: .malformed, message: "cannot create an XML parser") }
        defer { xmlFreeParserCtxt(context) }
        tongbao_xml_silence_errors()
        let options = Int32(bitPattern: XML_PARSE_NONET.rawValue | XML_PARSE_NOCDATA.rawValue)
        let parsed = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress.flatMap { base in
                base.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                    xmlCtxtReadMemory(context, $0, Int32(buffer.count), "bulletin.xml", nil, options)
                }
            }
        }
        guard let document = parsed else {
            throw Self.lastError(xmlCtxtGetLastError(context), code: .malformed, fallback: "not well-formed XML")
        }
        guard document.pointee.intSubset == nil, document.pointee.extSubset == nil else {
            xmlFreeDoc(document)
            throw XMLError(code: .dtdForbidden, message: "a document type declaration is not allowed")
        }
        guard let root = xmlDocGetRootElement(document) else {
            xmlFreeDoc(document)
            throw XMLError(code: .malformed, message: "the document has no root element")
        }
        pointer = document
        rootNode = root
        let depth = XMLElement(document: self, node: root).maximumDepth(limit: limits.maxDepth)
        guard depth <= limits.maxDepth else {
            throw XMLError(code: .tooDeep, message: "elements nested deeper than \(limits.maxDepth) levels")
        }
    }

    deinit {
        xmlFreeDoc(pointer)
    }

    /// The root element.
    public var root: XMLElement { XMLElement(document: self, node: rootNode) }

    /// The exclusive XML canonicalization (C14N 1.0, without comments) of the whole document.
    public func exclusiveCanonicalForm() throws(XMLError) -> [UInt8] {
        var output: UnsafeMutablePointer<xmlChar>?
        let length = xmlC14NDocDumpMemory(pointer, nil, Int32(XML_C14N_EXCLUSIVE_1_0.rawValue), nil, 0, &output)
        guard length >= 0, let output else { throw XMLError(code: .malformed, message: "the document cannot be canonicalized") }
        defer { tongbao_xml_free(output) }
        return Array(UnsafeBufferPointer(start: output, count: Int(length)))
    }

    /// The line of the first `<!DOCTYPE` or `<!ENTITY` in the bytes, if any. Refusing them before libxml2
    /// sees the document means no declaration is ever processed, however it is built.
    static func declarationLine(in bytes: [UInt8]) -> Int? {
        let doctype = Array("<!DOCTYPE".utf8)
        let entity = Array("<!ENTITY".utf8)
        var line = 1
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x0A { line += 1 }
            if byte == UInt8(ascii: "<"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "!") {
                if bytes[index...].starts(with: doctype) || bytes[index...].starts(with: entity) { return line }
            }
            index += 1
        }
        return nil
    }

    static func lastError(_ error: UnsafeMutablePointer<xmlError>?, code: XMLError.Code, fallback: String) -> XMLError {
        guard let error else { return XMLError(code: code, message: fallback) }
        let message = error.pointee.message.map { String(cString: $0).trimmingWhitespace() } ?? fallback
        let line = error.pointee.line > 0 ? Int(error.pointee.line) : nil
        return XMLError(code: code, message: message, line: line)
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        return String(scalars)
    }
}
