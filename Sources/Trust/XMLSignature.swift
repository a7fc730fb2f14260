import COpenSSL
import Foundation
import XMLSupport

/// Enveloped XML-DSig exactly as gateway.md §3 profiles it; anything else is refused.
///
/// One `ds:Signature`, the root's last child, holding only `SignedInfo`, `SignatureValue` and `KeyInfo`;
/// one `Reference` with `URI=""`; transforms exactly [enveloped-signature, exclusive C14N]; exclusive C14N
/// without comments; SHA-256 with RSA-SHA256 or ECDSA-SHA256 (raw r‖s), SM3 with SM2-SM3; the key only
/// from one `X509Certificate` that chains to the trust store. Verification returns the verified canonical
/// bytes, and callers read only those.
public struct XMLSignature: Sendable {
    /// Algorithm identifiers.
    public enum URI {
        /// The XML-DSig namespace.
        public static let signatureNamespace = "http://www.w3.org/2000/09/xmldsig#"
        /// Exclusive XML canonicalization 1.0, without comments.
        public static let exclusiveC14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
        /// The enveloped-signature transform.
        public static let envelopedSignature = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
        /// SHA-256.
        public static let sha256 = "http://www.w3.org/2001/04/xmlenc#sha256"
        /// RSA with SHA-256 (PKCS #1 v1.5).
        public static let rsaSHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
        /// ECDSA with SHA-256; the value is raw r‖s.
        public static let ecdsaSHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
    }

    /// The SM2-with-SM3 signature URI (no registered URI exists; configurable).
    public var sm2SignatureURI: String
    /// The SM3 digest URI used with SM2 (configurable).
    public var sm3DigestURI: String

    /// Creates a signer/verifier with the SM2 URIs of gateway.md §3 by default.
    public init(sm2SignatureURI: String = "http://www.chinaport.gov.cn/2022/04/xmldsig#sm2-sm3",
                sm3DigestURI: String = "http://www.chinaport.gov.cn/2022/04/xmldsig#sm3") {
        self.sm2SignatureURI = sm2SignatureURI
        self.sm3DigestURI = sm3DigestURI
    }

    /// A verified document.
    public struct Verified: Sendable {
        /// The exclusive canonical form of the document without its signature: exactly what was signed.
        public let canonical: [UInt8]
        /// The signer's certificate.
        public let signer: Certificate
        /// The participant codes the signer's certificate is bound to.
        public let participants: [String]
    }

    func uris(for algorithm: KeyAlgorithm) -> (signature: String, digest: String) {
        switch algorithm {
        case .rsa: (URI.rsaSHA256, URI.sha256)
        case .ecdsa: (URI.ecdsaSHA256, URI.sha256)
        case .sm2: (sm2SignatureURI, sm3DigestURI)
        }
    }

    // MARK: Signing

    /// Signs an unsigned XML document: the signature becomes the root's last child.
    public func sign(_ document: [UInt8], key: PrivateKey, certificate: Certificate) throws(TrustError) -> [UInt8] {
        let unsigned = try parse(document)
        guard !unsigned.root.descendants.contains(where: { $0.namespace == URI.signatureNamespace }) else {
            throw TrustError(code: .profileViolation, message: "the document is already signed")
        }
        let (signatureURI, digestURI) = uris(for: key.algorithm)
        let digest = try Digest.hash(try canonical(unsigned, of: nil, excluding: nil), algorithm: key.algorithm)
        let signedInfo = "<ds:SignedInfo>"
            + "<ds:CanonicalizationMethod Algorithm=\"\(URI.exclusiveC14N)\"/>"
            + "<ds:SignatureMethod Algorithm=\"\(signatureURI)\"/>"
            + "<ds:Reference URI=\"\"><ds:Transforms>"
            + "<ds:Transform Algorithm=\"\(URI.envelopedSignature)\"/><ds:Transform Algorithm=\"\(URI.exclusiveC14N)\"/>"
            + "</ds:Transforms><ds:DigestMethod Algorithm=\"\(digestURI)\"/>"
            + "<ds:DigestValue>\(Data(digest).base64EncodedString())</ds:DigestValue></ds:Reference></ds:SignedInfo>"
        let placeholder = "<ds:SignatureValue></ds:SignatureValue>"
        let signature = "<ds:Signature xmlns:ds=\"\(URI.signatureNamespace)\">" + signedInfo + placeholder
            + "<ds:KeyInfo><ds:X509Data><ds:X509Certificate>\(Data(try certificate.der()).base64EncodedString())</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>"
        // The signature goes right before the root's end tag, so removing it gives the original back.
        guard let close = Self.lastEndTag(in: document) else { throw TrustError(code: .profileViolation, message: "no end tag for the root") }
        let draft = Array(document[..<close]) + Array(signature.utf8) + Array(document[close...])
        let parsed = try parse(draft)
        guard let info = parsed.root.children.last?.children.first else { throw TrustError(code: .cryptoFailure, message: "cannot find SignedInfo") }
        let value = Data(try Signature.sign(try canonical(parsed, of: info, excluding: nil), with: key)).base64EncodedString()
        let signed = String(decoding: draft, as: UTF8.self).replacingOccurrences(of: placeholder, with: "<ds:SignatureValue>\(value)</ds:SignatureValue>")
        return Array(signed.utf8)
    }

    static func lastEndTag(in bytes: [UInt8]) -> Int? {
        var index = bytes.count - 1
        while index > 0 {
            if bytes[index] == UInt8(ascii: "<"), bytes[index + 1] == UInt8(ascii: "/") { return index }
            index -= 1
        }
        return nil
    }

    // MARK: Verifying

    /// Verifies `document` under the profile and against `trust` at each of `times`, and, when given,
    /// that the signer is `participant`.
    public func verify(_ document: [UInt8], trust: TrustStore, at times: [Int], participant: String? = nil) throws(TrustError) -> Verified {
        let parsed = try parse(document)
        if parsed.containsCommentsOrProcessingInstructions {
            throw violation("comments and processing instructions are not accepted in signed documents")
        }
        let root = parsed.root
        let signatures = ([root] + root.descendants).filter { $0.namespace == URI.signatureNamespace && $0.name == "Signature" }
        guard signatures.count == 1, let signature = signatures.first else {
            throw violation(signatures.isEmpty ? "the document is not signed" : "exactly one ds:Signature is allowed, found \(signatures.count)")
        }
        guard let last = root.children.last, last.isSame(as: signature) else {
            throw violation("the ds:Signature must be the last child of the root element")
        }
        let parts = try children(of: signature, named: ["SignedInfo", "SignatureValue", "KeyInfo"])
        let info = parts[0]
        let infoParts = try children(of: info, named: ["CanonicalizationMethod", "SignatureMethod", "Reference"])
        try algorithm(of: infoParts[0], is: [URI.exclusiveC14N], what: "CanonicalizationMethod")
        let certificate = try keyInfoCertificate(parts[2])
        let key = try certificate.publicKey()
        let (signatureURI, digestURI) = uris(for: key.algorithm)
        try algorithm(of: infoParts[1], is: [signatureURI], what: "SignatureMethod (for the certificate's \(key.algorithm.rawValue) key)")
        let reference = infoParts[2]
        guard reference.attributes.count == 1, reference.attribute("URI") == "" else {
            throw violation("the Reference must have exactly URI=\"\" (no XPointer, external or file: URIs, no other attributes)")
        }
        let referenceParts = try children(of: reference, named: ["Transforms", "DigestMethod", "DigestValue"])
        let transforms = referenceParts[0].children
        guard transforms.count == 2, transforms.allSatisfy({ $0.name == "Transform" && $0.namespace == URI.signatureNamespace }) else {
            throw violation("the transforms must be exactly enveloped-signature, then exclusive C14N")
        }
        try algorithm(of: transforms[0], is: [URI.envelopedSignature], what: "the first Transform")
        try algorithm(of: transforms[1], is: [URI.exclusiveC14N], what: "the second Transform")
        try algorithm(of: referenceParts[1], is: [digestURI], what: "DigestMethod")
        guard let expected = Self.base64(referenceParts[2].text), !expected.isEmpty else { throw violation("DigestValue is not base64") }
        let signed = try canonical(parsed, of: nil, excluding: signature)
        guard try Digest.hash(signed, algorithm: key.algorithm) == expected else {
            throw TrustError(code: .signatureInvalid, message: "the digest of the document does not match: it was changed after signing")
        }
        guard let value = Self.base64(parts[1].text),
              Signature.verify(value, of: try canonical(parsed, of: info, excluding: nil), with: key) else {
            throw TrustError(code: .signatureInvalid, message: "the signature value does not verify")
        }
        var participants: [String] = []
        for time in times { participants = try trust.verify(certificate, at: time, participant: participant) }
        return Verified(canonical: signed, signer: certificate, participants: participants)
    }

    // MARK: Profile checks

    private func parse(_ bytes: [UInt8]) throws(TrustError) -> XMLDocument {
        do {
            return try XMLDocument(parsing: bytes)
        } catch {
            throw TrustError(code: error.code == .dtdForbidden ? .profileViolation : .malformed, message: error.description)
        }
    }

    private func canonical(_ document: XMLDocument, of element: XMLElement?, excluding excluded: XMLElement?) throws(TrustError) -> [UInt8] {
        do {
            return try document.exclusiveCanonicalForm(of: element, excluding: excluded)
        } catch {
            throw TrustError(code: .malformed, message: error.description)
        }
    }

    /// The element children of `element`, which must be exactly `names` in the signature namespace, in order.
    private func children(of element: XMLElement, named names: [String]) throws(TrustError) -> [XMLElement] {
        let children = element.children
        guard children.count == names.count, zip(children, names).allSatisfy({ $0.name == $1 && $0.namespace == URI.signatureNamespace }) else {
            let found = children.map(\.name).joined(separator: ", ")
            throw violation("ds:\(element.name) must hold exactly \(names.joined(separator: ", ")); found \(found.isEmpty ? "nothing" : found)")
        }
        return children
    }

    private func algorithm(of element: XMLElement, is allowed: [String], what: String) throws(TrustError) {
        guard element.children.isEmpty, element.attributes.count == 1, let value = element.attribute("Algorithm"), allowed.contains(value) else {
            throw violation("\(what) must be \(allowed.joined(separator: " or ")), with no parameters; found \(element.attribute("Algorithm") ?? "none")")
        }
    }

    private func keyInfoCertificate(_ keyInfo: XMLElement) throws(TrustError) -> Certificate {
        let data = try children(of: keyInfo, named: ["X509Data"])[0]
        let certificate = try children(of: data, named: ["X509Certificate"])[0]
        guard let der = Self.base64(certificate.text) else { throw violation("X509Certificate is not base64") }
        return try Certificate.cached(der: der)
    }

    /// Base64 with the line breaks and spaces signers put in long values.
    static func base64(_ text: String) -> [UInt8]? {
        let compact = text.unicodeScalars.filter { !" \t\r\n".unicodeScalars.contains($0) }
        return Data(base64Encoded: String(String.UnicodeScalarView(compact))).map(Array.init)
    }
}

/// SHA-256 (RSA, ECDSA) or SM3 (SM2) digests.
enum Digest {
    static func hash(_ bytes: [UInt8], algorithm: KeyAlgorithm) throws(TrustError) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: 64)
        var length: UInt32 = 0
        let digest = algorithm == .sm2 ? EVP_sm3() : EVP_sha256()
        guard EVP_Digest(bytes, bytes.count, &output, &length, digest, nil) == 1 else {
            throw TrustError.openSSL(.cryptoFailure, "cannot compute a digest")
        }
        return Array(output.prefix(Int(length)))
    }
}

private func violation(_ message: String) -> TrustError {
    TrustError(code: .profileViolation, message: message)
}

