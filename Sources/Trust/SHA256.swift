import COpenSSL

/// SHA-256 digests (OpenSSL), for receipts and the message log's hash chain.
public enum SHA256 {
    /// The 32-byte digest of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        // EVP_Digest with SHA-256 cannot fail for in-memory input short of memory exhaustion.
        _ = EVP_Digest(bytes, bytes.count, &output, &length, algorithm.pointer ?? EVP_sha256(), nil)
        return output
    }

    /// SHA-256 fetched from OpenSSL's provider once: `EVP_sha256()` looks it up again on every digest
    /// (OpenSSL 3's implicit fetch), about a third of the time of hashing a 1.5 KB bulletin.
    private static let algorithm = FetchedDigest(EVP_MD_fetch(nil, "SHA256", nil))

    /// A fetched `EVP_MD`: immutable, shared by every thread, kept for the life of the process.
    private struct FetchedDigest: @unchecked Sendable {
        let pointer: OpaquePointer?
        init(_ pointer: OpaquePointer?) { self.pointer = pointer }
    }

    /// The digest in lower-case hex.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in hash(bytes) {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 15)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
