/// The structure of bulletin bodies as data: one description from which the JSON Schema and the XSD in
/// `schemas/` are generated, XML and JSON convert into each other, and documents are checked.
///
/// XML elements mirror JSON field names; an array is a wrapper element named after the field holding one
/// element per item (`<situations><situation>…</situation></situations>`).
public indirect enum ValueShape: Sendable, Equatable {
    /// Free text of at most `maxLength` characters.
    case text(maxLength: Int)
    /// A code of one of the fixed formats.
    case code(CodeFormat)
    /// A `YYYY-MM-DD` calendar date.
    case date
    /// An RFC 3339 timestamp with offset.
    case timestamp
    /// An integer in a range.
    case integer(ClosedRange<Int>)
    /// A boolean.
    case boolean
    /// One of a list of strings; `name` names the XSD simple type.
    case enumeration(name: String, values: [String])
    /// An object.
    case object(ObjectShape)
    /// An array of `item`s; `element` is the XML element name of each item.
    case array(ValueShape, element: String, minItems: Int, maxItems: Int)
}

/// One field of an object.
public struct FieldShape: Sendable, Equatable {
    /// The JSON key and XML element name.
    public let name: String
    /// The value's shape.
    public let shape: ValueShape
    /// Whether the field must be present.
    public let required: Bool

    /// Creates a field.
    public init(_ name: String, _ shape: ValueShape, required: Bool = true) {
        self.name = name
        self.shape = shape
        self.required = required
    }
}

/// An object: its XSD type name and its fields, in the order XML writes them.
public struct ObjectShape: Sendable, Equatable {
    /// The XSD complex type name.
    public let typeName: String
    /// The fields, in XML order.
    public let fields: [FieldShape]

    /// Creates an object shape.
    public init(_ typeName: String, _ fields: [FieldShape]) {
        self.typeName = typeName
        self.fields = fields
    }

    /// The field named `name`.
    public func field(_ name: String) -> FieldShape? { fields.first { $0.name == name } }
}

/// The formats of code-like values: each has a regular expression (for the schemas) and the same check in
/// Swift (for the validator), so the three always agree.
public enum CodeFormat: String, Sendable, Equatable, CaseIterable {
    /// Ids and participant codes: 1–64 of `A–Z a–z 0–9 . _ -`.
    case identifier
    /// A personnel code: an upper-case letter, then 1–31 upper-case letters or digits.
    case personCode
    /// An institution code: `H` (medical) or `P` (pharmacy), then 1–31 upper-case letters or digits.
    case institutionCode
    /// A 6-digit region code (行政区划).
    case region
    /// A SHA-256 digest in lower-case hex.
    case sha256

    /// The pattern, without anchors (XSD patterns are implicitly anchored; JSON Schema adds ^…$).
    public var pattern: String {
        switch self {
        case .identifier: "[A-Za-z0-9._\\-]{1,64}"
        case .personCode: "[A-Z][A-Z0-9]{1,31}"
        case .institutionCode: "[HP][A-Z0-9]{1,31}"
        case .region: "[0-9]{6}"
        case .sha256: "[0-9a-f]{64}"
        }
    }

    /// What the format is, for error messages.
    public var description: String {
        switch self {
        case .identifier: "1–64 of A–Z a–z 0–9 . _ -"
        case .personCode: "a personnel code (an upper-case letter, then upper-case letters or digits)"
        case .institutionCode: "an institution code (H… medical or P… pharmacy, then upper-case letters or digits)"
        case .region: "a 6-digit region code"
        case .sha256: "64 lower-case hex digits"
        }
    }

    /// Whether `text` has the format.
    public func matches(_ text: String) -> Bool {
        var text = text
        return text.withUTF8(matches)
    }

    /// Whether the UTF-8 bytes have the format.
    func matches(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }
        func isUpper(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) }
        switch self {
        case .identifier:
            return (1...64).contains(bytes.count) && bytes.allSatisfy {
                isDigit($0) || isUpper($0) || (0x61...0x7A).contains($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D
            }
        case .personCode, .institutionCode:
            guard (2...32).contains(bytes.count), let first = bytes.first else { return false }
            let firstOK = self == .personCode ? isUpper(first) : (first == UInt8(ascii: "H") || first == UInt8(ascii: "P"))
            return firstOK && bytes.dropFirst().allSatisfy { isDigit($0) || isUpper($0) }
        case .region:
            return bytes.count == 6 && bytes.allSatisfy(isDigit)
        case .sha256:
            return bytes.count == 64 && bytes.allSatisfy { isDigit($0) || (0x61...0x66).contains($0) }
        }
    }
}
