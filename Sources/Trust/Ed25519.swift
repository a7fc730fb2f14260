import Foundation
import COpenSSL

/// An Ed25519 private key (RFC 8032), owned: the log's key, which signs checkpoints (C2SP signed notes), and
/// a witness's, which cosigns them. Ed25519 rather than the participants' RSA, ECDSA or SM2 because the
/// transparency-log ecosystem (note verifiers, witnesses) speaks it; it is never used for bulletins.
public final class Ed25519PrivateKey: @unchecked Sendable {
    // Immutable after creation; OpenSSL keys may be shared across threads for signing.
    private let pointer: OpaquePointer
    /// The public half.
    public let publicKey: Ed25519PublicKey

    private init(owning pointer: OpaquePointer) throws(TrustError) {
        self.pointer = pointer
        guard EVP_PKEY_is_a(pointer, "ED25519") == 1 else {
            EVP_PKEY_free(pointer)
            throw TrustError(code: .unsupportedAlgorithm, message: "not an Ed25519 key")
        }
        var raw = [UInt8](repeating: 0, count: 32)
        var length = raw.count
        guard EVP_PKEY_get_raw_public_key(pointer, &raw, &length) == 1, length == 32 else {
            EVP_PKEY_free(pointer)
            throw TrustError.openSSL(.malformedKey, "cannot read the Ed25519 public key")
        }
        publicKey = Ed25519PublicKey(unchecked: raw)
    }

    deinit {
        EVP_PKEY_free(pointer)
    }

    /// A new random key.
    public static func generate() throws(TrustError) -> Ed25519PrivateKey {
        TrustError.clearQueue()
        guard let context = EVP_PKEY_CTX_new_from_name(nil, "ED25519", nil) else {
            throw TrustError.openSSL(.cryptoFailure, "cannot create an Ed25519 key generator")
        }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(context) == 1, EVP_PKEY_generate(context, &key) == 1, let key else {
            throw TrustError.openSSL(.cryptoFailure, "Ed25519 key generation failed")
        }
        return try Ed25519PrivateKey(owning: key)
    }

    /// Reads a PEM private key (PKCS#8, unencrypted), as `openssl genpkey -algorithm ed25519` writes it.
    public convenience init(pem: [UInt8]) throws(TrustError) {
        TrustError.clearQueue()
        let key = try MemoryBIO.reading(pem) { bio in PEM_read_bio_PrivateKey(bio, nil, nil, nil) }
        guard let key else { throw TrustError.openSSL(.malformedKey, "not a PEM private key") }
        try self.init(owning: key)
    }

    /// The key as unencrypted PKCS#8 PEM.
    public func pem() throws(TrustError) -> [UInt8] {
        try MemoryBIO.writing { bio in PEM_write_bio_PrivateKey(bio, pointer, nil, nil, 0, nil, nil) }
    }

    /// The 64-byte signature of `message` (pure Ed25519: the message itself, not a digest of it).
    public func sign(_ message: [UInt8]) throws(TrustError) -> [UInt8] {
        TrustError.clearQueue()
        guard let context = EVP_MD_CTX_new() else { throw TrustError.openSSL(.cryptoFailure, "out of memory") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit(context, nil, nil, nil, pointer) == 1 else {
            throw TrustError.openSSL(.cryptoFailure, "cannot start an Ed25519 signature")
        }
        var signature = [UInt8](repeating: 0, count: 64)
        var length = signature.count
        let signed = message.withUnsafeBufferPointer { EVP_DigestSign(context, &signature, &length, $0.baseAddress, $0.count) }
        guard signed == 1, length == 64 else { throw TrustError.openSSL(.cryptoFailure, "Ed25519 signing failed") }
        return signature
    }
}

/// An Ed25519 public key: its 32 raw bytes (RFC 8032 §5.1.5), as C2SP verifier keys carry it.
public struct Ed25519PublicKey: Sendable, Hashable {
    /// The raw key.
    public let bytes: [UInt8]

    /// A key from its 32 raw bytes; nil for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    fileprivate init(unchecked bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Whether `signature` is this key's signature of `message`. Anything malformed is simply false.
    public func verify(_ signature: [UInt8], of message: [UInt8]) -> Bool {
        guard signature.count == 64 else { return false }
        TrustError.clearQueue()
        guard let key = bytes.withUnsafeBufferPointer({ EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, $0.baseAddress, $0.count) }) else {
            return false
        }
        defer { EVP_PKEY_free(key) }
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, nil, nil, key) == 1 else { return false }
        let verified = signature.withUnsafeBufferPointer { signature in
            message.withUnsafeBufferPointer { message in
                EVP_DigestVerify(context, signature.baseAddress, signature.count, message.baseAddress, message.count)
            }
        }
        TrustError.clearQueue()
        return verified == 1
    }
}

extension Ed25519PrivateKey {
    /// The key in the PEM file at `path`, or a new one written there (readable by its owner only, created
    /// exclusively, so that two processes starting together keep the same key) when there is none yet.
    public static func loadOrCreate(at path: String) throws(TrustError) -> Ed25519PrivateKey {
        let url = URL(fileURLWithPath: path)
        if let existing = try? Data(contentsOf: url) { return try Ed25519PrivateKey(pem: Array(existing)) }
        let key = try generate()
        let pem = try key.pem()
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw TrustError(code: .ioError, message: "cannot create \(url.deletingLastPathComponent().path): \(error.localizedDescription)")
        }
        let descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            if errno == EEXIST, let existing = try? Data(contentsOf: url) { return try Ed25519PrivateKey(pem: Array(existing)) }
            throw TrustError(code: .ioError, message: "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let written = pem.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == pem.count, fsync(descriptor) == 0 else {
            throw TrustError(code: .ioError, message: "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        return key
    }
}
