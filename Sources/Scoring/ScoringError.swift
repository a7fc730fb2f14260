/// An error of the scoring module: a stable machine `code`, where it happened and a human message.
public struct ScoringError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable machine code (`rules-invalid`, `calendar-invalid`, `date-outside-calendar`, …).
    public let code: String
    /// The file (or other source) the problem is in, when there is one.
    public let source: String?
    /// The JSON pointer (or field name) of the problem, when there is one.
    public let field: String?
    /// The line of the problem in `source`, when known.
    public let line: Int?
    /// What is wrong.
    public let message: String

    /// Creates an error.
    public init(code: String, source: String? = nil, field: String? = nil, line: Int? = nil, message: String) {
        self.code = code
        self.source = source
        self.field = field
        self.line = line
        self.message = message
    }

    public var description: String {
        var location: [String] = []
        if let source { location.append(line.map { "\(source):\($0)" } ?? source) }
        if let field { location.append(field) }
        let prefix = location.isEmpty ? "" : location.joined(separator: ": ") + ": "
        return "\(prefix)\(message) [\(code)]"
    }

    public static func == (lhs: ScoringError, rhs: ScoringError) -> Bool { lhs.code == rhs.code }
}
