import StrictJSON

/// Writes the normative schemas (`schemas/bulletin.schema.json`, `schemas/bulletin.xsd`) from
/// ``BulletinShapes``. The output is deterministic, so a test can compare it with the committed files.
public enum SchemaWriter {
    /// A date: four-digit year, a real month, and a day that exists in that month (29 February is left
    /// to the validators, which know leap years).
    static let datePattern = "^[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-9]))$"
    static let timestampPattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})$"

    // MARK: JSON Schema

    /// The JSON Schema (2020-12) of every bulletin.
    public static func jsonSchema() -> String {
        var definitions: [String: String] = [:]
        func value(_ shape: ValueShape, indent: String) -> String {
            switch shape {
            case .text(let maxLength):
                return #"{"type": "string", "minLength": 1, "maxLength": \#(maxLength), "pattern": \#(JSONText.quoted(TextRule.jsonPattern))}"#
            case .code(let format):
                return #"{"type": "string", "pattern": \#(JSONText.quoted("^" + format.pattern + "$"))}"#
            case .date:
                return #"{"type": "string", "pattern": \#(JSONText.quoted(datePattern))}"#
            case .timestamp:
                return #"{"type": "string", "pattern": \#(JSONText.quoted(timestampPattern))}"#
            case .integer(let range):
                return #"{"type": "integer", "minimum": \#(range.lowerBound), "maximum": \#(range.upperBound)}"#
            case .boolean:
                return #"{"type": "boolean"}"#
            case .enumeration(let name, let values):
                definitions[name] = #"{"enum": \#(JSONText.array(values).replacingCommas())}"#
                return ##"{"$ref": "#/$defs/\##(name)"}"##
            case .array(let item, _, let minItems, let maxItems):
                return #"{"type": "array", "items": \#(value(item, indent: indent)), "minItems": \#(minItems), "maxItems": \#(maxItems)}"#
            case .object(let object):
                if definitions[object.typeName] == nil {
                    definitions[object.typeName] = ""  // reserve: objects may be reached again while writing
                    definitions[object.typeName] = objectSchema(object, indent: "    ", value: value)
                }
                return ##"{"$ref": "#/$defs/\##(object.typeName)"}"##
            }
        }
        var properties: [String] = BulletinShapes.envelope.map { "    \(JSONText.quoted($0.name)): \(value($0.shape, indent: "    "))" }
        properties.append(#"    "body": {"type": "object"}"#)
        let required = BulletinShapes.envelope.filter(\.required).map(\.name) + ["body"]
        let branches = BulletinShapes.bodies.map { entry in
            "    {\"if\": {\"properties\": {\"type\": {\"const\": \(JSONText.quoted(entry.type))}}, \"required\": [\"type\"]}, "
                + "\"then\": {\"properties\": {\"body\": \(value(.object(entry.body), indent: "    "))}}}"
        }
        let defs = definitions.keys.sorted().map { "    \(JSONText.quoted($0)): \(definitions[$0] ?? "{}")" }
        return """
            {
              "$schema": "https://json-schema.org/draft/2020-12/schema",
              "$id": "urn:tongbao:bulletin:1:json-schema",
              "title": "Tongbao bulletin",
              "description": "Every bulletin type, JSON encoding (bulletins.md, gateway.md). Generated from Sources/Bulletins/BulletinShapes.swift by `tongbao schemas`; do not edit by hand.",
              "type": "object",
              "properties": {
            \(properties.joined(separator: ",\n"))
              },
              "required": \(JSONText.array(required).replacingCommas()),
              "additionalProperties": false,
              "allOf": [
            \(branches.joined(separator: ",\n"))
              ],
              "$defs": {
            \(defs.joined(separator: ",\n"))
              }
            }

            """
    }

    private static func objectSchema(_ object: ObjectShape, indent: String, value: (ValueShape, String) -> String) -> String {
        let properties = object.fields.map { "\(JSONText.quoted($0.name)): \(value($0.shape, indent))" }
        let required = object.fields.filter(\.required).map(\.name)
        return #"{"type": "object", "properties": {"# + properties.joined(separator: ", ")
            + #"}, "required": \#(JSONText.array(required).replacingCommas()), "additionalProperties": false}"#
    }

    // MARK: XSD

    /// The XSD of every bulletin (namespace `urn:tongbao:bulletin:1`, root element `Bulletin`).
    public static func xsd() -> String {
        var types: [String: String] = [:]
        func simple(_ base: String, _ facets: [String]) -> String {
            "<xs:simpleType><xs:restriction base=\"\(base)\">" + facets.joined() + "</xs:restriction></xs:simpleType>"
        }
        /// The type attribute or inline type of an element of `shape`.
        func element(_ name: String, _ shape: ValueShape, minOccurs: Int, maxOccurs: String = "1") -> String {
            let occurs = (minOccurs != 1 ? " minOccurs=\"\(minOccurs)\"" : "") + (maxOccurs != "1" ? " maxOccurs=\"\(maxOccurs)\"" : "")
            switch shape {
            case .text(let maxLength):
                return "<xs:element name=\"\(name)\"\(occurs)>" + simple("xs:string", ["<xs:minLength value=\"1\"/>", "<xs:maxLength value=\"\(maxLength)\"/>", "<xs:pattern value=\"\(TextRule.xsdPattern)\"/>"]) + "</xs:element>"
            case .code(let format):
                return "<xs:element name=\"\(name)\" type=\"\(format.xsdTypeName)\"\(occurs)/>"
            case .date:
                return "<xs:element name=\"\(name)\" type=\"Date\"\(occurs)/>"
            case .timestamp:
                return "<xs:element name=\"\(name)\" type=\"Timestamp\"\(occurs)/>"
            case .integer(let range):
                return "<xs:element name=\"\(name)\"\(occurs)>" + simple("xs:integer", ["<xs:minInclusive value=\"\(range.lowerBound)\"/>", "<xs:maxInclusive value=\"\(range.upperBound)\"/>"]) + "</xs:element>"
            case .boolean:
                return "<xs:element name=\"\(name)\" type=\"xs:boolean\"\(occurs)/>"
            case .enumeration(let typeName, let values):
                types[typeName] = "  <xs:simpleType name=\"\(typeName)\"><xs:restriction base=\"xs:string\">"
                    + values.map { "<xs:enumeration value=\"\(xmlEscaped($0))\"/>" }.joined() + "</xs:restriction></xs:simpleType>"
                return "<xs:element name=\"\(name)\" type=\"\(typeName)\"\(occurs)/>"
            case .array(let item, let itemName, let minItems, let maxItems):
                // Large maxOccurs values blow up libxml2's content automaton; above 50 the validator and the
                // JSON Schema enforce the maximum.
                let itemMax = maxItems > 50 ? "unbounded" : String(maxItems)
                return "<xs:element name=\"\(name)\"\(occurs)><xs:complexType><xs:sequence>"
                    + element(itemName, item, minOccurs: minItems, maxOccurs: itemMax) + "</xs:sequence></xs:complexType></xs:element>"
            case .object(let object):
                if types[object.typeName] == nil {
                    types[object.typeName] = ""
                    types[object.typeName] = "  <xs:complexType name=\"\(object.typeName)\"><xs:sequence>"
                        + object.fields.map { element($0.name, $0.shape, minOccurs: $0.required ? 1 : 0) }.joined()
                        + "</xs:sequence></xs:complexType>"
                }
                return "<xs:element name=\"\(name)\" type=\"\(object.typeName)\"\(occurs)/>"
            }
        }
        let envelope = BulletinShapes.envelope.map { "      " + element($0.name, $0.shape, minOccurs: $0.required ? 1 : 0) }
        let bodies = BulletinShapes.bodies.map { "      " + element($0.type, .object($0.body), minOccurs: 1) }
        let codes = CodeFormat.allCases.map {
            "  <xs:simpleType name=\"\($0.xsdTypeName)\"><xs:restriction base=\"xs:string\"><xs:pattern value=\"\(xmlEscaped($0.pattern))\"/></xs:restriction></xs:simpleType>"
        }
        return """
            <?xml version="1.0" encoding="UTF-8"?>
            <!-- Every Tongbao bulletin type, XML encoding (bulletins.md, gateway.md). Generated from
                 Sources/Bulletins/BulletinShapes.swift by `tongbao schemas`; do not edit by hand. -->
            <xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns="\(BulletinShapes.namespace)"
                       targetNamespace="\(BulletinShapes.namespace)" elementFormDefault="qualified">
              <xs:element name="Bulletin">
                <xs:complexType>
                  <xs:sequence>
            \(envelope.joined(separator: "\n"))
                    <xs:element name="body">
                      <xs:complexType>
                        <xs:choice>
            \(bodies.map { "      " + $0 }.joined(separator: "\n"))
                        </xs:choice>
                      </xs:complexType>
                    </xs:element>
                    <xs:any namespace="\(BulletinShapes.signatureNamespace)" processContents="lax" minOccurs="0"/>
                  </xs:sequence>
                </xs:complexType>
              </xs:element>
              <xs:simpleType name="Date"><xs:restriction base="xs:date"><xs:pattern value="[0-9]{4}-[0-9]{2}-[0-9]{2}"/></xs:restriction></xs:simpleType>
              <xs:simpleType name="Timestamp"><xs:restriction base="xs:dateTime"><xs:pattern value="[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+\\-][0-9]{2}:[0-9]{2})"/></xs:restriction></xs:simpleType>
            \(codes.joined(separator: "\n"))
            \(types.keys.sorted().compactMap { types[$0] }.joined(separator: "\n"))
            </xs:schema>

            """
    }

    static func xmlEscaped(_ text: String) -> String {
        text.replacing("&", with: "&amp;").replacing("<", with: "&lt;").replacing(">", with: "&gt;").replacing("\"", with: "&quot;")
    }
}

extension CodeFormat {
    /// The XSD simple type name of the format.
    var xsdTypeName: String {
        switch self {
        case .identifier: "Identifier"
        case .personCode: "PersonCode"
        case .institutionCode: "InstitutionCode"
        case .region: "RegionCode"
        case .sha256: "Sha256"
        }
    }
}

extension String {
    /// `["a","b"]` → `["a", "b"]`, for readable schema files.
    fileprivate func replacingCommas() -> String { replacing("\",\"", with: "\", \"") }
}
