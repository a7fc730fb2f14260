import COpenSSL
import Synchronization

/// Certificates parsed from DER, by their DER (``Certificate/cached(der:)``).
private let parsedCertificates = Mutex<[[UInt8]: Certificate]>([:])

/// An X.509 certificate, owned.
public final class Certificate: @unchecked Sendable {
    // Immutable after creation (the SM2 distinguishing ID is set once, in the initializer).
    let pointer: OpaquePointer
    /// Its DER: the bytes it was read from, or encoded once when it was made (JWS signing puts it in every
    /// `x5c`).
    private let encoded: [UInt8]?
    /// The public key, once read.
    private let key = Mutex<PublicKey?>(nil)

    /// The URI prefix that binds a certificate to a participant (cli.md).
    public static let participantURIPrefix = "urn:tongbao:participant:"

    init(owning pointer: OpaquePointer, der: [UInt8]? = nil) {
        self.pointer = pointer
        encoded = der ?? Self.encode(pointer)
        if X509_get_signature_nid(pointer) == NID_SM2_with_SM3 { Self.setSM2DistinguishingID(pointer) }
    }

    deinit {
        X509_free(pointer)
    }

    /// Reads the first certificate of a PEM text.
    public convenience init(pem: [UInt8]) throws(TrustError) {
        TrustError.clearQueue()
        let certificate = try MemoryBIO.reading(pem) { bio in PEM_read_bio_X509(bio, nil, nil, nil) }
        guard let certificate else { throw TrustError.openSSL(.malformedCertificate, "no PEM certificate found") }
        self.init(owning: certificate)
    }

    /// Reads a DER certificate.
    public convenience init(der: [UInt8]) throws(TrustError) {
        TrustError.clearQueue()
        var cursor: UnsafePointer<UInt8>?
        let parsed: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            cursor = buffer.baseAddress
            return d2i_X509(nil, &cursor, buffer.count)
        }
        guard let parsed else { throw TrustError.openSSL(.malformedCertificate, "not a DER certificate") }
        self.init(owning: parsed, der: der)
    }

    /// The certificate encoded by `der`, parsed once and then shared: the same few certificates arrive with
    /// every bulletin (`x5c`, `ds:X509Certificate`) and every TLS request. A bounded cache.
    public static func cached(der: [UInt8]) throws(TrustError) -> Certificate {
        if let known = parsedCertificates.withLock({ $0[der] }) { return known }
        let certificate = try Certificate(der: der)
        parsedCertificates.withLock { cache in
            if cache.count >= 4096 { cache.removeAll(keepingCapacity: true) }
            cache[der] = certificate
        }
        return certificate
    }

    /// Every certificate of a PEM text, in order.
    public static func all(pem: [UInt8]) throws(TrustError) -> [Certificate] {
        TrustError.clearQueue()
        return try MemoryBIO.reading(pem) { bio in
            var certificates: [Certificate] = []
            while let certificate = PEM_read_bio_X509(bio, nil, nil, nil) {
                certificates.append(Certificate(owning: certificate))
            }
            TrustError.clearQueue()  // the end of the text reads as an error
            return certificates
        }
    }

    /// The DER encoding.
    public func der() throws(TrustError) -> [UInt8] {
        guard let der = encoded ?? Self.encode(pointer) else { throw TrustError.openSSL(.cryptoFailure, "cannot encode a certificate") }
        return der
    }

    private static func encode(_ certificate: OpaquePointer) -> [UInt8]? {
        var output: UnsafeMutablePointer<UInt8>?
        let length = i2d_X509(certificate, &output)
        guard length > 0, let output else { return nil }
        defer { tongbao_openssl_free(output) }
        return Array(UnsafeBufferPointer(start: output, count: Int(length)))
    }

    /// The PEM encoding.
    public func pem() throws(TrustError) -> [UInt8] {
        try MemoryBIO.writing { bio in PEM_write_bio_X509(bio, pointer) }
    }

    /// The subject, one line (`/CN=…`).
    public var subject: String {
        guard let line = X509_NAME_oneline(X509_get_subject_name(pointer), nil, 0) else { return "" }
        defer { tongbao_openssl_free(line) }
        return String(cString: line)
    }

    /// The serial number, when it fits 64 bits.
    public var serialNumber: Int? {
        var value: Int64 = 0
        guard ASN1_INTEGER_get_int64(&value, X509_get0_serialNumber(pointer)) == 1 else { return nil }
        return Int(value)
    }

    /// The participant codes bound by subjectAltName URIs `urn:tongbao:participant:CODE`.
    public var participantCodes: [String] {
        var codes: [String] = []
        var buffer = [CChar](repeating: 0, count: 512)
        for index in 0..<tongbao_x509_uri_count(pointer) {
            let length = tongbao_x509_uri(pointer, index, &buffer, Int32(buffer.count))
            guard length > 0 else { continue }
            let uri = String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if uri.hasPrefix(Self.participantURIPrefix) { codes.append(String(uri.dropFirst(Self.participantURIPrefix.count))) }
        }
        return codes
    }

    /// Whether the certificate has a key-usage extension that includes digitalSignature.
    public var allowsDigitalSignature: Bool {
        (X509_get_extension_flags(pointer) & UInt32(EXFLAG_KUSAGE)) != 0 && (X509_get_key_usage(pointer) & UInt32(KU_DIGITAL_SIGNATURE)) != 0
    }

    /// The start of validity, in seconds since 1970.
    public var notBefore: Int { Self.seconds(X509_get0_notBefore(pointer)) }
    /// The end of validity, in seconds since 1970.
    public var notAfter: Int { Self.seconds(X509_get0_notAfter(pointer)) }

    /// The certified public key (read once; its prepared verifying contexts are kept with it).
    public func publicKey() throws(TrustError) -> PublicKey {
        if let known = key.withLock({ $0 }) { return known }
        guard let pointer = X509_get_pubkey(pointer) else { throw TrustError.openSSL(.malformedCertificate, "the certificate has no usable key") }
        let read = try PublicKey(owning: pointer)
        return key.withLock { key in
            if let first = key { return first }
            key = read
            return read
        }
    }

    static func seconds(_ time: UnsafePointer<ASN1_TIME>?) -> Int {
        var parts = tm()
        guard let time, ASN1_TIME_to_tm(time, &parts) == 1 else { return 0 }
        return Int(timegm(&parts))
    }

    /// SM2-signed certificates verify only with the distinguishing ID that signed them (gateway.md §3).
    static func setSM2DistinguishingID(_ certificate: OpaquePointer) {
        guard let identifier = ASN1_OCTET_STRING_new() else { return }
        guard ASN1_OCTET_STRING_set(identifier, Signature.sm2DistinguishingID, Int32(Signature.sm2DistinguishingID.count)) == 1 else {
            ASN1_OCTET_STRING_free(identifier)
            return
        }
        X509_set0_distinguishing_id(certificate, identifier)
    }
}

/// A certificate revocation list, owned.
public final class RevocationList: @unchecked Sendable {
    let pointer: OpaquePointer

    init(owning pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit {
        X509_CRL_free(pointer)
    }

    /// Reads a PEM CRL.
    public convenience init(pem: [UInt8]) throws(TrustError) {
        TrustError.clearQueue()
        let crl = try MemoryBIO.reading(pem) { bio in PEM_read_bio_X509_CRL(bio, nil, nil, nil) }
        guard let crl else { throw TrustError.openSSL(.malformedCertificate, "not a PEM CRL") }
        self.init(owning: crl)
    }

    /// The PEM encoding.
    public func pem() throws(TrustError) -> [UInt8] {
        try MemoryBIO.writing { bio in PEM_write_bio_X509_CRL(bio, pointer) }
    }

    /// The issuer's distinguished name, one line (`/CN=…`).
    public var issuerName: String {
        guard let line = X509_NAME_oneline(X509_CRL_get_issuer(pointer), nil, 0) else { return "" }
        defer { tongbao_openssl_free(line) }
        return String(cString: line)
    }

    /// When the list was issued (seconds since 1970).
    public var thisUpdate: Int { Certificate.seconds(X509_CRL_get0_lastUpdate(pointer)) }

    /// When the next list is due (seconds since 1970); after it, this one no longer proves anything.
    public var nextUpdate: Int? {
        X509_CRL_get0_nextUpdate(pointer).map { Certificate.seconds($0) }
    }
}
