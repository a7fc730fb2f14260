/// A ledger failure: a stable code and the problem in words.
///
/// Codes: `duplicate-conflict` (same issuer and id, other bytes), `storage-failure`, `chain-broken`.
public struct LedgerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable code.
    public let code: String
    /// What is wrong.
    public let message: String

    /// Creates an error.
    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(message) [\(code)]" }

    /// Errors are equal when their codes are: the message is for people.
    public static func == (lhs: LedgerError, rhs: LedgerError) -> Bool { lhs.code == rhs.code }
}
