import Crypto

/// SHA-256 of the log's bytes and of its hash chain, lowercase hex (swift-crypto, which PostgresNIO
/// brings already): the ledger checks and chains what it stores without depending on `Trust`.
public enum SHA256Digest {
    /// The digest of `bytes` in lowercase hex.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in SHA256.hash(data: bytes) {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 15)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
