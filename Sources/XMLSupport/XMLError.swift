/// Why an XML document was refused: a stable code, the problem in words, and where (line and XPath).
public struct XMLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `malformed`, `dtd-forbidden`, `too-large`, `too-deep` or `schema-invalid`.
    public let code: String
    /// What is wrong.
    public let message: String
    /// The 1-based line, when known.
    public let line: Int?
    /// The XPath of the offending node, when known.
    public let path: String?

    /// Creates an error.
    public init(code: String, message: String, line: Int? = nil, path: String? = nil) {
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
