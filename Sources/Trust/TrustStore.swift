import COpenSSL
import Foundation
import Synchronization

/// The roots, intermediates and CRLs a signer's certificate must chain to (cli.md: `roots/`,
/// `intermediates/`, `crl/`), and the checks of gateway.md §3: chain, validity, revocation (CRLs for
/// every certificate of the chain), `digitalSignature` key usage and the participant binding.
public final class TrustStore: @unchecked Sendable {
    // Immutable after creation.
    /// The trusted root CA certificates.
    public let roots: [Certificate]
    /// Intermediate CA certificates that may complete a chain.
    public let intermediates: [Certificate]
    /// The CRLs, one per CA, checked for every certificate of a chain.
    public let revocationLists: [RevocationList]
    /// Seconds after a CRL's `nextUpdate` in which it is still used, as the operator allowed explicitly
    /// (gateway.md §7: fail closed unless a grace period is allowed); 0: a stale CRL refuses at once.
    public let crlGrace: Int
    /// Chains that verified, by the DER of the certificate and the chain it came with, with the period in
    /// which that result holds: while every certificate of the verified chain is valid and every CRL of
    /// this store is current. The store and its CRLs never change, so nothing else can alter the result.
    private let verifiedChains = Mutex<[[UInt8]: VerifiedChain]>([:])

    private struct VerifiedChain {
        let codes: [String]
        /// When the result holds (the certificates valid and every CRL current, or within the grace).
        let from: Int
        let until: Int
        /// When every certificate of the chain is valid.
        let certificatesFrom: Int
        let certificatesUntil: Int
    }

    /// Creates a store.
    public init(roots: [Certificate], intermediates: [Certificate] = [], revocationLists: [RevocationList] = [], crlGrace: Int = 0) {
        self.roots = roots
        self.intermediates = intermediates
        self.revocationLists = revocationLists
        self.crlGrace = max(0, crlGrace)
    }

    /// Loads `DIR/roots/*.pem`, `DIR/intermediates/*.pem` and `DIR/crl/*.pem`; `crlGrace` as ``crlGrace``.
    public convenience init(directory: String, crlGrace: Int = 0) throws(TrustError) {
        func files(_ folder: String) -> [URL] {
            let url = URL(fileURLWithPath: directory).appendingPathComponent(folder)
            let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
            return names.filter { $0.hasSuffix(".pem") }.sorted().map { url.appendingPathComponent($0) }
        }
        func read(_ url: URL) throws(TrustError) -> [UInt8] {
            do {
                return Array(try Data(contentsOf: url))
            } catch {
                throw TrustError(code: .trustStoreUnreadable, message: "cannot read \(url.path)")
            }
        }
        var roots: [Certificate] = []
        for url in files("roots") { roots += try Certificate.all(pem: try read(url)) }
        guard !roots.isEmpty else {
            throw TrustError(code: .trustStoreUnreadable, message: "\(directory)/roots holds no PEM certificate")
        }
        var intermediates: [Certificate] = []
        for url in files("intermediates") { intermediates += try Certificate.all(pem: try read(url)) }
        var lists: [RevocationList] = []
        for url in files("crl") { lists.append(try RevocationList(pem: try read(url))) }
        self.init(roots: roots, intermediates: intermediates, revocationLists: lists, crlGrace: crlGrace)
    }

    /// Verifies that `certificate` (with `chain`, the other certificates the signer sent) chains to a root,
    /// is valid and unrevoked at `time` (seconds since 1970), allows `digitalSignature`, and — when
    /// `participant` is given — belongs to that participant. Returns the participant codes it is bound to.
    @discardableResult
    public func verify(_ certificate: Certificate, chain: [Certificate] = [], at time: Int, participant: String? = nil) throws(TrustError) -> [String] {
        var key = try certificate.der()
        for other in chain { key += try other.der() }   // DER is self-delimiting: the concatenation is unambiguous
        if let known = verifiedChains.withLock({ $0[key] }), known.from <= time, time <= known.until {
            return try checkUse(of: certificate, codes: known.codes, participant: participant)
        }
        let verified = try verifyChain(certificate, chain: chain, at: time)
        verifiedChains.withLock { cache in
            if cache.count >= 4096 { cache.removeAll(keepingCapacity: true) }
            cache[key] = verified
        }
        return try checkUse(of: certificate, codes: verified.codes, participant: participant)
    }

    /// The full check with OpenSSL: the chain to a root, validity at `time`, CRLs for every certificate.
    private func verifyChain(_ certificate: Certificate, chain: [Certificate], at time: Int) throws(TrustError) -> VerifiedChain {
        TrustError.clearQueue()
        guard let store = X509_STORE_new() else { throw TrustError.openSSL(.cryptoFailure, "cannot create a certificate store") }
        defer { X509_STORE_free(store) }
        for root in roots { X509_STORE_add_cert(store, root.pointer) }
        for list in revocationLists { X509_STORE_add_crl(store, list.pointer) }
        X509_STORE_set_flags(store, UInt(X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL | X509_V_FLAG_X509_STRICT))
        guard let untrusted = tongbao_x509_stack_new() else { throw TrustError.openSSL(.cryptoFailure, "cannot create a stack") }
        defer { tongbao_x509_stack_free(untrusted) }
        for other in intermediates + chain { _ = tongbao_x509_stack_push(untrusted, other.pointer) }
        guard let context = X509_STORE_CTX_new() else { throw TrustError.openSSL(.cryptoFailure, "cannot create a verification context") }
        defer { X509_STORE_CTX_free(context) }
        guard X509_STORE_CTX_init(context, store, certificate.pointer, untrusted) == 1 else {
            throw TrustError.openSSL(.cryptoFailure, "cannot start verification")
        }
        X509_STORE_CTX_set_time(context, 0, time_t(time))
        guard X509_verify_cert(context) == 1 else {
            let error = X509_STORE_CTX_get_error(context)
            let reason = String(cString: X509_verify_cert_error_string(Int(error)))
            TrustError.clearQueue()
            switch error {
            case X509_V_ERR_CERT_REVOKED:
                throw TrustError(code: .certificateRevoked, message: "the signer's certificate (or one above it) is revoked")
            case X509_V_ERR_CERT_HAS_EXPIRED, X509_V_ERR_CERT_NOT_YET_VALID:
                throw TrustError(code: .certificateExpired, message: "a certificate of the chain is not valid at that time: \(reason)")
            case X509_V_ERR_CRL_HAS_EXPIRED:
                if let graced = try verifyUnderGrace(certificate, chain: chain, at: time) { return graced }
                throw TrustError(code: .crlStale, message: "revocation cannot be checked: \(reason); load a fresh CRL into the trust store")
            case X509_V_ERR_CRL_NOT_YET_VALID:
                throw TrustError(code: .crlStale, message: "revocation cannot be checked: \(reason); load a fresh CRL into the trust store")
            case X509_V_ERR_UNABLE_TO_GET_CRL:
                throw TrustError(code: .untrustedSigner, message: "revocation cannot be checked: \(reason); update the CRLs of the trust store")
            default:
                throw TrustError(code: .untrustedSigner, message: "the certificate does not chain to a trusted root: \(reason)")
            }
        }
        var from = Int.min
        var until = Int.max
        var certificatesFrom = Int.min
        var certificatesUntil = Int.max
        if let built = tongbao_x509_verified_chain(context) {
            for index in 0..<tongbao_x509_stack_count(built) {
                guard let member = tongbao_x509_stack_value(built, index) else { continue }
                certificatesFrom = max(certificatesFrom, Certificate.seconds(X509_get0_notBefore(member)))
                certificatesUntil = min(certificatesUntil, Certificate.seconds(X509_get0_notAfter(member)))
            }
            from = certificatesFrom
            until = certificatesUntil
        } else {
            until = Int.min   // no chain to read: do not remember the result
        }
        for list in revocationLists {
            from = max(from, list.thisUpdate)
            until = min(until, list.nextUpdate ?? Int.max)
        }
        return VerifiedChain(codes: certificate.participantCodes, from: from, until: until,
                             certificatesFrom: certificatesFrom, certificatesUntil: certificatesUntil)
    }

    /// A chain whose CRLs went stale less than ``crlGrace`` ago: checked against the CRLs as they stood
    /// the moment before the first of them went stale, and its certificates' validity at `time`; nil when
    /// no grace covers `time`. The result holds only until the grace ends.
    private func verifyUnderGrace(_ certificate: Certificate, chain: [Certificate], at time: Int) throws(TrustError) -> VerifiedChain? {
        guard crlGrace > 0, let staleSince = revocationLists.compactMap(\.nextUpdate).filter({ $0 <= time }).min(),
              time - staleSince <= crlGrace else { return nil }
        let asTheyStood = try verifyChain(certificate, chain: chain, at: staleSince - 1)
        guard asTheyStood.certificatesFrom <= time, time <= asTheyStood.certificatesUntil else {
            throw TrustError(code: .certificateExpired, message: "a certificate of the chain is not valid at that time")
        }
        return VerifiedChain(codes: asTheyStood.codes, from: max(asTheyStood.certificatesFrom, staleSince),
                             until: min(asTheyStood.certificatesUntil, staleSince + crlGrace),
                             certificatesFrom: asTheyStood.certificatesFrom, certificatesUntil: asTheyStood.certificatesUntil)
    }

    /// The checks that depend on the use, not on the chain: `digitalSignature` and the participant binding.
    private func checkUse(of certificate: Certificate, codes: [String], participant: String?) throws(TrustError) -> [String] {
        guard certificate.allowsDigitalSignature else {
            throw TrustError(code: .keyUsage, message: "the certificate's key usage does not include digitalSignature")
        }
        if let participant, !codes.contains(participant) {
            throw TrustError(code: .issuerMismatch,
                             message: "the certificate belongs to \(codes.isEmpty ? "no participant" : codes.joined(separator: ", ")), not \(participant)")
        }
        return codes
    }
}
