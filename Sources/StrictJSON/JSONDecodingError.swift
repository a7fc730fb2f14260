/// A JSON document that is well-formed but does not have the expected shape.
///
/// Carries the JSON pointer and the line of the offending value so that a reader can find it.
public struct JSONDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The JSON pointer (RFC 6901) of the offending value, `""` for the document itself.
    public let pointer: String
    /// The 1-based line of the offending value.
    public let line: Int
    /// What is wrong, naming the field.
    public let message: String

    /// Creates an error.
    public init(pointer: String, line: Int, message: String) {
        self.pointer = pointer
        self.line = line
        self.message = message
    }

    public var description: String { "line \(line), \(pointer.isEmpty ? "/" : pointer): \(message)" }
}
