/// An error of the scoring module: a stable machine `code`, where it happened and a human message.
public struct ScoringError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable code: a struct over a private enum, as swift-certificates and postgres-nio do, so that codes
    /// can be added without breaking a caller's `switch`; written as in problem documents (`rules-invalid`, …).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String {
            case rulesInvalid = "rules-invalid"
            case calendarInvalid = "calendar-invalid"
            case dateOutsideCalendar = "date-outside-calendar"
            case duplicateId = "duplicate-id"
            case situationNotApplicable = "situation-not-applicable"
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// A rule pack is invalid, or a fact is not allowed under it.
        public static let rulesInvalid = Code(.rulesInvalid)
        /// A working-day calendar file is invalid.
        public static let calendarInvalid = Code(.calendarInvalid)
        /// A working-day count reaches past the loaded calendar years.
        public static let dateOutsideCalendar = Code(.dateOutsideCalendar)
        /// Two different facts have one id.
        public static let duplicateId = Code(.duplicateId)
        /// A situation the pack marks not applicable to the act.
        public static let situationNotApplicable = Code(.situationNotApplicable)

        /// The code as written in messages and problem documents.
        public var description: String { base.rawValue }
    }

    /// A stable machine code (`rules-invalid`, `calendar-invalid`, `date-outside-calendar`, …).
    public let code: Code
    /// The file (or other source) the problem is in, when there is one.
    public let source: String?
    /// The JSON pointer (or field name) of the problem, when there is one.
    public let field: String?
    /// The line of the problem in `source`, when known.
    public let line: Int?
    /// What is wrong.
    public let message: String

    /// Creates an error.
    public init(code: Code, source: String? = nil, field: String? = nil, line: Int? = nil, message: String) {
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
