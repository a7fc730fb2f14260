import Foundation
import Testing
import XMLSupport

@Suite("hardened XML parsing")
struct XMLDocumentTests {
    func parse(_ text: String, limits: XMLLimits = .standard) throws(XMLError) -> XMLDocument {
        try XMLDocument(parsing: Array(text.utf8), limits: limits)
    }

    func code(_ text: String, limits: XMLLimits = .standard) -> XMLError.Code? {
        do {
            _ = try parse(text, limits: limits)
            return nil
        } catch {
            return error.code
        }
    }

    @Test("elements, namespaces, attributes, text and paths")
    func reading() throws {
        let document = try parse("""
            <?xml version="1.0" encoding="UTF-8"?>
            <Bulletin xmlns="urn:tongbao:bulletin:1" a="1">
              <id>x</id>
              <findings><finding>一</finding><finding>二</finding></findings>
            </Bulletin>
            """)
        let root = document.root
        #expect(root.name == "Bulletin")
        #expect(root.namespace == "urn:tongbao:bulletin:1")
        #expect(root.attributes.map(\.name) == ["a"])
        #expect(root.children.map(\.name) == ["id", "findings"])
        let second = root.children[1].children[1]
        #expect(second.text == "二")
        #expect(second.path == "/Bulletin/findings/finding[2]")
        #expect(second.line == 4)
    }

    @Test("billion laughs is refused before any expansion, in well under a second")
    func billionLaughs() {
        var entities = #"<!ENTITY lol "lol">"#
        for level in 1...9 {
            let previous = level == 1 ? "lol" : "lol\(level - 1)"
            entities += "<!ENTITY lol\(level) \"" + String(repeating: "&\(previous);", count: 10) + "\">"
        }
        let text = "<?xml version=\"1.0\"?><!DOCTYPE lolz [\(entities)]><lolz>&lol9;</lolz>"
        let start = ContinuousClock.now
        #expect(code(text) == .dtdForbidden)
        #expect(ContinuousClock.now - start < .seconds(1))
    }

    @Test("an external entity reference is refused and nothing is fetched")
    func externalEntity() {
        let text = #"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#
        #expect(code(text) == .dtdForbidden)
        let network = #"<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:9/x.dtd"><r/>"#
        #expect(code(network) == .dtdForbidden)
        // An entity used without any declaration is simply malformed.
        #expect(code("<r>&x;</r>") == .malformed)
    }

    @Test("100,000-deep nesting is refused without recursing, in well under a second")
    func deepNesting() {
        let text = String(repeating: "<a>", count: 100_000) + String(repeating: "</a>", count: 100_000)
        let start = ContinuousClock.now
        let result = code(text, limits: XMLLimits(maxBytes: 1 << 21, maxDepth: 32))
        #expect(result == .malformed || result == .tooDeep)
        #expect(ContinuousClock.now - start < .seconds(1))
        #expect(code(String(repeating: "<a>", count: 40) + String(repeating: "</a>", count: 40)) == .tooDeep)
    }

    @Test("size limit: a 10 MB document is refused unread")
    func tooLarge() {
        let text = "<r>" + String(repeating: "x", count: 10 << 20) + "</r>"
        #expect(code(text) == .tooLarge)
    }

    @Test("malformed XML names the line")
    func malformed() {
        do {
            _ = try parse("<r>\n<a>\n</b>\n</r>")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .malformed)
            #expect(error.line == 3)
        }
    }

    @Test("exclusive canonicalization")
    func canonical() throws {
        let document = try parse(#"<?xml version="1.0"?><a xmlns:unused="urn:x" b='1'   c="2"><e/><!-- c --></a>"#)
        #expect(String(decoding: try document.exclusiveCanonicalForm(), as: UTF8.self) == #"<a b="1" c="2"><e></e></a>"#)
    }
}

@Suite("XSD validation")
struct XMLSchemaTests {
    static let schemaPath: String = {
        let xsd = """
            <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:t" xmlns="urn:t" elementFormDefault="qualified">
              <xs:element name="r"><xs:complexType><xs:sequence>
                <xs:element name="n" type="xs:integer"/>
                <xs:element name="d" type="xs:date" minOccurs="0"/>
              </xs:sequence></xs:complexType></xs:element>
            </xs:schema>
            """
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tongbao-test-\(UUID().uuidString).xsd")
        try? Data(xsd.utf8).write(to: url)
        return url.path
    }()

    @Test("valid documents pass; invalid ones name line and path")
    func validation() throws {
        let schema = try XMLSchema(path: Self.schemaPath)
        let valid = try XMLDocument(parsing: Array(#"<r xmlns="urn:t"><n>1</n><d>2025-02-28</d></r>"#.utf8))
        #expect(schema.validate(valid).isEmpty)
        let invalid = try XMLDocument(parsing: Array("<r xmlns=\"urn:t\">\n<n>x</n>\n<d>2025-02-30</d>\n<z/></r>".utf8))
        let errors = schema.validate(invalid)
        #expect(errors.count >= 2)
        #expect(errors.first?.path == "/r/n")
        #expect(errors.first?.line == 2)
        #expect(errors.allSatisfy { $0.code == .schemaInvalid })
    }

    @Test("a schema that does not compile is an error, not a crash")
    func brokenSchema() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("broken-\(UUID().uuidString).xsd")
        try Data("<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"><xs:element/></xs:schema>".utf8).write(to: url)
        #expect(throws: XMLError.self) { try XMLSchema(path: url.path) }
        #expect(throws: XMLError.self) { try XMLSchema(path: "/nonexistent.xsd") }
    }
}
