import COpenSSL

/// Why a key, certificate or signature was refused: a stable code and the problem in words.
///
/// Codes: `signature-invalid`, `untrusted-signer`, `certificate-revoked`, `certificate-expired`,
/// `issuer-mismatch`, `key-usage`, `weak-key`, `unsupported-algorithm`, `malformed-key`,
/// `malformed-certificate`, `crypto-failure`.
public struct TrustError: Error, Sendable, Equatable, CustomStringConvertible {
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

    /// An error carrying OpenSSL's own reason, drained from its (thread-local) error queue.
    static func openSSL(_ code: String, _ message: String) -> TrustError {
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
                throw TrustError.openSSL("crypto-failure", "cannot create a memory BIO")
            }
            defer { BIO_free(bio) }
            return try body(bio)
        }
    }

    /// The bytes `write` puts into a fresh memory BIO.
    static func writing(_ write: (OpaquePointer) -> Int32) throws(TrustError) -> [UInt8] {
        guard let bio = BIO_new(BIO_s_mem()) else { throw TrustError.openSSL("crypto-failure", "cannot create a memory BIO") }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else { throw TrustError.openSSL("crypto-failure", "cannot write PEM") }
        var pointer: UnsafeMutablePointer<CChar>?
        let length = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &pointer)
        guard length > 0, let pointer else { return [] }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
    }
}
