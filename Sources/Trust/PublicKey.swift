import COpenSSL

/// A public key, owned.
public final class PublicKey: @unchecked Sendable {
    // Immutable after creation; OpenSSL keys may be shared across threads for verifying.
    let pointer: OpaquePointer
    /// The key's algorithm.
    public let algorithm: KeyAlgorithm

    /// Contexts prepared for verifying (RSA and ECDSA).
    let verifying: PreparedContexts?

    init(owning pointer: OpaquePointer) throws(TrustError) {
        self.pointer = pointer
        do {
            algorithm = try KeyAlgorithm.of(pointer)
        } catch {
            EVP_PKEY_free(pointer)
            throw error
        }
        verifying = algorithm == .sm2 ? nil : PreparedContexts(key: pointer, algorithm: algorithm, operation: .verify)
    }

    deinit {
        EVP_PKEY_free(pointer)
    }

    /// Reads a SubjectPublicKeyInfo PEM public key.
    public convenience init(pem: [UInt8]) throws(TrustError) {
        TrustError.clearQueue()
        let key = try MemoryBIO.reading(pem) { bio in PEM_read_bio_PUBKEY(bio, nil, nil, nil) }
        guard let key else { throw TrustError.openSSL(.malformedKey, "not a PEM public key") }
        try self.init(owning: key)
    }
}

/// Signing and verifying bytes with the algorithms of gateway.md §3.
///
/// ECDSA and SM2 signatures are raw `r‖s` (64 bytes), the form XML-DSig and JWS carry; DER is refused.
/// SM2 always uses the distinguishing ID `1234567812345678` (GM/T 0009) so that signatures interoperate.
public enum Signature {
    /// The SM2 distinguishing ID (GM/T 0009).
    public static let sm2DistinguishingID = Array("1234567812345678".utf8)

    /// Signs `data` with `key`.
    public static func sign(_ data: [UInt8], with key: PrivateKey) throws(TrustError) -> [UInt8] {
        TrustError.clearQueue()
        if let nonces = key.precomputedNonces, let nonce = nonces.take() {
            // ECDSA with a nonce computed ahead; should OpenSSL refuse it, the usual way below.
            if let raw = nonces.sign(digest: SHA256.hash(data), with: nonce) { return raw }
            TrustError.clearQueue()
        }
        let der: [UInt8]
        if let prepared = key.signing {
            // RSA and ECDSA sign the SHA-256 digest with a prepared context.
            let digest = SHA256.hash(data)
            der = try prepared.withContext { context throws(TrustError) -> [UInt8] in
                try signature { output, length in EVP_PKEY_sign(context, output, &length, digest, digest.count) }
            }
        } else {
            der = try withDigestContext(key.pointer, algorithm: key.algorithm, signing: true) { context throws(TrustError) -> [UInt8] in
                try signature { output, length in EVP_DigestSign(context, output, &length, data, data.count) }
            }
        }
        return key.algorithm == .rsa ? der : try rawSignature(fromDER: der)
    }

    /// Whether `signature` is a valid signature of `data` by `key`. Malformed signatures are invalid, not errors.
    public static func verify(_ signature: [UInt8], of data: [UInt8], with key: PublicKey) -> Bool {
        TrustError.clearQueue()
        let encoded: [UInt8]
        if key.algorithm == .rsa {
            encoded = signature
        } else {
            guard signature.count == 64, let der = try? derSignature(fromRaw: signature) else { return false }
            encoded = der
        }
        let valid: Bool
        if let prepared = key.verifying {
            let digest = SHA256.hash(data)
            valid = (try? prepared.withContext { context throws(TrustError) -> Bool in
                let result = EVP_PKEY_verify(context, encoded, encoded.count, digest, digest.count)
                // 0 is a signature that does not verify; below 0 an error, after which the context is not kept.
                guard result >= 0 else { throw TrustError.openSSL(.cryptoFailure, "verifying failed") }
                return result == 1
            }) ?? false
        } else {
            valid = (try? withDigestContext(key.pointer, algorithm: key.algorithm, signing: false) { context throws(TrustError) -> Bool in
                EVP_DigestVerify(context, encoded, encoded.count, data, data.count) == 1
            }) ?? false
        }
        TrustError.clearQueue()
        return valid
    }

    /// The bytes of an OpenSSL signing call, made twice: for the length, then for the signature.
    private static func signature(_ sign: (UnsafeMutablePointer<UInt8>?, inout Int) -> Int32) throws(TrustError) -> [UInt8] {
        var length = 0
        guard sign(nil, &length) == 1 else { throw TrustError.openSSL(.cryptoFailure, "signing failed") }
        var signature = [UInt8](repeating: 0, count: length)
        guard signature.withUnsafeMutableBufferPointer({ sign($0.baseAddress, &length) }) == 1 else {
            throw TrustError.openSSL(.cryptoFailure, "signing failed")
        }
        return Array(signature.prefix(length))
    }

    private static func withDigestContext<Result>(
        _ key: OpaquePointer, algorithm: KeyAlgorithm, signing: Bool,
        _ body: (OpaquePointer) throws(TrustError) -> Result
    ) throws(TrustError) -> Result {
        guard let context = EVP_MD_CTX_new() else { throw TrustError.openSSL(.cryptoFailure, "cannot create a digest context") }
        defer { EVP_MD_CTX_free(context) }
        let digest = algorithm == .sm2 ? EVP_sm3() : EVP_sha256()
        var keyContext: OpaquePointer?
        if algorithm == .sm2 {
            // The ID must be set on the key context before the digest starts (it enters the Z value).
            guard let created = EVP_PKEY_CTX_new(key, nil) else { throw TrustError.openSSL(.cryptoFailure, "cannot create an SM2 context") }
            keyContext = created
            guard EVP_PKEY_CTX_set1_id(created, sm2DistinguishingID, Int32(sm2DistinguishingID.count)) == 1 else {
                EVP_PKEY_CTX_free(created)
                throw TrustError.openSSL(.cryptoFailure, "cannot set the SM2 distinguishing ID")
            }
            EVP_MD_CTX_set_pkey_ctx(context, created)
        }
        defer { if let keyContext { EVP_PKEY_CTX_free(keyContext) } }
        let started = signing
            ? EVP_DigestSignInit(context, nil, digest, nil, key)
            : EVP_DigestVerifyInit(context, nil, digest, nil, key)
        guard started == 1 else { throw TrustError.openSSL(.cryptoFailure, "cannot start the digest") }
        return try body(context)
    }

    /// Converts a DER `ECDSA-Sig-Value` (ECDSA and SM2) to raw `r‖s` of 32 + 32 bytes.
    public static func rawSignature(fromDER der: [UInt8]) throws(TrustError) -> [UInt8] {
        var cursor: UnsafePointer<UInt8>? = nil
        let parsed: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            cursor = buffer.baseAddress
            return d2i_ECDSA_SIG(nil, &cursor, buffer.count)
        }
        guard let parsed else { throw TrustError.openSSL(.signatureInvalid, "not a DER signature") }
        defer { ECDSA_SIG_free(parsed) }
        var raw = [UInt8](repeating: 0, count: 64)
        guard let r = ECDSA_SIG_get0_r(parsed), let s = ECDSA_SIG_get0_s(parsed),
              raw.withUnsafeMutableBufferPointer({ buffer in
                  guard let base = buffer.baseAddress else { return false }
                  return BN_bn2binpad(r, base, 32) == 32 && BN_bn2binpad(s, base + 32, 32) == 32
              }) else {
            throw TrustError(code: .signatureInvalid, message: "signature values do not fit 32 bytes")
        }
        return raw
    }

    /// Converts raw `r‖s` (64 bytes) to a DER `ECDSA-Sig-Value`.
    public static func derSignature(fromRaw raw: [UInt8]) throws(TrustError) -> [UInt8] {
        guard raw.count == 64 else { throw TrustError(code: .signatureInvalid, message: "raw signatures are 64 bytes, this one has \(raw.count)") }
        guard let signature = ECDSA_SIG_new() else { throw TrustError.openSSL(.cryptoFailure, "cannot create a signature") }
        defer { ECDSA_SIG_free(signature) }
        let r = raw.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, 32, nil) }
        let s = raw.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress.map { $0 + 32 }, 32, nil) }
        guard let r, let s, ECDSA_SIG_set0(signature, r, s) == 1 else {
            BN_free(r)
            BN_free(s)
            throw TrustError.openSSL(.cryptoFailure, "cannot build a signature")
        }
        var output: UnsafeMutablePointer<UInt8>?
        let length = i2d_ECDSA_SIG(signature, &output)
        guard length > 0, let output else { throw TrustError.openSSL(.cryptoFailure, "cannot encode a signature") }
        defer { tongbao_openssl_free(output) }
        return Array(UnsafeBufferPointer(start: output, count: Int(length)))
    }
}
