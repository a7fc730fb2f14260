/// Why a bulletin was rejected: a stable machine code, where (JSON pointer and line) and what.
public struct BulletinError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `malformed` (not JSON), `schema-invalid` (wrong shape, unknown field, bad value) or
    /// `rules-invalid` (not allowed under the chosen rule pack).
    public let code: String
    /// The JSON pointer of the offending value.
    public let pointer: String
    /// The 1-based line of the offending value in its file.
    public let line: Int
    /// What is wrong, naming the field.
    public let message: String
    /// For XML input, the XPath of the offending element.
    public let path: String?

    /// Creates an error.
    public init(code: String, pointer: String, line: Int, message: String, path: String? = nil) {
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
