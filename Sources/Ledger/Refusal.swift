/// A refused submission, as the refusal record keeps it: who sent what (where it could be read), why it
/// was refused, and the SHA-256 of its bytes — never the bytes, so that refusals cannot grow the store.
public struct Refusal: Sendable, Equatable {
    /// The record's sequence number (0 before it is recorded).
    public var sequence: Int
    /// When it was received (RFC 3339, China Standard Time).
    public var receivedAt: String
    /// The bulletin's issuer, id and type, empty where they could not be read.
    public var issuer: String
    public var id: String
    public var type: String
    /// The participant of the TLS client certificate (empty when none was known).
    public var sender: String
    /// The problem code (`schema-invalid`, …) and the finer reason, when there is one.
    public var code: String
    public var reason: String?
    /// SHA-256 of the bytes, lowercase hex, and their length.
    public var sha256: String
    public var size: Int

    /// Creates a record.
    public init(sequence: Int = 0, receivedAt: String, issuer: String, id: String, type: String, sender: String, code: String,
                reason: String?, sha256: String, size: Int) {
        self.sequence = sequence
        self.receivedAt = receivedAt
        self.issuer = issuer
        self.id = id
        self.type = type
        self.sender = sender
        self.code = code
        self.reason = reason
        self.sha256 = sha256
        self.size = size
    }

    /// How many refusals the record keeps: the oldest go when more arrive.
    public static let kept = 100_000
}
