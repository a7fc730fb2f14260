import COpenSSL

/// A certificate authority that issues participant certificates and CRLs: the core of the development
/// PKI (`tongbao pki init`) and of the test fixtures. Not for production keys.
public final class CertificateAuthority: @unchecked Sendable {
    /// The CA's key.
    public let key: PrivateKey
    /// The CA's certificate.
    public let certificate: Certificate

    init(key: PrivateKey, certificate: Certificate) {
        self.key = key
        self.certificate = certificate
    }

    /// Creates a self-signed root CA.
    public static func root(name: String, algorithm: KeyAlgorithm, notBefore: Int, notAfter: Int) throws(TrustError) -> CertificateAuthority {
        let key = try PrivateKey.generate(algorithm)
        let certificate = try build(
            subjectName: name, subjectKey: key, issuer: nil, issuerKey: key, serial: 1, notBefore: notBefore, notAfter: notAfter,
            extensions: [(NID_basic_constraints, "critical,CA:TRUE"), (NID_key_usage, "critical,keyCertSign,cRLSign"),
                         (NID_subject_key_identifier, "hash")])
        return CertificateAuthority(key: key, certificate: certificate)
    }

    /// Re-creates a CA from its key and certificate (for issuing more later).
    public convenience init(key: PrivateKey, certificatePEM: [UInt8]) throws(TrustError) {
        self.init(key: key, certificate: try Certificate(pem: certificatePEM))
    }

    /// Issues a certificate for `subjectKey`, bound to participant `participant` when given.
    ///
    /// - Parameter keyUsage: the key-usage extension; participants sign with `digitalSignature`.
    /// - Parameter serverNames: DNS names and IP addresses for a TLS server certificate.
    public func issue(
        commonName: String, participant: String?, subjectKey: PrivateKey, serial: Int, notBefore: Int, notAfter: Int,
        keyUsage: String = "critical,digitalSignature", serverNames: [String] = []
    ) throws(TrustError) -> Certificate {
        var extensions: [(Int32, String)] = [
            (NID_basic_constraints, "critical,CA:FALSE"), (NID_key_usage, keyUsage),
            (NID_ext_key_usage, "clientAuth,serverAuth"), (NID_subject_key_identifier, "hash"),
            (NID_authority_key_identifier, "keyid:always"),
        ]
        var names = participant.map { ["URI:\(Certificate.participantURIPrefix)\($0)"] } ?? []
        names += serverNames.map { name in name.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" } ? "IP:\(name)" : "DNS:\(name)" }
        if !names.isEmpty { extensions.append((NID_subject_alt_name, names.joined(separator: ","))) }
        return try Self.build(
            subjectName: commonName, subjectKey: subjectKey, issuer: certificate, issuerKey: key, serial: serial,
            notBefore: notBefore, notAfter: notAfter, extensions: extensions)
    }

    /// A CRL listing `revokedSerials`, valid from `thisUpdate` to `nextUpdate`.
    public func revocationList(revokedSerials: [Int], thisUpdate: Int, nextUpdate: Int) throws(TrustError) -> RevocationList {
        TrustError.clearQueue()
        guard let crl = X509_CRL_new() else { throw TrustError.openSSL(.cryptoFailure, "cannot create a CRL") }
        let list = RevocationList(owning: crl)
        guard X509_CRL_set_version(crl, 1) == 1, X509_CRL_set_issuer_name(crl, X509_get_subject_name(certificate.pointer)) == 1 else {
            throw TrustError.openSSL(.cryptoFailure, "cannot fill the CRL")
        }
        for (time, setter) in [(thisUpdate, X509_CRL_set1_lastUpdate), (nextUpdate, X509_CRL_set1_nextUpdate)] {
            guard let asn1 = ASN1_TIME_set(nil, time_t(time)) else { throw TrustError.openSSL(.cryptoFailure, "cannot set CRL times") }
            defer { ASN1_TIME_free(asn1) }
            guard setter(crl, asn1) == 1 else { throw TrustError.openSSL(.cryptoFailure, "cannot set CRL times") }
        }
        for serial in revokedSerials {
            guard let revoked = X509_REVOKED_new(), let number = ASN1_INTEGER_new(), let date = ASN1_TIME_set(nil, time_t(thisUpdate)) else {
                throw TrustError.openSSL(.cryptoFailure, "cannot create a CRL entry")
            }
            defer {
                ASN1_INTEGER_free(number)
                ASN1_TIME_free(date)
            }
            guard ASN1_INTEGER_set_int64(number, Int64(serial)) == 1, X509_REVOKED_set_serialNumber(revoked, number) == 1,
                  X509_REVOKED_set_revocationDate(revoked, date) == 1, X509_CRL_add0_revoked(crl, revoked) == 1 else {
                X509_REVOKED_free(revoked)
                throw TrustError.openSSL(.cryptoFailure, "cannot add a CRL entry")
            }
        }
        X509_CRL_sort(crl)
        // OpenSSL 3.0 cannot be told a distinguishing ID when it checks a CRL's signature, so SM2 CRLs are
        // signed with its default ID; certificates and bulletins always carry the explicit one.
        try Self.sign(key, distinguishingID: false) { context in X509_CRL_sign_ctx(crl, context) }
        return list
    }

    // MARK: Building

    private static func build(
        subjectName: String, subjectKey: PrivateKey, issuer: Certificate?, issuerKey: PrivateKey, serial: Int,
        notBefore: Int, notAfter: Int, extensions: [(Int32, String)]
    ) throws(TrustError) -> Certificate {
        TrustError.clearQueue()
        guard let x509 = X509_new() else { throw TrustError.openSSL(.cryptoFailure, "cannot create a certificate") }
        let certificate = Certificate(owning: x509)
        guard X509_set_version(x509, 2) == 1, ASN1_INTEGER_set_int64(X509_get_serialNumber(x509), Int64(serial)) == 1,
              ASN1_TIME_set(X509_getm_notBefore(x509), time_t(notBefore)) != nil,
              ASN1_TIME_set(X509_getm_notAfter(x509), time_t(notAfter)) != nil,
              X509_set_pubkey(x509, subjectKey.pointer) == 1 else {
            throw TrustError.openSSL(.cryptoFailure, "cannot fill the certificate")
        }
        guard let name = X509_NAME_new() else { throw TrustError.openSSL(.cryptoFailure, "cannot create a name") }
        defer { X509_NAME_free(name) }
        let bytes = Array(subjectName.utf8)
        guard X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, bytes, Int32(bytes.count), -1, 0) == 1,
              X509_set_subject_name(x509, name) == 1,
              X509_set_issuer_name(x509, issuer.map { X509_get_subject_name($0.pointer) } ?? name) == 1 else {
            throw TrustError.openSSL(.cryptoFailure, "cannot set the names")
        }
        var context = X509V3_CTX()
        X509V3_set_ctx(&context, issuer?.pointer ?? x509, x509, nil, nil, 0)
        for (nid, value) in extensions {
            guard let `extension` = X509V3_EXT_conf_nid(nil, &context, nid, value) else {
                throw TrustError.openSSL(.cryptoFailure, "cannot build the extension \(value)")
            }
            defer { X509_EXTENSION_free(`extension`) }
            guard X509_add_ext(x509, `extension`, -1) == 1 else { throw TrustError.openSSL(.cryptoFailure, "cannot add an extension") }
        }
        try sign(issuerKey) { context in X509_sign_ctx(x509, context) }
        if issuerKey.algorithm == .sm2 { Certificate.setSM2DistinguishingID(x509) }
        return certificate
    }

    /// Runs an OpenSSL `…_sign_ctx` with a digest context for `key` (SM3 and the distinguishing ID for SM2).
    private static func sign(_ key: PrivateKey, distinguishingID: Bool = true, _ body: (OpaquePointer) -> Int32) throws(TrustError) {
        guard let context = EVP_MD_CTX_new() else { throw TrustError.openSSL(.cryptoFailure, "cannot create a digest context") }
        defer { EVP_MD_CTX_free(context) }
        var keyContext: OpaquePointer?
        if key.algorithm == .sm2, distinguishingID {
            guard let created = EVP_PKEY_CTX_new(key.pointer, nil) else { throw TrustError.openSSL(.cryptoFailure, "cannot create an SM2 context") }
            keyContext = created
            guard EVP_PKEY_CTX_set1_id(created, Signature.sm2DistinguishingID, Int32(Signature.sm2DistinguishingID.count)) == 1 else {
                EVP_PKEY_CTX_free(created)
                throw TrustError.openSSL(.cryptoFailure, "cannot set the SM2 distinguishing ID")
            }
            EVP_MD_CTX_set_pkey_ctx(context, created)
        }
        defer { if let keyContext { EVP_PKEY_CTX_free(keyContext) } }
        let digest = key.algorithm == .sm2 ? EVP_sm3() : EVP_sha256()
        guard EVP_DigestSignInit(context, nil, digest, nil, key.pointer) == 1 else { throw TrustError.openSSL(.cryptoFailure, "cannot start signing") }
        guard body(context) > 0 else { throw TrustError.openSSL(.cryptoFailure, "signing failed") }
    }
}
