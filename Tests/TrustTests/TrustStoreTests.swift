import Foundation
import Testing
import Trust

@Suite("trust store: chains, CRLs, validity, key usage, participant binding")
struct TrustStoreTests {
    static let now = Int(Date().timeIntervalSince1970)
    static let day = 86_400

    struct PKI {
        let authority: CertificateAuthority
        let store: TrustStore
        let leafKey: PrivateKey
        let leaf: Certificate
    }

    /// A root with a CRL revoking serial 99, and a valid certificate for 440800-HEALTH (serial 10).
    static func pki(_ algorithm: KeyAlgorithm) throws -> PKI {
        let authority = try CertificateAuthority.root(name: "Tongbao Test Root", algorithm: algorithm, notBefore: now - day, notAfter: now + 365 * day)
        let crl = try authority.revocationList(revokedSerials: [99], thisUpdate: now - day, nextUpdate: now + 300 * day)
        let key = try PrivateKey.generate(algorithm)
        let leaf = try authority.issue(commonName: "湛江市卫生健康局", participant: "440800-HEALTH", subjectKey: key, serial: 10,
                                       notBefore: now - day, notAfter: now + 90 * day)
        return PKI(authority: authority, store: TrustStore(roots: [authority.certificate], revocationLists: [crl]), leafKey: key, leaf: leaf)
    }

    func code(_ body: () throws -> Void) -> String? { trustErrorCode(body) }

    @Test("a participant certificate verifies and names its participant", arguments: KeyAlgorithm.allCases)
    func valid(algorithm: KeyAlgorithm) throws {
        let pki = try Self.pki(algorithm)
        #expect(try pki.store.verify(pki.leaf, at: Self.now, participant: "440800-HEALTH") == ["440800-HEALTH"])
        #expect(pki.leaf.allowsDigitalSignature)
        #expect(pki.leaf.serialNumber == 10)
        #expect(try pki.leaf.publicKey().algorithm == algorithm)
        #expect(try Certificate(der: try pki.leaf.der()).participantCodes == ["440800-HEALTH"])
    }

    @Test("each failure has its code", arguments: KeyAlgorithm.allCases)
    func failures(algorithm: KeyAlgorithm) throws {
        let pki = try Self.pki(algorithm)
        let key = try PrivateKey.generate(algorithm)
        let revoked = try pki.authority.issue(commonName: "revoked", participant: "440800-HEALTH", subjectKey: key, serial: 99,
                                              notBefore: Self.now - Self.day, notAfter: Self.now + 90 * Self.day)
        #expect(code { try pki.store.verify(revoked, at: Self.now) } == "certificate-revoked")
        let expired = try pki.authority.issue(commonName: "expired", participant: "440800-HEALTH", subjectKey: key, serial: 11,
                                              notBefore: Self.now - 10 * Self.day, notAfter: Self.now - 2 * Self.day)
        #expect(code { try pki.store.verify(expired, at: Self.now) } == "certificate-expired")
        #expect(code { try pki.store.verify(pki.leaf, at: Self.now + 200 * Self.day) } == "certificate-expired")
        let noSigning = try pki.authority.issue(commonName: "no signing", participant: "440800-HEALTH", subjectKey: key, serial: 12,
                                                notBefore: Self.now - Self.day, notAfter: Self.now + 90 * Self.day, keyUsage: "critical,keyAgreement")
        #expect(code { try pki.store.verify(noSigning, at: Self.now) } == "key-usage")
        #expect(code { try pki.store.verify(pki.leaf, at: Self.now, participant: "440800-DRUG") } == "issuer-mismatch")
        // A self-made authority claiming the same participant is not trusted.
        let impostor = try CertificateAuthority.root(name: "Tongbao Test Root", algorithm: algorithm, notBefore: Self.now - Self.day, notAfter: Self.now + 365 * Self.day)
        let forged = try impostor.issue(commonName: "湛江市卫生健康局", participant: "440800-HEALTH", subjectKey: key, serial: 10,
                                        notBefore: Self.now - Self.day, notAfter: Self.now + 90 * Self.day)
        #expect(code { try pki.store.verify(forged, at: Self.now, participant: "440800-HEALTH") } == "untrusted-signer")
        #expect(code { try pki.store.verify(impostor.certificate, at: Self.now) } == "untrusted-signer")
        // An out-of-date CRL stops everything: revocation could not be checked.
        let stale = TrustStore(roots: [pki.authority.certificate], revocationLists: [
            try pki.authority.revocationList(revokedSerials: [], thisUpdate: Self.now - 60 * Self.day, nextUpdate: Self.now - Self.day),
        ])
        #expect(code { try stale.verify(pki.leaf, at: Self.now) } == "crl-stale")
        // Without a CRL for the root, nothing verifies: revocation is checked for every certificate.
        let noCRL = TrustStore(roots: [pki.authority.certificate])
        #expect(code { try noCRL.verify(pki.leaf, at: Self.now) } == "untrusted-signer")
    }

    @Test("a stale CRL is used within the grace period the operator allowed, with its revocations, and refused after it; a certificate expired meanwhile is still refused")
    func crlGrace() throws {
        let pki = try Self.pki(.ecdsa)
        let key = try PrivateKey.generate(.ecdsa)
        let revoked = try pki.authority.issue(commonName: "revoked", participant: "440800-HEALTH", subjectKey: key, serial: 99,
                                              notBefore: Self.now - 10 * Self.day, notAfter: Self.now + 90 * Self.day)
        let expiredMeanwhile = try pki.authority.issue(commonName: "expired an hour ago", participant: "440800-HEALTH", subjectKey: key, serial: 13,
                                                       notBefore: Self.now - 10 * Self.day, notAfter: Self.now - 3600)
        // The CRL went stale two hours ago.
        let list = try pki.authority.revocationList(revokedSerials: [99], thisUpdate: Self.now - 30 * Self.day, nextUpdate: Self.now - 7200)
        let strict = TrustStore(roots: [pki.authority.certificate], revocationLists: [list])
        let lenient = TrustStore(roots: [pki.authority.certificate], revocationLists: [list], crlGrace: 6 * 3600)
        let tooShort = TrustStore(roots: [pki.authority.certificate], revocationLists: [list], crlGrace: 3600)
        #expect(code { try strict.verify(pki.leaf, at: Self.now) } == "crl-stale", "no grace: fail closed")
        #expect(try lenient.verify(pki.leaf, at: Self.now, participant: "440800-HEALTH") == ["440800-HEALTH"], "within the 6 h grace")
        #expect(code { try lenient.verify(revoked, at: Self.now) } == "certificate-revoked", "the stale CRL's revocations still count")
        #expect(code { try lenient.verify(expiredMeanwhile, at: Self.now) } == "certificate-expired", "validity is checked now, not when the CRL was current")
        #expect(code { try tooShort.verify(pki.leaf, at: Self.now) } == "crl-stale", "the 1 h grace is over")
        #expect(code { try lenient.verify(pki.leaf, at: Self.now + 5 * 3600) } == "crl-stale", "remembered only until the grace ends")
    }

    @Test("a verified chain is remembered only for the time it holds: certificate validity and CRL currency", arguments: KeyAlgorithm.allCases)
    func rememberedChains(algorithm: KeyAlgorithm) throws {
        let pki = try Self.pki(algorithm)
        // The CRL is current for 10 more days; the leaf for 90.
        let store = TrustStore(roots: [pki.authority.certificate], revocationLists: [
            try pki.authority.revocationList(revokedSerials: [99], thisUpdate: Self.now - Self.day, nextUpdate: Self.now + 10 * Self.day),
        ])
        for _ in 0..<3 { #expect(try store.verify(pki.leaf, at: Self.now) == ["440800-HEALTH"]) }
        // The same bytes parsed again (as every bulletin's x5c is) hit the remembered result and still get every check.
        let again = try Certificate.cached(der: try pki.leaf.der())
        #expect(try store.verify(again, at: Self.now + 5 * Self.day, participant: "440800-HEALTH") == ["440800-HEALTH"])
        #expect(code { try store.verify(again, at: Self.now, participant: "440800-DRUG") } == "issuer-mismatch")
        // Outside the period the full check runs again and refuses.
        #expect(code { try store.verify(again, at: Self.now + 20 * Self.day) } == "crl-stale")     // the CRL is out of date
        // Before the leaf and the CRL were issued: OpenSSL names the CRL first.
        #expect(code { try store.verify(again, at: Self.now - 2 * Self.day) } == "crl-stale")   // not yet valid either
        #expect(try pki.store.verify(pki.leaf, at: Self.now) == ["440800-HEALTH"])   // its CRL is current for 300 days
        #expect(code { try pki.store.verify(pki.leaf, at: Self.now + 100 * Self.day) } == "certificate-expired")
        // And the remembered result was not replaced by those refusals.
        #expect(try store.verify(pki.leaf, at: Self.now + Self.day) == ["440800-HEALTH"])
        // Key usage is checked on every call, remembered chain or not.
        let key = try PrivateKey.generate(algorithm)
        let noSigning = try pki.authority.issue(commonName: "no signing", participant: "440800-HEALTH", subjectKey: key, serial: 12,
                                                notBefore: Self.now - Self.day, notAfter: Self.now + 90 * Self.day, keyUsage: "critical,keyAgreement")
        for _ in 0..<2 { #expect(code { try store.verify(noSigning, at: Self.now) } == "key-usage") }
        #expect(try Certificate.cached(der: try pki.leaf.der()) === again)
    }

    @Test("a trust store loads from the cli.md layout")
    func directoryLayout() throws {
        let pki = try Self.pki(.ecdsa)
        let folder = try OpenSSLCLI.scratch()
        for sub in ["roots", "intermediates", "crl"] {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent(sub), withIntermediateDirectories: true)
        }
        try Data(try pki.authority.certificate.pem()).write(to: folder.appendingPathComponent("roots/root.pem"))
        let crl = try pki.authority.revocationList(revokedSerials: [10], thisUpdate: Self.now - Self.day, nextUpdate: Self.now + 30 * Self.day)
        try Data(try crl.pem()).write(to: folder.appendingPathComponent("crl/root.pem"))
        let store = try TrustStore(directory: folder.path)
        #expect(code { try store.verify(pki.leaf, at: Self.now) } == "certificate-revoked")
        #expect(code { _ = try TrustStore(directory: folder.appendingPathComponent("nowhere").path) } == "trust-store-unreadable")
    }

    @Test("openssl verify accepts our chains and sees our revocations", arguments: KeyAlgorithm.allCases)
    func openSSLVerify(algorithm: KeyAlgorithm) throws {
        let pki = try Self.pki(algorithm)
        let folder = try OpenSSLCLI.scratch()
        try Data(try pki.authority.certificate.pem()).write(to: folder.appendingPathComponent("root.pem"))
        try Data(try pki.leaf.pem()).write(to: folder.appendingPathComponent("leaf.pem"))
        let crl = try pki.authority.revocationList(revokedSerials: [99], thisUpdate: Self.now - Self.day, nextUpdate: Self.now + 30 * Self.day)
        try Data(try crl.pem()).write(to: folder.appendingPathComponent("crl.pem"))
        let sm2 = algorithm == .sm2 ? ["-vfyopt", "distid:1234567812345678"] : []
        let result = try OpenSSLCLI.run(["verify", "-CAfile", "root.pem", "-crl_check", "-CRLfile", "crl.pem"] + sm2 + ["leaf.pem"], in: folder)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("leaf.pem: OK"))
        let revokedCRL = try pki.authority.revocationList(revokedSerials: [10], thisUpdate: Self.now - Self.day, nextUpdate: Self.now + 30 * Self.day)
        try Data(try revokedCRL.pem()).write(to: folder.appendingPathComponent("revoked.pem"))
        let refused = try OpenSSLCLI.run(["verify", "-CAfile", "root.pem", "-crl_check", "-CRLfile", "revoked.pem"] + sm2 + ["leaf.pem"], in: folder)
        #expect(refused.status != 0)
        #expect(refused.output.contains("revoked"))
    }
}
