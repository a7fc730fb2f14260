import Foundation
import StrictJSON
import Synchronization

/// JSON Web Signatures over UTF-8 JSON bulletins, strictly as gateway.md §3 says.
///
/// `alg` (in the protected header) is `RS256`, `ES256` (raw r‖s) or the SM2 name (default `SM2`); the
/// signer's certificate key type decides which one is acceptable, never the header. `x5c` carries the
/// chain; `typ` is `tongbao+json`. Refused: `none` and HMAC, duplicate header members, `crit`, `b64`,
/// `jku`/`x5u`/`jwk`, unprotected headers, detached payloads, and more than one signature.
public struct JWS: Sendable {
    /// The algorithm name used for SM2 with SM3 (configurable: no registered name exists).
    public var sm2Name: String

    /// The header type every bulletin JWS carries.
    public static let type = "tongbao+json"

    /// Creates a JWS codec.
    public init(sm2Name: String = "SM2") {
        self.sm2Name = sm2Name
    }

    /// A verified JWS: the payload and who signed it.
    public struct Verified: Sendable {
        /// The signed payload (the bulletin's JSON bytes).
        public let payload: [UInt8]
        /// The signer's certificate.
        public let signer: Certificate
        /// The participant codes the signer's certificate is bound to.
        public let participants: [String]
    }

    /// The `alg` name for a key.
    public func algorithmName(for algorithm: KeyAlgorithm) -> String {
        switch algorithm {
        case .rsa: "RS256"
        case .ecdsa: "ES256"
        case .sm2: sm2Name
        }
    }

    // MARK: Signing

    /// Signs `payload`; `chain` starts with the signer's certificate. Returns the compact serialization,
    /// or the flattened JSON serialization when `compact` is false.
    public func sign(_ payload: [UInt8], key: PrivateKey, chain: [Certificate], compact: Bool = true) throws(TrustError) -> String {
        let protected = try protectedHeader(algorithm: algorithmName(for: key.algorithm), chain: chain)
        let body = Base64URL.encode(payload)
        let signature = Base64URL.encode(try Signature.sign(Array("\(protected).\(body)".utf8), with: key))
        if compact { return "\(protected).\(body).\(signature)" }
        // The three members are base64url (A–Z, a–z, 0–9, '-' and '_'): nothing in them needs escaping.
        return #"{"protected":""# + protected + #"","payload":""# + body + #"","signature":""# + signature + #""}"#
    }

    /// The protected header for a signer, base64url: made once per algorithm name and chain, since a
    /// signer puts the same header on everything it signs.
    private func protectedHeader(algorithm: String, chain: [Certificate]) throws(TrustError) -> String {
        let key = SignerHeaderKey(algorithm: algorithm, chain: chain)
        if let known = protectedHeaders.withLock({ $0[key] }) { return known }
        var ders: [[UInt8]] = []
        for certificate in chain { ders.append(try certificate.der()) }
        let header = JSONText.object([
            ("alg", JSONText.quoted(algorithm)),
            ("typ", JSONText.quoted(Self.type)),
            ("x5c", JSONText.array(ders.map { Data($0).base64EncodedString() })),
        ])
        let protected = Base64URL.encode(Array(header.utf8))
        protectedHeaders.withLock { headers in
            if headers.count >= Self.headersKept { headers.removeAll(keepingCapacity: true) }
            headers[key] = protected
        }
        return protected
    }

    /// How many signers' protected headers (for signing) and senders' parsed headers (for verifying) are kept.
    private static let headersKept = 1024

    // MARK: Verifying

    /// Verifies a compact or flattened JWS against `trust` at each of `times` (seconds since 1970; the
    /// bulletin's `issuedAt` and the time of receipt), and, when given, that the signer is `participant`.
    public func verify(_ text: [UInt8], trust: TrustStore, at times: [Int], participant: String? = nil) throws(TrustError) -> Verified {
        let parts = try split(text)
        guard !parts.payload.isEmpty, let payload = Base64URL.decode(parts.payload.utf8), !payload.isEmpty else {
            throw violation("the payload is missing or not base64url (detached payloads are not accepted)")
        }
        let (header, known) = try parsedHeader(parts.protected)
        guard let signer = header.chain.first else { throw violation("x5c holds no certificate") }
        let key = try signer.publicKey()
        guard key.algorithm == header.algorithm else {
            throw violation("alg \(header.algorithmName) does not match the certificate's \(key.algorithm.rawValue) key")
        }
        guard let signature = Base64URL.decode(parts.signature.utf8),
              Signature.verify(signature, of: Array("\(parts.protected).\(parts.payload)".utf8), with: key) else {
            throw TrustError(code: .signatureInvalid, message: "the JWS signature does not verify")
        }
        var participants: [String] = []
        for time in times {
            participants = try trust.verify(signer, chain: Array(header.chain.dropFirst()), at: time, participant: participant)
        }
        if !known { remember(header, for: parts.protected) }
        return Verified(payload: payload, signer: signer, participants: participants)
    }

    /// The protected header, parsed and checked, or as it was parsed for an earlier JWS that verified: a
    /// sender puts the same header on everything it signs. `known` says whether it came from there.
    private func parsedHeader(_ protected: String) throws(TrustError) -> (header: Header, known: Bool) {
        if let known = parsedHeaders.withLock({ $0[ParsedHeaderKey(sm2Name: sm2Name, protected: protected)] }) { return (known, true) }
        guard let bytes = Base64URL.decode(protected.utf8) else { throw violation("the protected header is not base64url") }
        return (try Header(bytes, sm2Name: sm2Name), false)
    }

    /// Keeps the header of a JWS that verified (signature and trust), so that the sender's next one is not
    /// parsed again. The trust checks still run for every JWS.
    private func remember(_ header: Header, for protected: String) {
        guard protected.utf8.count <= 16 * 1024 else { return }
        parsedHeaders.withLock { headers in
            if headers.count >= Self.headersKept { headers.removeAll(keepingCapacity: true) }
            headers[ParsedHeaderKey(sm2Name: sm2Name, protected: protected)] = header
        }
    }

    private struct Parts {
        let protected: String
        let payload: String
        let signature: String
    }

    private func split(_ text: [UInt8]) throws(TrustError) -> Parts {
        let first = text.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        if first == UInt8(ascii: "{") {
            let root: JSONNode
            do {
                root = try JSONParser(limits: JSONLimits(maxDepth: 8, maxStringBytes: 2 << 20, maxContainerCount: 100)).parse(text)
            } catch {
                throw unreadable("not a JWS JSON serialization: \(error.message)")
            }
            guard case .object(let members) = root.value else { throw unreadable("not a JWS JSON serialization") }
            if members.contains(where: { $0.key == "signatures" }) {
                throw violation("the general JSON serialization is not accepted; send one flattened or compact signature")
            }
            if members.contains(where: { $0.key == "header" }) { throw violation("unprotected header members are not accepted") }
            func string(_ key: String) throws(TrustError) -> String {
                guard let node = members.first(where: { $0.key == key })?.node, case .string(let value) = node.value else {
                    throw violation("the flattened serialization lacks \"\(key)\"")
                }
                return value
            }
            for member in members where !["protected", "payload", "signature"].contains(member.key) {
                throw violation("unknown member \"\(member.key)\" in the JWS")
            }
            return Parts(protected: try string("protected"), payload: try string("payload"), signature: try string("signature"))
        }
        let pieces = text.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard pieces.count == 3 else { throw unreadable("a compact JWS has exactly three parts") }
        // A body may end in a line break (a file sent with curl): ASCII white space around the signature is dropped.
        var signature = pieces[2]
        while let first = signature.first, [0x20, 0x09, 0x0A, 0x0D].contains(first) { signature = signature.dropFirst() }
        while let last = signature.last, [0x20, 0x09, 0x0A, 0x0D].contains(last) { signature = signature.dropLast() }
        return Parts(protected: String(decoding: pieces[0], as: UTF8.self), payload: String(decoding: pieces[1], as: UTF8.self),
                     signature: String(decoding: signature, as: UTF8.self))
    }

    /// The protected header, checked member by member.
    fileprivate struct Header: Sendable {
        let algorithm: KeyAlgorithm
        let algorithmName: String
        let chain: [Certificate]

        static let forbidden: [String: String] = [
            "crit": "crit is not accepted", "b64": "b64 is not accepted (the payload is always base64url)",
            "jku": "keys are never fetched (jku)", "x5u": "certificates are never fetched (x5u)",
            "jwk": "an embedded key is never trusted (jwk)", "zip": "compression is not accepted",
        ]

        init(_ bytes: [UInt8], sm2Name: String) throws(TrustError) {
            let root: JSONNode
            do {
                root = try JSONParser(limits: JSONLimits(maxDepth: 4, maxStringBytes: 64 * 1024, maxContainerCount: 16)).parse(bytes)
            } catch {
                // Duplicate members land here too: the parser refuses them.
                throw violation("the protected header is not valid JSON: \(error.message)")
            }
            guard case .object(let members) = root.value else { throw violation("the protected header is not an object") }
            for member in members {
                if let reason = Self.forbidden[member.key] { throw violation(reason) }
                guard ["alg", "typ", "x5c", "kid"].contains(member.key) else { throw violation("header member \"\(member.key)\" is not accepted") }
            }
            func string(_ key: String) -> String? {
                guard let node = members.first(where: { $0.key == key })?.node, case .string(let value) = node.value else { return nil }
                return value
            }
            guard let alg = string("alg") else { throw violation("alg is missing from the protected header") }
            switch alg {
            case "RS256": algorithm = .rsa
            case "ES256": algorithm = .ecdsa
            case sm2Name: algorithm = .sm2
            default: throw violation("alg \(alg) is not accepted (RS256, ES256 or \(sm2Name))")
            }
            algorithmName = alg
            guard string("typ") == JWS.type else { throw violation("typ must be \(JWS.type)") }
            guard let node = members.first(where: { $0.key == "x5c" })?.node, case .array(let elements) = node.value,
                  (1...10).contains(elements.count) else {
                throw violation("x5c must carry the signer's certificate chain (1 to 10 certificates)")
            }
            var chain: [Certificate] = []
            for element in elements {
                guard case .string(let text) = element.value, let der = Data(base64Encoded: text) else {
                    throw violation("an x5c entry is not base64 DER")
                }
                chain.append(try Certificate.cached(der: Array(der)))
            }
            self.chain = chain
        }
    }
}

/// A signer's protected header, by algorithm name and certificate chain (``JWS/sign(_:key:chain:compact:)``).
private let protectedHeaders = Mutex<[SignerHeaderKey: String]>([:])
/// Parsed protected headers of JWSs that verified, by SM2 name and header text (``JWS/verify(_:trust:at:participant:)``).
private let parsedHeaders = Mutex<[ParsedHeaderKey: JWS.Header]>([:])

private struct ParsedHeaderKey: Hashable {
    let sm2Name: String
    let protected: String
}

/// A signer: its algorithm name and its chain's certificate objects, compared by identity (a signer signs
/// with the same objects every time, and comparing them costs nothing next to hashing their DER). The
/// cache entry keeps the objects alive, so no other certificate can take an identity while it is cached.
private struct SignerHeaderKey: Hashable {
    let algorithm: String
    let chain: [Certificate]

    static func == (lhs: SignerHeaderKey, rhs: SignerHeaderKey) -> Bool {
        lhs.algorithm == rhs.algorithm && lhs.chain.count == rhs.chain.count && zip(lhs.chain, rhs.chain).allSatisfy { $0 === $1 }
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(algorithm)
        for certificate in chain { hasher.combine(ObjectIdentifier(certificate)) }
    }
}

/// A JWS that cannot even be framed (not JSON, not three parts, not base64url): `malformed`, not a
/// signature that fails.
private func unreadable(_ message: String) -> TrustError {
    TrustError(code: .malformed, message: message)
}

private func violation(_ message: String) -> TrustError {
    TrustError(code: .profileViolation, message: message)
}

extension JWS {
    /// The payload of a compact or flattened JWS **without verifying it**: only for bytes the gateway
    /// verified before it stored them (rebuilding projections from its own log).
    public static func unverifiedPayload(_ text: [UInt8]) -> [UInt8]? {
        let first = text.first { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }
        if first == UInt8(ascii: "{") {
            guard let root = try? JSONParser(limits: JSONLimits(maxDepth: 8, maxStringBytes: 2 << 20, maxContainerCount: 100)).parse(text),
                  case .object(let members) = root.value, let node = members.first(where: { $0.key == "payload" })?.node,
                  case .string(let payload) = node.value else { return nil }
            return Base64URL.decode(payload.utf8)
        }
        let pieces = text.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard pieces.count == 3 else { return nil }
        return Base64URL.decode(pieces[1])
    }
}
