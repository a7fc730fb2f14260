/// Why a bulletin was rejected: a stable machine code, where (JSON pointer and line) and what.
public struct BulletinError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable code: a struct over a private enum, as swift-certificates and postgres-nio do, so that codes
    /// can be added without breaking a caller's `switch`; written as in problem documents (`malformed`, …).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String {
            case malformed
            case schemaInvalid = "schema-invalid"
            case rulesInvalid = "rules-invalid"
            case tooLarge = "too-large"
            case tooDeep = "too-deep"
            case dtdForbidden = "dtd-forbidden"
            case schemaUnavailable = "schema-unavailable"
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// Not JSON or XML the reader can read.
        public static let malformed = Code(.malformed)
        /// Wrong shape, unknown field or bad value.
        public static let schemaInvalid = Code(.schemaInvalid)
        /// Not allowed under the chosen rule pack.
        public static let rulesInvalid = Code(.rulesInvalid)
        /// Larger than a bulletin may be.
        public static let tooLarge = Code(.tooLarge)
        /// Nested deeper than a bulletin may be.
        public static let tooDeep = Code(.tooDeep)
        /// An XML document with a DOCTYPE.
        public static let dtdForbidden = Code(.dtdForbidden)
        /// The schema itself cannot be loaded.
        public static let schemaUnavailable = Code(.schemaUnavailable)

        /// The code as written in messages and problem documents.
        public var description: String { base.rawValue }
    }

    /// `malformed` (not JSON), `schema-invalid` (wrong shape, unknown field, bad value) or
    /// `rules-invalid` (not allowed under the chosen rule pack).
    public let code: Code
    /// The JSON pointer of the offending value.
    public let pointer: String
    /// The 1-based line of the offending value in its file.
    public let line: Int
    /// What is wrong, naming the field.
    public let message: String
    /// For XML input, the XPath of the offending element.
    public let path: String?

    /// Creates an error.
    public init(code: Code, pointer: String, line: Int, message: String, path: String? = nil) {
        self.code = code
        self.pointer = pointer
        self.line = line
        self.message = message
        self.path = path
    }

    /// Where, as a reader of the input would look: the XPath for XML, the JSON pointer for JSON.
    public var location: String { path ?? (pointer.isEmpty ? "/" : pointer) }

    public var description: String { "line \(line): \(location): \(message) [\(code)]" }
}
