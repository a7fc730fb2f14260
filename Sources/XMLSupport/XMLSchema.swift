import CLibXML2

/// A compiled XSD schema. Loading and validating never reach the network.
/// Immutable after compilation; libxml2 validates concurrently when each validation has its own context, as here.
public final class XMLSchema: @unchecked Sendable {
    private let pointer: xmlSchemaPtr

    /// Compiles the schema in the file at `path` (its `xs:include`s are read relative to it).
    public convenience init(path: String) throws(XMLError) {
        tongbao_xml_silence_errors()
        guard let parser = xmlSchemaNewParserCtxt(path) else {
            throw XMLError(code: .schemaUnavailable, message: "cannot read the schema \(path)")
        }
        self.init(compiled: try Self.compile(parser, name: path))
    }

    private init(compiled: xmlSchemaPtr) {
        pointer = compiled
    }

    /// Compiles a schema given as text (a self-contained schema: no includes or imports).
    public convenience init(text: String) throws(XMLError) {
        tongbao_xml_silence_errors()
        // libxml2 keeps a pointer to the buffer until the schema is parsed: the bytes must outlive it.
        let bytes = Array(text.utf8)
        let compiled = try bytes.withUnsafeBufferPointer { (buffer) throws(XMLError) -> xmlSchemaPtr in
            guard let base = buffer.baseAddress,
                  let parser = base.withMemoryRebound(to: CChar.self, capacity: buffer.count, { xmlSchemaNewMemParserCtxt($0, Int32(buffer.count)) }) else {
                throw XMLError(code: .schemaUnavailable, message: "cannot read the schema text")
            }
            return try Self.compile(parser, name: "the schema text")
        }
        self.init(compiled: compiled)
    }

    private static func compile(_ parser: xmlSchemaParserCtxtPtr, name path: String) throws(XMLError) -> xmlSchemaPtr {
        defer { xmlSchemaFreeParserCtxt(parser) }
        let collector = ErrorCollector()
        xmlSchemaSetParserStructuredErrors(parser, collectError, Unmanaged.passUnretained(collector).toOpaque())
        let compiled = withExtendedLifetime(collector) { xmlSchemaParse(parser) }
        guard let compiled else {
            throw XMLError(code: .schemaUnavailable,
                           message: "the schema \(path) does not compile: \(collector.errors.first?.message ?? "unknown error")")
        }
        return compiled
    }

    deinit {
        xmlSchemaFree(pointer)
    }

    /// Validates `document`; returns every problem found (empty when valid), each with line and XPath.
    public func validate(_ document: XMLDocument) -> [XMLError] {
        guard let context = xmlSchemaNewValidCtxt(pointer) else {
            return [XMLError(code: .schemaInvalid, message: "cannot create a schema validation context")]
        }
        defer { xmlSchemaFreeValidCtxt(context) }
        let collector = ErrorCollector()
        collector.document = document
        xmlSchemaSetValidStructuredErrors(context, collectError, Unmanaged.passUnretained(collector).toOpaque())
        let result = withExtendedLifetime(collector) { xmlSchemaValidateDoc(context, document.pointer) }
        if result != 0 && collector.errors.isEmpty {
            return [XMLError(code: .schemaInvalid, message: "the document does not match the schema")]
        }
        return collector.errors
    }
}

/// Gathers libxml2's structured errors for one parse or validation.
private final class ErrorCollector {
    var errors: [XMLError] = []
    var document: XMLDocument?
}

private let collectError: xmlStructuredErrorFunc = { context, error in
    guard let context, let error else { return }
    let collector = Unmanaged<ErrorCollector>.fromOpaque(context).takeUnretainedValue()
    guard collector.errors.count < 100 else { return }
    let message = error.pointee.message.map { String(cString: $0).trimmingWhitespace() } ?? "invalid"
    var path: String?
    if let document = collector.document, let raw = error.pointee.node {
        let node = raw.assumingMemoryBound(to: xmlNode.self)
        if node.pointee.type == XML_ELEMENT_NODE { path = XMLElement(document: document, node: node).path }
    }
    let line = error.pointee.line > 0 ? Int(error.pointee.line) : nil
    collector.errors.append(XMLError(code: .schemaInvalid, message: message, line: line, path: path))
}
