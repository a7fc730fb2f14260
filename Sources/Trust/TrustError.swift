import COpenSSL

/// Why a key, certificate or signature was refused: a stable code and the problem in words.
///
/// Codes: `signature-invalid`, `untrusted-signer`, `certificate-revoked`, `certificate-expired`,
/// `issuer-mismatch`, `key-usage`, `weak-key`, `unsupported-algorithm`, `malformed-key`,
/// `malformed-certificate`, `crypto-failure`.
public struct TrustError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable code: a struct over a private enum, as swift-certificates and postgres-nio do, so that codes
    /// can be added without breaking a caller's `switch`; written as in problem documents (`signature-invalid`, …).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String {
            case signatureInvalid = "signature-invalid"
            case profileViolation = "profile-violation"
            case untrustedSigner = "untrusted-signer"
            case certificateRevoked = "certificate-revoked"
            case certificateExpired = "certificate-expired"
            case issuerMismatch = "issuer-mismatch"
            case keyUsage = "key-usage"
            case weakKey = "weak-key"
            case unsupportedAlgorithm = "unsupported-algorithm"
            case malformed
            case malformedCertificate = "malformed-certificate"
            case malformedKey = "malformed-key"
            case cryptoFailure = "crypto-failure"
            case ioError = "io-error"
            case trustStoreUnreadable = "trust-store-unreadable"
            case crlStale = "crl-stale"
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The signature does not verify.
        public static let signatureInvalid = Code(.signatureInvalid)
        /// The signature or its header breaks the signature profile.
        public static let profileViolation = Code(.profileViolation)
        /// No chain to a trusted root, or no participant named.
        public static let untrustedSigner = Code(.untrustedSigner)
        /// A CRL of the chain is past its `nextUpdate` (or not yet valid): revocation cannot be checked, so
        /// the certificate is refused (fail closed) until a fresh CRL is loaded.
        public static let crlStale = Code(.crlStale)
        /// A certificate of the chain is on its issuer's CRL.
        public static let certificateRevoked = Code(.certificateRevoked)
        /// A certificate of the chain is outside its validity.
        public static let certificateExpired = Code(.certificateExpired)
        /// A certificate or CRL does not belong to the issuer it names.
        public static let issuerMismatch = Code(.issuerMismatch)
        /// A certificate may not be used for this.
        public static let keyUsage = Code(.keyUsage)
        /// The key is too weak (RSA under 2048 bits).
        public static let weakKey = Code(.weakKey)
        /// The key or signature algorithm is not one the profile allows.
        public static let unsupportedAlgorithm = Code(.unsupportedAlgorithm)
        /// The bytes cannot be read (PEM, DER, JWS, XML).
        public static let malformed = Code(.malformed)
        /// A certificate cannot be read.
        public static let malformedCertificate = Code(.malformedCertificate)
        /// A key cannot be read.
        public static let malformedKey = Code(.malformedKey)
        /// OpenSSL failed.
        public static let cryptoFailure = Code(.cryptoFailure)
        /// A file could not be read or written.
        public static let ioError = Code(.ioError)
        /// The trust store folder cannot be read.
        public static let trustStoreUnreadable = Code(.trustStoreUnreadable)

        /// The code as written in messages and problem documents.
        public var description: String { base.rawValue }
    }

    /// A stable code.
    public let code: Code
    /// What is wrong.
    public let message: String

    /// Creates an error.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(message) [\(code)]" }

    /// An error carrying OpenSSL's own reason, drained from its (thread-local) error queue.
    static func openSSL(_ code: Code, _ message: String) -> TrustError {
        var reasons: [String] = []
        while true {
            let error = ERR_get_error()
            guard error != 0 else { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(error, &buffer, buffer.count)
            reasons.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return TrustError(code: code, message: reasons.isEmpty ? message : "\(message): \(reasons.joined(separator: "; "))")
    }

    /// Clears OpenSSL's error queue before an operation whose failure we report.
    static func clearQueue() { ERR_clear_error() }
}

/// Bytes in and out of OpenSSL memory BIOs.
enum MemoryBIO {
    /// A read-only BIO over `bytes`, valid while `body` runs (the BIO does not copy: the bytes stay pinned
    /// for the whole of `body`).
    static func reading<Result>(_ bytes: [UInt8], _ body: (OpaquePointer) throws(TrustError) -> Result) throws(TrustError) -> Result {
        try bytes.withUnsafeBufferPointer { (raw) throws(TrustError) -> Result in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else {
                throw TrustError.openSSL(.cryptoFailure, "cannot create a memory BIO")
            }
            defer { BIO_free(bio) }
            return try body(bio)
        }
    }

    /// The bytes `write` puts into a fresh memory BIO.
    static func writing(_ write: (OpaquePointer) -> Int32) throws(TrustError) -> [UInt8] {
        guard let bio = BIO_new(BIO_s_mem()) else { throw TrustError.openSSL(.cryptoFailure, "cannot create a memory BIO") }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else { throw TrustError.openSSL(.cryptoFailure, "cannot write PEM") }
        var pointer: UnsafeMutablePointer<CChar>?
        let length = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &pointer)
        guard length > 0, let pointer else { return [] }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
    }
}
