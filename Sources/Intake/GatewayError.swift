/// A refusal of the gateway: a stable code (gateway.md §6), what went wrong, and the finer code of the
/// layer that refused (`certificate-revoked`, …). It carries no HTTP status: ``Problem`` is the one place
/// a code becomes a status.
public struct GatewayError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The stable code of a refusal. A struct over a private enum, as swift-certificates and postgres-nio
    /// do: codes can be added without breaking a caller's `switch`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Base: String, CaseIterable {
            case malformed
            case schemaInvalid = "schema-invalid"
            case signatureInvalid = "signature-invalid"
            case untrustedSigner = "untrusted-signer"
            case notAuthorized = "not-authorized"
            case duplicateConflict = "duplicate-conflict"
            case duplicateDecision = "duplicate-decision"
            case tooLarge = "too-large"
            case unsupportedMediaType = "unsupported-media-type"
            case rulesInvalid = "rules-invalid"
            case notFound = "not-found"
            case methodNotAllowed = "method-not-allowed"
            case issuedInFuture = "issued-in-future"
            case rateLimited = "rate-limited"
            case `internal`
        }

        fileprivate let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The bytes, the request or a parameter cannot be read.
        public static let malformed = Code(.malformed)
        /// The bulletin does not match its schema.
        public static let schemaInvalid = Code(.schemaInvalid)
        /// The signature does not verify, or breaks the signature profile.
        public static let signatureInvalid = Code(.signatureInvalid)
        /// The signer's or client's certificate is not trusted (chain, revocation, validity, key usage).
        public static let untrustedSigner = Code(.untrustedSigner)
        /// The sender may not submit or read this.
        public static let notAuthorized = Code(.notAuthorized)
        /// Another bulletin was accepted under this issuer and id.
        public static let duplicateConflict = Code(.duplicateConflict)
        /// The issuer's decision (its document number, for the same person or institution) was accepted
        /// before under another id; a `Correction` amends it.
        public static let duplicateDecision = Code(.duplicateDecision)
        /// The body is larger than allowed.
        public static let tooLarge = Code(.tooLarge)
        /// The media type is not one intake reads.
        public static let unsupportedMediaType = Code(.unsupportedMediaType)
        /// The bulletin is not allowed under its rule pack.
        public static let rulesInvalid = Code(.rulesInvalid)
        /// Nothing is there.
        public static let notFound = Code(.notFound)
        /// The route does not answer this method.
        public static let methodNotAllowed = Code(.methodNotAllowed)
        /// The bulletin's `issuedAt` is further in the future than the allowed clock skew.
        public static let issuedInFuture = Code(.issuedInFuture)
        /// The participant sent more requests than its rate allows; try again after `Retry-After`.
        public static let rateLimited = Code(.rateLimited)
        /// The gateway failed (its store, its key): not the sender's fault.
        public static let `internal` = Code(.internal)

        /// Every code, for the documentation and the tests.
        public static var all: [Code] { Base.allCases.map(Code.init) }

        /// The code as written in problem documents (`schema-invalid`, …).
        public var description: String { base.rawValue }
    }

    /// The code.
    public let code: Code
    /// What went wrong.
    public let detail: String
    /// The finer code, when the layer that refused has one.
    public let reason: String?

    /// Creates an error.
    public init(_ code: Code, _ detail: String, reason: String? = nil) {
        self.code = code
        self.detail = detail
        self.reason = reason
    }

    public var description: String { "\(code): \(detail)" }

    /// Errors are equal when their codes are: the detail is for people.
    public static func == (lhs: GatewayError, rhs: GatewayError) -> Bool { lhs.code == rhs.code }
}
