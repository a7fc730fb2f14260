import COpenSSL
import Synchronization

/// `EVP_PKEY_CTX`s prepared once for one key and one operation — signing or verifying a SHA-256 digest
/// with RSA (PKCS #1 v1.5) or ECDSA — and kept for the next call. Preparing a context (fetching the
/// algorithm from OpenSSL's provider, setting the padding and digest) costs about a quarter of an ECDSA
/// signature; `openssl speed` prepares once too. A context is used by one thread at a time: a call takes an
/// idle one (or prepares a new one) and gives it back when done.
///
/// SM2 is not prepared: its signature covers a Z value computed from the distinguishing ID, which
/// `EVP_DigestSign` and `EVP_DigestVerify` compute.
final class PreparedContexts: @unchecked Sendable {
    /// What the contexts do.
    enum Operation {
        case sign, verify
    }

    // `key` belongs to the key object that owns this pool and outlives it; it is only read.
    private let key: OpaquePointer
    private let operation: Operation
    private let padding: Int32?
    private let idle = Mutex<[IdleContext]>([])
    /// At most this many idle contexts are kept (one per thread that signs or verifies at the same time).
    private static let keptIdle = 16

    /// Contexts for `key` (an RSA or ECDSA key; its owner keeps it alive).
    init(key: OpaquePointer, algorithm: KeyAlgorithm, operation: Operation) {
        self.key = key
        self.operation = operation
        padding = algorithm == .rsa ? RSA_PKCS1_PADDING : nil
    }

    deinit {
        for context in idle.withLock({ $0 }) { EVP_PKEY_CTX_free(context.pointer) }
    }

    /// Runs `body` with a prepared context. A context whose use threw is freed, not kept.
    func withContext<Result>(_ body: (OpaquePointer) throws(TrustError) -> Result) throws(TrustError) -> Result {
        let context: OpaquePointer
        if let taken = idle.withLock({ $0.popLast() }) { context = taken.pointer } else { context = try prepare() }
        let result: Result
        do {
            result = try body(context)
        } catch {
            EVP_PKEY_CTX_free(context)
            throw error
        }
        let kept = idle.withLock { idle -> Bool in
            guard idle.count < Self.keptIdle else { return false }
            idle.append(IdleContext(pointer: context))
            return true
        }
        if !kept { EVP_PKEY_CTX_free(context) }
        return result
    }

    private func prepare() throws(TrustError) -> OpaquePointer {
        guard let context = EVP_PKEY_CTX_new(key, nil) else { throw TrustError.openSSL(.cryptoFailure, "cannot create a key context") }
        let started = switch operation {
        case .sign: EVP_PKEY_sign_init(context)
        case .verify: EVP_PKEY_verify_init(context)
        }
        guard started == 1,
              padding.map({ EVP_PKEY_CTX_set_rsa_padding(context, $0) == 1 }) ?? true,
              EVP_PKEY_CTX_set_signature_md(context, EVP_sha256()) == 1 else {
            EVP_PKEY_CTX_free(context)
            throw TrustError.openSSL(.cryptoFailure, "cannot prepare a key context")
        }
        return context
    }

    /// An idle context: owned by the pool, used by nobody until taken.
    private struct IdleContext: @unchecked Sendable {
        let pointer: OpaquePointer
    }
}
