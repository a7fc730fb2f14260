import COpenSSL
import Synchronization

/// The key types signatures may use (gateway.md §3).
public enum KeyAlgorithm: String, Sendable, CaseIterable {
    /// RSA, at least 2048 bits, with SHA-256 (RS256, rsa-sha256).
    case rsa
    /// ECDSA on P-256 with SHA-256 (ES256, ecdsa-sha256); signatures are raw r‖s, 64 bytes.
    case ecdsa
    /// SM2 with SM3 (GM/T 0003, 0004); raw r‖s, 64 bytes; distinguishing ID `1234567812345678`.
    case sm2
}

/// A private key, owned: the `EVP_PKEY` is freed with the last reference.
public final class PrivateKey: @unchecked Sendable {
    // Immutable after creation; OpenSSL keys may be shared across threads for signing.
    let pointer: OpaquePointer
    /// The key's algorithm.
    public let algorithm: KeyAlgorithm

    /// Contexts prepared for signing (RSA and ECDSA).
    let signing: PreparedContexts?
    /// ECDSA nonces computed ahead, once ``precomputeSigningNonces(keeping:)`` was called.
    private let nonces = Mutex<SigningNonces?>(nil)

    init(owning pointer: OpaquePointer) throws(TrustError) {
        self.pointer = pointer
        algorithm = try KeyAlgorithm.of(pointer)
        signing = algorithm == .sm2 ? nil : PreparedContexts(key: pointer, algorithm: algorithm, operation: .sign)
    }

    deinit {
        nonces.withLock { $0?.stop() }
        EVP_PKEY_free(pointer)
    }

    /// Keeps up to `capacity` ECDSA signing nonces computed ahead on a background thread of idle priority,
    /// so that each signature by this key costs about a microsecond of the caller's time instead of a point
    /// multiplication (``SigningNonces``); for a long-running signer such as the gateway. Only ECDSA keys
    /// have them (RSA and SM2 sign as before); calling it again changes nothing.
    public func precomputeSigningNonces(keeping capacity: Int) {
        guard algorithm == .ecdsa else { return }
        nonces.withLock { nonces in
            guard nonces == nil else { return }
            nonces = SigningNonces(key: pointer, capacity: capacity)
        }
    }

    /// The pool of precomputed nonces, if this key keeps one.
    var precomputedNonces: SigningNonces? { nonces.withLock { $0 } }

    /// How many signing nonces are ready now (0 for a key that keeps none).
    public var readySigningNonces: Int { precomputedNonces?.readyCount ?? 0 }

    /// Generates a key: RSA 2048, P-256 or SM2.
    public static func generate(_ algorithm: KeyAlgorithm) throws(TrustError) -> PrivateKey {
        TrustError.clearQueue()
        let name = switch algorithm {
        case .rsa: "RSA"
        case .ecdsa: "EC"
        case .sm2: "SM2"
        }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, name, nil) else {
            throw TrustError.openSSL(.cryptoFailure, "cannot create a \(name) key generator")
        }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_keygen_init(context) == 1 else { throw TrustError.openSSL(.cryptoFailure, "cannot start key generation") }
        switch algorithm {
        case .rsa:
            guard EVP_PKEY_CTX_set_rsa_keygen_bits(context, 2048) == 1 else { throw TrustError.openSSL(.cryptoFailure, "cannot set RSA size") }
        case .ecdsa:
            guard EVP_PKEY_CTX_set_group_name(context, "P-256") == 1 else { throw TrustError.openSSL(.cryptoFailure, "cannot set the curve") }
        case .sm2:
            break
        }
        var key: OpaquePointer?
        guard EVP_PKEY_generate(context, &key) == 1, let key else { throw TrustError.openSSL(.cryptoFailure, "key generation failed") }
        return try PrivateKey(owning: key)
    }

    /// Reads a PEM private key (PKCS#8 or traditional, unencrypted).
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

    /// Whether `certificate` certifies this key's public half: signing with a key that is not the
    /// certificate's makes a signature nobody can verify.
    public func isCertified(by certificate: Certificate) throws(TrustError) -> Bool {
        EVP_PKEY_eq(pointer, try certificate.publicKey().pointer) == 1
    }

    /// The public half as SubjectPublicKeyInfo PEM.
    public func publicKeyPEM() throws(TrustError) -> [UInt8] {
        try MemoryBIO.writing { bio in PEM_write_bio_PUBKEY(bio, pointer) }
    }
}

extension KeyAlgorithm {
    /// The algorithm of an OpenSSL key; RSA below 2048 bits and curves other than P-256 and SM2 are refused.
    static func of(_ key: OpaquePointer) throws(TrustError) -> KeyAlgorithm {
        if EVP_PKEY_is_a(key, "RSA") == 1 {
            let bits = EVP_PKEY_get_bits(key)
            guard bits >= 2048 else { throw TrustError(code: .weakKey, message: "RSA keys must have at least 2048 bits, this one has \(bits)") }
            return .rsa
        }
        if EVP_PKEY_is_a(key, "SM2") == 1 { return .sm2 }
        if EVP_PKEY_is_a(key, "EC") == 1 {
            var buffer = [CChar](repeating: 0, count: 64)
            var length = 0
            guard EVP_PKEY_get_group_name(key, &buffer, buffer.count, &length) == 1 else {
                throw TrustError(code: .unsupportedAlgorithm, message: "an EC key without a named curve")
            }
            let curve = String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            switch curve {
            case "prime256v1", "P-256": return .ecdsa
            case "SM2": return .sm2
            default: throw TrustError(code: .unsupportedAlgorithm, message: "curve \(curve) is not accepted (P-256 or SM2)")
            }
        }
        throw TrustError(code: .unsupportedAlgorithm, message: "only RSA, P-256 and SM2 keys are accepted")
    }
}
