/// A ledger failure: a stable code and the problem in words.
///
/// A struct over a private enum, as swift-certificates and postgres-nio do: codes can be added without
/// breaking a caller's `switch`, and callers compare codes (``Code``), never messages.
public struct LedgerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure: the stable part of the error.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String {
            case duplicateConflict = "duplicate-conflict"
            case storageFailure = "storage-failure"
            case notFound = "not-found"
            case logIntegrity = "log-integrity"
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// An accepted entry with this issuer and id exists with other bytes.
        public static let duplicateConflict = Code(.duplicateConflict)
        /// The database failed, refused a write, or holds what the store cannot read.
        public static let storageFailure = Code(.storageFailure)
        /// No row with that key (a delivery's sequence number).
        public static let notFound = Code(.notFound)
        /// The stored log does not verify against its Merkle tree or its signed checkpoints: it was changed,
        /// truncated or lost entries. Nothing is served from it.
        public static let logIntegrity = Code(.logIntegrity)

        /// The code as it appears in messages and logs (`storage-failure`, …).
        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public let code: Code
    /// What is wrong, for people.
    public let message: String

    private init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(message) [\(code)]" }

    /// Errors are equal when their codes are: the message is for people.
    public static func == (lhs: LedgerError, rhs: LedgerError) -> Bool { lhs.code == rhs.code }

    /// `key` was accepted before with other bytes (at `position`, or earlier in the same batch when nil).
    public static func duplicateConflict(_ key: BulletinKey, position: Int?) -> LedgerError {
        LedgerError(.duplicateConflict, "\(key.issuer)/\(key.id) was accepted before with other bytes"
                        + (position.map { " (log position \($0))" } ?? " (earlier in the same batch)"))
    }

    /// The database failed; `message` says how.
    public static func storageFailure(_ message: String) -> LedgerError {
        LedgerError(.storageFailure, message)
    }

    /// The stored log does not verify at `position`.
    public static func logIntegrity(position: Int, _ reason: String) -> LedgerError {
        LedgerError(.logIntegrity, "the log does not verify at position \(position): \(reason)")
    }

    /// No row has this key.
    public static func notFound(_ message: String) -> LedgerError {
        LedgerError(.notFound, message)
    }

    /// `error` as a ledger error: itself when it is one, else a `storage-failure` that describes it.
    public static func wrapping(_ error: any Error) -> LedgerError {
        (error as? LedgerError) ?? .storageFailure("\(error)")
    }
}
