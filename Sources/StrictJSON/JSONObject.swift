/// A JSON object being read field by field, with its JSON pointer for error messages.
///
/// It is created with the set of keys its reader understands; any other key is an error, so that a
/// typo in a field name never silently drops a fact.
public struct JSONObject: Sendable {
    /// The JSON pointer of this object.
    public let pointer: String
    /// The line the object starts on.
    public let line: Int
    /// The members in document order (keys are unique: the parser refuses duplicates). Objects in
    /// bulletins are small, so a linear scan beats hashing every key.
    private let members: [JSONMember]

    /// Reads `node` as an object whose keys must all be in `allowedKeys`.
    public init(_ node: JSONNode, pointer: String, allowedKeys: Set<String>) throws(JSONDecodingError) {
        guard case .object(let list) = node.value else {
            throw JSONDecodingError(pointer: pointer, line: node.line, message: "expected an object, found \(node.kindDescription)")
        }
        for member in list where !allowedKeys.contains(member.key) {
            throw JSONDecodingError(
                pointer: Self.join(pointer, member.key), line: member.node.line,
                message: "unknown field \"\(member.key)\"")
        }
        self.pointer = pointer
        self.line = node.line
        self.members = list
    }

    /// The keys present, in document order.
    public var keys: [String] { members.map(\.key) }

    private func member(_ key: String) -> JSONNode? {
        for member in members where member.key == key { return member.node }
        return nil
    }

    /// The JSON pointer of a member of this object.
    public func pointer(of key: String) -> String { Self.join(pointer, key) }

    /// Appends a reference token to a pointer, escaping `~` and `/`.
    public static func join(_ pointer: String, _ token: String) -> String {
        var joined = ""
        joined.reserveCapacity(pointer.utf8.count + token.utf8.count + 1)
        joined += pointer
        joined += "/"
        joined += token.replacingTilde()
        return joined
    }

    /// The raw node of a member, or nil when absent. JSON `null` counts as absent.
    public func node(_ key: String) -> JSONNode? {
        guard let node = member(key) else { return nil }
        if case .null = node.value { return nil }
        return node
    }

    /// An error about a member of this object.
    public func error(_ key: String, _ message: String) -> JSONDecodingError {
        JSONDecodingError(pointer: pointer(of: key), line: member(key)?.line ?? line, message: message)
    }

    private func require(_ key: String) throws(JSONDecodingError) -> JSONNode {
        guard let node = node(key) else {
            throw JSONDecodingError(pointer: pointer(of: key), line: line, message: "missing required field \"\(key)\"")
        }
        return node
    }

    // MARK: Strings

    /// A required string member.
    public func string(_ key: String, maxLength: Int = 4096) throws(JSONDecodingError) -> String {
        let node = try require(key)
        return try Self.string(node, pointer: pointer(of: key), maxLength: maxLength)
    }

    /// An optional string member.
    public func optionalString(_ key: String, maxLength: Int = 4096) throws(JSONDecodingError) -> String? {
        guard let node = node(key) else { return nil }
        return try Self.string(node, pointer: pointer(of: key), maxLength: maxLength)
    }

    /// Reads a node as a string.
    public static func string(_ node: JSONNode, pointer: @autoclosure () -> String, maxLength: Int = 4096) throws(JSONDecodingError) -> String {
        guard case .string(let text) = node.value else {
            throw JSONDecodingError(pointer: pointer(), line: node.line, message: "expected a string, found \(node.kindDescription)")
        }
        guard text.utf8.count <= maxLength else {
            throw JSONDecodingError(pointer: pointer(), line: node.line, message: "longer than \(maxLength) bytes")
        }
        return text
    }

    /// A required member whose string value is one of an enum's raw values.
    public func enumeration<E: RawRepresentable & CaseIterable>(_ key: String, as type: E.Type = E.self) throws(JSONDecodingError) -> E
    where E.RawValue == String {
        let node = try require(key)
        return try Self.enumeration(node, pointer: pointer(of: key), as: type)
    }

    /// An optional member whose string value is one of an enum's raw values.
    public func optionalEnumeration<E: RawRepresentable & CaseIterable>(_ key: String, as type: E.Type = E.self) throws(JSONDecodingError) -> E?
    where E.RawValue == String {
        guard let node = node(key) else { return nil }
        return try Self.enumeration(node, pointer: pointer(of: key), as: type)
    }

    /// Reads a node as one of an enum's raw values; the error lists the allowed values.
    public static func enumeration<E: RawRepresentable & CaseIterable>(_ node: JSONNode, pointer: @autoclosure () -> String, as type: E.Type = E.self) throws(JSONDecodingError) -> E
    where E.RawValue == String {
        let text = try string(node, pointer: pointer(), maxLength: 256)
        guard let value = E(rawValue: text) else {
            let allowed = E.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            throw JSONDecodingError(pointer: pointer(), line: node.line, message: "\"\(text)\" is not one of \(allowed)")
        }
        return value
    }

    // MARK: Numbers and booleans

    /// A required integer member within `range`.
    public func int(_ key: String, in range: ClosedRange<Int> = Int.min...Int.max) throws(JSONDecodingError) -> Int {
        let node = try require(key)
        return try Self.int(node, pointer: pointer(of: key), in: range)
    }

    /// An optional integer member within `range`.
    public func optionalInt(_ key: String, in range: ClosedRange<Int> = Int.min...Int.max) throws(JSONDecodingError) -> Int? {
        guard let node = node(key) else { return nil }
        return try Self.int(node, pointer: pointer(of: key), in: range)
    }

    /// Reads a node as an integer within `range`.
    public static func int(_ node: JSONNode, pointer: @autoclosure () -> String, in range: ClosedRange<Int> = Int.min...Int.max) throws(JSONDecodingError) -> Int {
        guard case .number(let lexeme) = node.value, let value = Int(lexeme) else {
            throw JSONDecodingError(pointer: pointer(), line: node.line, message: "expected an integer, found \(node.kindDescription)")
        }
        guard range.contains(value) else {
            throw JSONDecodingError(pointer: pointer(), line: node.line, message: "\(value) is outside \(range.lowerBound)…\(range.upperBound)")
        }
        return value
    }

    /// A required number member, as a `Double`, within `range`.
    public func double(_ key: String, in range: ClosedRange<Double>) throws(JSONDecodingError) -> Double {
        let node = try require(key)
        guard case .number(let lexeme) = node.value, let value = Double(lexeme) else {
            throw error(key, "expected a number, found \(node.kindDescription)")
        }
        guard range.contains(value) else { throw error(key, "\(lexeme) is outside \(range.lowerBound)…\(range.upperBound)") }
        return value
    }

    /// A required boolean member.
    public func bool(_ key: String) throws(JSONDecodingError) -> Bool {
        let node = try require(key)
        guard case .bool(let value) = node.value else { throw error(key, "expected a boolean, found \(node.kindDescription)") }
        return value
    }

    /// An optional boolean member.
    public func optionalBool(_ key: String) throws(JSONDecodingError) -> Bool? {
        guard node(key) != nil else { return nil }
        return try bool(key)
    }

    // MARK: Containers

    /// A required object member, allowing only `allowedKeys`.
    public func object(_ key: String, allowedKeys: Set<String>) throws(JSONDecodingError) -> JSONObject {
        try JSONObject(try require(key), pointer: pointer(of: key), allowedKeys: allowedKeys)
    }

    /// An optional object member, allowing only `allowedKeys`.
    public func optionalObject(_ key: String, allowedKeys: Set<String>) throws(JSONDecodingError) -> JSONObject? {
        guard let node = node(key) else { return nil }
        return try JSONObject(node, pointer: pointer(of: key), allowedKeys: allowedKeys)
    }

    /// A required array member, with at most `maxCount` elements.
    public func array(_ key: String, maxCount: Int = 10_000) throws(JSONDecodingError) -> [JSONElement] {
        let node = try require(key)
        guard case .array(let elements) = node.value else {
            throw error(key, "expected an array, found \(node.kindDescription)")
        }
        guard elements.count <= maxCount else { throw error(key, "more than \(maxCount) elements") }
        let base = pointer(of: key)
        return elements.enumerated().map { JSONElement(node: $0.element, arrayPointer: base, index: $0.offset) }
    }

    /// An optional array member.
    public func optionalArray(_ key: String, maxCount: Int = 10_000) throws(JSONDecodingError) -> [JSONElement]? {
        guard node(key) != nil else { return nil }
        return try array(key, maxCount: maxCount)
    }

    /// A required array of strings.
    public func stringArray(_ key: String, maxCount: Int = 10_000, maxLength: Int = 4096) throws(JSONDecodingError) -> [String] {
        var result: [String] = []
        for element in try array(key, maxCount: maxCount) {
            result.append(try Self.string(element.node, pointer: element.pointer, maxLength: maxLength))
        }
        return result
    }

    /// The members of an object used as a map, in document order, for maps whose keys are data.
    public static func members(_ node: JSONNode, pointer: String) throws(JSONDecodingError) -> [(key: String, node: JSONNode, pointer: String)] {
        guard case .object(let list) = node.value else {
            throw JSONDecodingError(pointer: pointer, line: node.line, message: "expected an object, found \(node.kindDescription)")
        }
        return list.map { (key: $0.key, node: $0.node, pointer: join(pointer, $0.key)) }
    }
}

/// One element of an array member; its JSON pointer is made only when asked for (for an error).
public struct JSONElement: Sendable {
    /// The element's value.
    public let node: JSONNode
    /// The JSON pointer of the array holding it.
    public let arrayPointer: String
    /// Its position in the array.
    public let index: Int

    /// The element's JSON pointer.
    public var pointer: String { arrayPointer + "/" + String(index) }
}

extension String {
    fileprivate func replacingTilde() -> String {
        guard utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return self }
        var result = ""
        for character in self {
            switch character {
            case "~": result += "~0"
            case "/": result += "~1"
            default: result.append(character)
            }
        }
        return result
    }
}
