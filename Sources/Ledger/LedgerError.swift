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

extension LedgerError {
    /// `error` as a ledger error: itself when it is one, else a `storage-failure` that describes it.
    static func storage(_ error: any Error) -> LedgerError {
        (error as? LedgerError) ?? LedgerError(code: "storage-failure", message: "\(error)")
    }
}
