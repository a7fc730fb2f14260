/// Why an XML document was refused: a stable code, the problem in words, and where (line and XPath).
public struct XMLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable code: a struct over a private enum, as swift-certificates and postgres-nio do, so that codes
    /// can be added without breaking a caller's `switch`; written as in problem documents (`malformed`, …).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String {
            case malformed
            case dtdForbidden = "dtd-forbidden"
            case tooLarge = "too-large"
            case tooDeep = "too-deep"
            case schemaInvalid = "schema-invalid"
            case schemaUnavailable = "schema-unavailable"
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// Not well-formed XML.
        public static let malformed = Code(.malformed)
        /// A DOCTYPE (refused in every input).
        public static let dtdForbidden = Code(.dtdForbidden)
        /// Larger than the limit.
        public static let tooLarge = Code(.tooLarge)
        /// Nested deeper than the limit.
        public static let tooDeep = Code(.tooDeep)
        /// Not valid under the schema.
        public static let schemaInvalid = Code(.schemaInvalid)
        /// The schema cannot be loaded.
        public static let schemaUnavailable = Code(.schemaUnavailable)

        /// The code as written in messages and problem documents.
        public var description: String { base.rawValue }
    }

    /// `malformed`, `dtd-forbidden`, `too-large`, `too-deep` or `schema-invalid`.
    public let code: Code
    /// What is wrong.
    public let message: String
    /// The 1-based line, when known.
    public let line: Int?
    /// The XPath of the offending node, when known.
    public let path: String?

    /// Creates an error.
    public init(code: Code, message: String, line: Int? = nil, path: String? = nil) {
        self.code = code
        self.message = message
        self.line = line
        self.path = path
    }

    public var description: String {
        var prefix = ""
        if let line { prefix += "line \(line): " }
        if let path { prefix += "\(path): " }
        return "\(prefix)\(message) [\(code)]"
    }
}

/// Limits applied to every XML document parsed.
public struct XMLLimits: Sendable {
    /// The largest document accepted, in bytes.
    public var maxBytes: Int
    /// The deepest element nesting accepted.
    public var maxDepth: Int

    /// Creates limits.
    public init(maxBytes: Int = 1 << 20, maxDepth: Int = 32) {
        self.maxBytes = maxBytes
        self.maxDepth = maxDepth
    }

    /// Defaults for bulletins: 1 MiB, 32 levels.
    public static let standard = XMLLimits()
}
