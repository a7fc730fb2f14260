import Foundation
import Testing
import TongbaoTestSupport
import Trust
import XMLSupport

@Suite("XML-DSig")
struct XMLSignatureTests {
    static let now = Int(Date().timeIntervalSince1970)
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let bulletin = Array((try? Data(contentsOf: repository.appendingPathComponent("examples/bulletins/licence-revocation.xml"))) ?? Data())
    let signer = XMLSignature()

    @Test("sign and verify for every algorithm; the verified bytes are the canonical unsigned document", arguments: KeyAlgorithm.allCases)
    func roundTrip(algorithm: KeyAlgorithm) throws {
        let pki = try TrustStoreTests.pki(algorithm)
        let signed = try signer.sign(Self.bulletin, key: pki.leafKey, certificate: pki.leaf)
        let verified = try signer.verify(signed, trust: pki.store, at: [Self.now], participant: "440800-HEALTH")
        #expect(verified.participants == ["440800-HEALTH"])
        let text = String(decoding: verified.canonical, as: UTF8.self)
        #expect(text.hasPrefix("<Bulletin xmlns=\"urn:tongbao:bulletin:1\">"))
        #expect(!text.contains("Signature"))
        #expect(text.contains("<decisionNo>湛卫医罚〔2025〕12号</decisionNo>"))
    }
}

@Suite("XML-DSig interop with xmlsec1")
struct XMLSecInteropTests {
    static func xmlsec(_ arguments: [String], in folder: URL) throws -> ExternalCommand.Result {
        try ExternalCommand.run("xmlsec1", arguments, in: folder)
    }

    @Test("xmlsec1 verifies our signatures, and its signatures of the profile's shape verify here", arguments: [KeyAlgorithm.rsa, .ecdsa])
    func interop(algorithm: KeyAlgorithm) throws {
        let pki = try TrustStoreTests.pki(algorithm)
        let folder = try OpenSSLCLI.scratch()
        try Data(try pki.authority.certificate.pem()).write(to: folder.appendingPathComponent("root.pem"))
        try Data(try pki.leaf.pem()).write(to: folder.appendingPathComponent("cert.pem"))
        try Data(try pki.leafKey.pem()).write(to: folder.appendingPathComponent("key.pem"))

        let ours = try XMLSignature().sign(XMLSignatureTests.bulletin, key: pki.leafKey, certificate: pki.leaf)
        try Data(ours).write(to: folder.appendingPathComponent("ours.xml"))
        let check = try Self.xmlsec(["--verify", "--enabled-key-data", "x509", "--enabled-reference-uris", "empty",
                                     "--trusted-pem", "root.pem", "ours.xml"], in: folder)
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("OK"))

        let method = algorithm == .rsa ? XMLSignature.URI.rsaSHA256 : XMLSignature.URI.ecdsaSHA256
        let template = "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo>"
            + "<ds:CanonicalizationMethod Algorithm=\"\(XMLSignature.URI.exclusiveC14N)\"/><ds:SignatureMethod Algorithm=\"\(method)\"/>"
            + "<ds:Reference URI=\"\"><ds:Transforms><ds:Transform Algorithm=\"\(XMLSignature.URI.envelopedSignature)\"/>"
            + "<ds:Transform Algorithm=\"\(XMLSignature.URI.exclusiveC14N)\"/></ds:Transforms>"
            + "<ds:DigestMethod Algorithm=\"\(XMLSignature.URI.sha256)\"/><ds:DigestValue/></ds:Reference></ds:SignedInfo>"
            + "<ds:SignatureValue/><ds:KeyInfo><ds:X509Data><ds:X509Certificate/></ds:X509Data></ds:KeyInfo></ds:Signature>"
        let unsigned = String(decoding: XMLSignatureTests.bulletin, as: UTF8.self)
        let withTemplate = unsigned.replacingOccurrences(of: "</Bulletin>", with: template + "</Bulletin>")
        try Data(withTemplate.utf8).write(to: folder.appendingPathComponent("template.xml"))
        let signing = try Self.xmlsec(["--sign", "--privkey-pem", "key.pem,cert.pem", "--output", "theirs.xml", "template.xml"], in: folder)
        #expect(signing.status == 0, "\(signing.output)")
        let theirs = Array(try Data(contentsOf: folder.appendingPathComponent("theirs.xml")))
        let verified = try XMLSignature().verify(theirs, trust: pki.store, at: [TrustStoreTests.now], participant: "440800-HEALTH")
        #expect(verified.participants == ["440800-HEALTH"])
    }
}

@Suite("XML-DSig attack corpus")
struct XMLSignatureAttackTests {
    let signer = XMLSignature()

    func code(_ document: String, store: TrustStore, participant: String? = "440800-HEALTH") -> String? {
        do {
            _ = try signer.verify(Array(document.utf8), trust: store, at: [TrustStoreTests.now], participant: participant)
            return nil
        } catch {
            return error.code.description
        }
    }

    @Test("each attack is refused with its code")
    func attacks() throws {
        let pki = try TrustStoreTests.pki(.rsa)
        let signed = String(decoding: try signer.sign(XMLSignatureTests.bulletin, key: pki.leafKey, certificate: pki.leaf), as: UTF8.self)
        let store = pki.store
        #expect(code(signed, store: store) == nil)
        let declaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
        let bare = signed.replacingOccurrences(of: declaration + "\n", with: "")
        let start = bare.range(of: "<ds:Signature")?.lowerBound
        let signatureXML = start.map { String(bare[$0...]).replacingOccurrences(of: "</Bulletin>\n", with: "") } ?? ""
        #expect(signatureXML.hasPrefix("<ds:Signature") && signatureXML.hasSuffix("</ds:Signature>"))

        let cases: [(String, String, String)] = [
            ("tampered content", signed.replacingOccurrences(of: "D440802000789", with: "D440802000780"), "signature-invalid"),
            ("wrapping: the signed original moved under a new root",
             declaration + "<Wrapper>" + bare + "</Wrapper>", "profile-violation"),
            ("wrapping: an evil bulletin around the signed one",
             bare.replacingOccurrences(of: "<Bulletin xmlns=\"urn:tongbao:bulletin:1\">", with: "<Bulletin xmlns=\"urn:tongbao:bulletin:1\"><Evil>")
                .replacingOccurrences(of: "<ds:Signature xmlns", with: "</Evil><ds:Signature xmlns"), "signature-invalid"),
            ("a second signature", signed.replacingOccurrences(of: "</ds:Signature>", with: "</ds:Signature>" + signatureXML), "profile-violation"),
            ("ds:Object injection", signed.replacingOccurrences(of: "</ds:KeyInfo>", with: "</ds:KeyInfo><ds:Object>evil</ds:Object>"), "profile-violation"),
            ("KeyValue with an attacker key",
             signed.replacingOccurrences(of: "<ds:X509Data>", with: "<ds:KeyValue><ds:RSAKeyValue><ds:Modulus>AQAB</ds:Modulus><ds:Exponent>AQAB</ds:Exponent></ds:RSAKeyValue></ds:KeyValue><ds:X509Data>"),
             "profile-violation"),
            ("SHA-1 digest", signed.replacingOccurrences(of: XMLSignature.URI.sha256, with: "http://www.w3.org/2000/09/xmldsig#sha1"), "profile-violation"),
            ("RSA-SHA1 signature", signed.replacingOccurrences(of: XMLSignature.URI.rsaSHA256, with: "http://www.w3.org/2000/09/xmldsig#rsa-sha1"), "profile-violation"),
            ("XPath transform",
             signed.replacingOccurrences(of: "<ds:Transform Algorithm=\"\(XMLSignature.URI.envelopedSignature)\"/>",
                                         with: "<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xpath-19991116\"><ds:XPath>not(ancestor-or-self::ds:Signature)</ds:XPath></ds:Transform>"),
             "profile-violation"),
            ("XSLT transform",
             signed.replacingOccurrences(of: "<ds:Transform Algorithm=\"\(XMLSignature.URI.envelopedSignature)\"/>",
                                         with: "<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xslt-19991116\"/>"),
             "profile-violation"),
            ("InclusiveNamespaces", signed.replacingOccurrences(of: "<ds:Transform Algorithm=\"\(XMLSignature.URI.exclusiveC14N)\"/>",
                                                                with: "<ds:Transform Algorithm=\"\(XMLSignature.URI.exclusiveC14N)\"><ec:InclusiveNamespaces xmlns:ec=\"http://www.w3.org/2001/10/xml-exc-c14n#\" PrefixList=\"\"/></ds:Transform>"),
             "profile-violation"),
            ("a file: reference", signed.replacingOccurrences(of: "<ds:Reference URI=\"\">", with: "<ds:Reference URI=\"file:///etc/passwd\">"), "profile-violation"),
            ("an XPointer reference", signed.replacingOccurrences(of: "<ds:Reference URI=\"\">", with: "<ds:Reference URI=\"#xpointer(/)\">"), "profile-violation"),
            ("a DTD", signed.replacingOccurrences(of: declaration, with: declaration + "<!DOCTYPE Bulletin>"), "profile-violation"),
            ("comment injection in signed text", signed.replacingOccurrences(of: "D440802000789", with: "D440802<!---->000789"), "profile-violation"),
            ("not signed", String(decoding: XMLSignatureTests.bulletin, as: UTF8.self), "profile-violation"),
        ]
        for (name, document, expected) in cases {
            #expect(code(document, store: store) == expected, "\(name)")
        }
        // A valid signature by another participant.
        #expect(code(signed, store: store, participant: "440800-DRUG") == "issuer-mismatch")
    }

    @Test("untrusted, revoked, expired, non-signing and weak signers are refused")
    func signers() throws {
        let pki = try TrustStoreTests.pki(.ecdsa)
        let now = TrustStoreTests.now
        let day = 86_400
        func signedBy(_ certificate: Certificate, _ key: PrivateKey) throws -> String {
            String(decoding: try signer.sign(XMLSignatureTests.bulletin, key: key, certificate: certificate), as: UTF8.self)
        }
        let key = try PrivateKey.generate(.ecdsa)
        let impostor = try CertificateAuthority.root(name: "Tongbao Test Root", algorithm: .ecdsa, notBefore: now - day, notAfter: now + day)
        let selfMade = try impostor.issue(commonName: "x", participant: "440800-HEALTH", subjectKey: key, serial: 10, notBefore: now - day, notAfter: now + day)
        #expect(code(try signedBy(selfMade, key), store: pki.store) == "untrusted-signer")
        let revoked = try pki.authority.issue(commonName: "r", participant: "440800-HEALTH", subjectKey: key, serial: 99, notBefore: now - day, notAfter: now + day)
        #expect(code(try signedBy(revoked, key), store: pki.store) == "certificate-revoked")
        let expired = try pki.authority.issue(commonName: "e", participant: "440800-HEALTH", subjectKey: key, serial: 14, notBefore: now - 9 * day, notAfter: now - day)
        #expect(code(try signedBy(expired, key), store: pki.store) == "certificate-expired")
        let noSigning = try pki.authority.issue(commonName: "n", participant: "440800-HEALTH", subjectKey: key, serial: 15, notBefore: now - day,
                                                notAfter: now + day, keyUsage: "critical,keyAgreement")
        #expect(code(try signedBy(noSigning, key), store: pki.store) == "key-usage")
        // A self-signed certificate (made by openssl) that claims the participant and allows signing.
        let folder = try OpenSSLCLI.scratch()
        let made = try OpenSSLCLI.run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "self.key",
                                       "-out", "self.pem", "-days", "30", "-subj", "/CN=湛江市卫生健康局",
                                       "-addext", "subjectAltName=URI:urn:tongbao:participant:440800-HEALTH",
                                       "-addext", "keyUsage=critical,digitalSignature"], in: folder)
        #expect(made.status == 0, "\(made.output)")
        let selfKey = try PrivateKey(pem: Array(try Data(contentsOf: folder.appendingPathComponent("self.key"))))
        let selfSigned = try Certificate(pem: Array(try Data(contentsOf: folder.appendingPathComponent("self.pem"))))
        #expect(selfSigned.participantCodes == ["440800-HEALTH"])
        #expect(code(try signedBy(selfSigned, selfKey), store: pki.store) == "untrusted-signer")
    }
}

@Suite("XML-DSig SM2 interop with openssl")
struct XMLSignatureSM2Tests {
    @Test("the SM2 SignatureValue verifies in openssl dgst -sm3 over the canonical SignedInfo, and openssl's verifies here")
    func sm2() throws {
        let pki = try TrustStoreTests.pki(.sm2)
        let signed = try XMLSignature().sign(XMLSignatureTests.bulletin, key: pki.leafKey, certificate: pki.leaf)
        let document = try XMLDocument(parsing: signed)
        let signature = try #require(document.root.children.last)
        let signedInfo = try #require(signature.children.first)
        let canonical = try document.exclusiveCanonicalForm(of: signedInfo, excluding: nil)
        #expect(String(decoding: canonical, as: UTF8.self).hasPrefix("<ds:SignedInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">"))
        let value = try #require(Data(base64Encoded: signature.children[1].text))
        let folder = try OpenSSLCLI.scratch()
        try Data(canonical).write(to: folder.appendingPathComponent("signedinfo"))
        try Data(try Signature.derSignature(fromRaw: Array(value))).write(to: folder.appendingPathComponent("sig.der"))
        try Data(try pki.leafKey.publicKeyPEM()).write(to: folder.appendingPathComponent("pub.pem"))
        try Data(try pki.leafKey.pem()).write(to: folder.appendingPathComponent("key.pem"))
        let check = try OpenSSLCLI.run(["dgst", "-sm3", "-verify", "pub.pem", "-sigopt", "distid:1234567812345678", "-signature", "sig.der", "signedinfo"], in: folder)
        #expect(check.output.contains("Verified OK"), "\(check.output)")
        // openssl signs the same SignedInfo; with its value in place the document verifies here.
        #expect(try OpenSSLCLI.run(["dgst", "-sm3", "-sign", "key.pem", "-sigopt", "distid:1234567812345678", "-out", "theirs.der", "signedinfo"], in: folder).status == 0)
        let theirs = try Signature.rawSignature(fromDER: Array(try Data(contentsOf: folder.appendingPathComponent("theirs.der"))))
        let replaced = String(decoding: signed, as: UTF8.self).replacingOccurrences(of: signature.children[1].text, with: Data(theirs).base64EncodedString())
        let verified = try XMLSignature().verify(Array(replaced.utf8), trust: pki.store, at: [TrustStoreTests.now], participant: "440800-HEALTH")
        #expect(verified.participants == ["440800-HEALTH"])
    }
}
