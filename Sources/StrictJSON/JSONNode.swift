/// A parsed JSON value with the line it started on, so that errors can name where a problem is.
///
/// Objects keep their members in document order; duplicate keys are rejected by the parser,
/// so a key never silently shadows another.
public struct JSONNode: Sendable, Equatable {
    /// The value itself.
    public let value: JSONValue
    /// The 1-based line of the value's first character in the parsed text.
    public let line: Int

    /// Creates a node; used by the parser and by tests that build documents by hand.
    public init(_ value: JSONValue, line: Int) {
        self.value = value
        self.line = line
    }

    /// A short name of the node's kind, for error messages ("a string", "an object", …).
    public var kindDescription: String { value.kindDescription }
}

/// One JSON value. Numbers keep their exact lexeme so integers never pass through `Double`. (Not
/// `indirect`: arrays and objects already live in their own buffers, so no value needs a box of its own.)
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONNode])
    case object([JSONMember])

    /// A short name of the kind, for error messages.
    public var kindDescription: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// One member of a JSON object.
public struct JSONMember: Sendable, Equatable {
    /// The member's key.
    public let key: String
    /// The member's value.
    public let node: JSONNode

    /// Creates a member.
    public init(key: String, node: JSONNode) {
        self.key = key
        self.node = node
    }
}
