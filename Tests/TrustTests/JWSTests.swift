import Foundation
import Testing
import TongbaoTestSupport
import Trust

func base64url(_ bytes: [UInt8]) -> String {
    Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}

@Suite("JWS")
struct JWSTests {
    static let now = Int(Date().timeIntervalSince1970)
    let payload = Array(#"{"id":"440800-HEALTH-2025-0012","type":"LicenceRevocation","issuer":"440800-HEALTH"}"#.utf8)
    let jws = JWS()

    func code(_ body: () throws -> Void) -> String? { trustErrorCode(body) }

    @Test("compact and flattened round trips for every algorithm", arguments: KeyAlgorithm.allCases)
    func roundTrip(algorithm: KeyAlgorithm) throws {
        let pki = try TrustStoreTests.pki(algorithm)
        for compact in [true, false] {
            let text = try jws.sign(payload, key: pki.leafKey, chain: [pki.leaf], compact: compact)
            let verified = try jws.verify(Array(text.utf8), trust: pki.store, at: [Self.now], participant: "440800-HEALTH")
            #expect(verified.payload == payload)
            #expect(verified.participants == ["440800-HEALTH"])
        }
    }

    @Test("a signer's header is made and read once, yet every JWS is checked in full: a header seen before still needs its signature, its trust and its participant")
    func rememberedHeaders() throws {
        let pki = try TrustStoreTests.pki(.ecdsa)
        let first = try jws.sign(payload, key: pki.leafKey, chain: [pki.leaf])
        let second = try jws.sign(Array(#"{"id":"2"}"#.utf8), key: pki.leafKey, chain: [pki.leaf])
        // The same signer, the same protected header (made once), two payloads.
        #expect(first.split(separator: ".").first == second.split(separator: ".").first)
        _ = try jws.verify(Array(first.utf8), trust: pki.store, at: [Self.now], participant: "440800-HEALTH")
        #expect(try jws.verify(Array(second.utf8), trust: pki.store, at: [Self.now], participant: "440800-HEALTH").payload == Array(#"{"id":"2"}"#.utf8))
        // The header verified before; the signature over other bytes does not.
        let parts = first.split(separator: ".").map(String.init)
        let spliced = [parts[0], base64url(Array(#"{"id":"3"}"#.utf8)), parts[2]].joined(separator: ".")
        #expect(code { _ = try jws.verify(Array(spliced.utf8), trust: pki.store, at: [Self.now]) } == "signature-invalid")
        // Nor does trust come with the header: another trust store, another participant, or another time.
        let stranger = try TrustStoreTests.pki(.ecdsa)
        #expect(code { _ = try jws.verify(Array(first.utf8), trust: stranger.store, at: [Self.now]) } == "untrusted-signer")
        #expect(code { _ = try jws.verify(Array(first.utf8), trust: pki.store, at: [Self.now], participant: "440800-INS-ADMIN") } == "issuer-mismatch")
        #expect(code { _ = try jws.verify(Array(first.utf8), trust: pki.store, at: [Self.now + 20 * 365 * 86_400]) } == "crl-stale")   // the chain no longer validates (OpenSSL names its CRL first)
        // Another signer gets its own header, made between two of the first signer's.
        let strangers = try jws.sign(payload, key: stranger.leafKey, chain: [stranger.leaf])
        let third = try jws.sign(payload, key: pki.leafKey, chain: [pki.leaf])
        #expect(strangers.split(separator: ".").first != first.split(separator: ".").first)
        #expect(third.split(separator: ".").first == first.split(separator: ".").first)
        #expect(try jws.verify(Array(strangers.utf8), trust: stranger.store, at: [Self.now]).signer.der() == stranger.leaf.der())
        #expect(code { _ = try jws.verify(Array(strangers.utf8), trust: pki.store, at: [Self.now]) } == "untrusted-signer")
    }

    @Test("the payload part is base64url without padding, for every length (checked against Foundation's base64)")
    func payloadEncoding() throws {
        let pki = try TrustStoreTests.pki(.ecdsa)
        var generator = SystemRandomNumberGenerator()
        for length in 1...64 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let parts = try jws.sign(bytes, key: pki.leafKey, chain: [pki.leaf], compact: true).split(separator: ".")
            #expect(parts.count == 3)
            #expect(parts.count == 3 && String(parts[1]) == base64url(bytes), "length \(length)")
            let verified = try jws.verify(Array(parts.joined(separator: ".").utf8), trust: pki.store, at: [Self.now], participant: "440800-HEALTH")
            #expect(verified.payload == bytes)
        }
    }

    @Test("a compact JWS sent as a file keeps verifying with a line break after it; other bytes after the signature do not")
    func trailingLineBreak() throws {
        let pki = try TrustStoreTests.pki(.ecdsa)
        let text = try jws.sign(payload, key: pki.leafKey, chain: [pki.leaf], compact: true)
        for ending in ["\n", "\r\n", " \t\n"] {
            let verified = try jws.verify(Array((text + ending).utf8), trust: pki.store, at: [Self.now], participant: "440800-HEALTH")
            #expect(verified.payload == payload)
        }
        #expect(code { _ = try jws.verify(Array((text + "A").utf8), trust: pki.store, at: [Self.now], participant: "440800-HEALTH") } != nil)
    }

    /// A JWS with a hand-made protected header, signed with `key` (or given `signature`).
    func forge(header: String, payload: [UInt8]? = nil, key: PrivateKey?, signature: [UInt8]? = nil) throws -> String {
        let protected = base64url(Array(header.utf8))
        let body = base64url(payload ?? self.payload)
        let signed = try signature ?? (key.map { try Signature.sign(Array("\(protected).\(body)".utf8), with: $0) } ?? [])
        return "\(protected).\(body).\(base64url(signed))"
    }

    @Test("the attack corpus: each case is refused with its code")
    func attacks() throws {
        let pki = try TrustStoreTests.pki(.ecdsa)
        let x5c = "[\"\(try pki.leaf.der().base64)\"]"
        func header(_ extra: String = "", alg: String = "ES256", typ: String = "tongbao+json") -> String {
            "{\"alg\":\"\(alg)\",\"typ\":\"\(typ)\",\"x5c\":\(x5c)\(extra)}"
        }
        func verify(_ text: String, participant: String? = "440800-HEALTH") -> String? {
            code { _ = try jws.verify(Array(text.utf8), trust: pki.store, at: [Self.now], participant: participant) }
        }
        let valid = try jws.sign(payload, key: pki.leafKey, chain: [pki.leaf])
        #expect(verify(valid) == nil)
        #expect(verify(try forge(header: header(alg: "none"), key: nil)) == "profile-violation")
        let hmac = try forge(header: header(alg: "HS256"), key: nil, signature: Array(try pki.leaf.der().prefix(32)))
        #expect(verify(hmac) == "profile-violation")
        let protected = base64url(Array(header().utf8))
        let body = base64url(payload)
        let der = try Signature.derSignature(fromRaw: try Signature.sign(Array("\(protected).\(body)".utf8), with: pki.leafKey))
        #expect(verify("\(protected).\(body).\(base64url(der))") == "signature-invalid")
        #expect(verify(try forge(header: header(",\"crit\":[\"exp\"],\"exp\":1"), key: pki.leafKey)) == "profile-violation")
        #expect(verify(try forge(header: header(",\"b64\":false"), key: pki.leafKey)) == "profile-violation")
        #expect(verify(try forge(header: header(",\"jku\":\"https://127.0.0.1:9/keys\""), key: pki.leafKey)) == "profile-violation")
        #expect(verify(try forge(header: header(",\"x5u\":\"https://127.0.0.1:9/cert\""), key: pki.leafKey)) == "profile-violation")
        #expect(verify(try forge(header: header(",\"jwk\":{\"kty\":\"EC\"}"), key: pki.leafKey)) == "profile-violation")
        #expect(verify(try forge(header: header(",\"alg\":\"ES256\""), key: pki.leafKey)) == "profile-violation")   // duplicate member
        #expect(verify(try forge(header: header(typ: "JWT"), key: pki.leafKey)) == "profile-violation")
        #expect(verify(try forge(header: header(alg: "RS256"), key: pki.leafKey)) == "profile-violation")            // alg ≠ key type
        let parts = valid.split(separator: ".").map(String.init)
        #expect(verify("\(parts[0])..\(parts[2])") == "profile-violation")                                               // detached
        #expect(verify("\(parts[0]).\(base64url(Array("{}".utf8))).\(parts[2])") == "signature-invalid")                 // tampered
        let general = #"{"payload":"\#(parts[1])","signatures":[{"protected":"\#(parts[0])","signature":"\#(parts[2])"},{"protected":"\#(parts[0])","signature":"\#(parts[2])"}]}"#
        #expect(verify(general) == "profile-violation")
        let unprotected = #"{"protected":"\#(parts[0])","header":{"kid":"x"},"payload":"\#(parts[1])","signature":"\#(parts[2])"}"#
        #expect(verify(unprotected) == "profile-violation")
        // A valid signature by another participant is a failure, not a success.
        #expect(verify(valid, participant: "440800-DRUG") == "issuer-mismatch")
        // A self-made CA's certificate claiming the participant.
        let impostor = try CertificateAuthority.root(name: "Tongbao Test Root", algorithm: .ecdsa, notBefore: Self.now - 86_400, notAfter: Self.now + 86_400)
        let forgedKey = try PrivateKey.generate(.ecdsa)
        let forged = try impostor.issue(commonName: "x", participant: "440800-HEALTH", subjectKey: forgedKey, serial: 10, notBefore: Self.now - 86_400, notAfter: Self.now + 86_400)
        #expect(verify(try jws.sign(payload, key: forgedKey, chain: [forged])) == "untrusted-signer")
        // Revoked and expired signers.
        let revoked = try pki.authority.issue(commonName: "r", participant: "440800-HEALTH", subjectKey: forgedKey, serial: 99, notBefore: Self.now - 86_400, notAfter: Self.now + 86_400)
        #expect(verify(try jws.sign(payload, key: forgedKey, chain: [revoked])) == "certificate-revoked")
        let expired = try pki.authority.issue(commonName: "e", participant: "440800-HEALTH", subjectKey: forgedKey, serial: 13, notBefore: Self.now - 10 * 86_400, notAfter: Self.now - 86_400)
        #expect(verify(try jws.sign(payload, key: forgedKey, chain: [expired])) == "certificate-expired")
    }

    @Test("an RSA-1024 certificate in x5c is refused")
    func weakRSA() throws {
        let pki = try TrustStoreTests.pki(.rsa)
        let folder = try OpenSSLCLI.scratch()
        let made = try OpenSSLCLI.run(["req", "-x509", "-newkey", "rsa:1024", "-nodes", "-keyout", "weak.key", "-out", "weak.pem", "-days", "2",
                                       "-subj", "/CN=weak", "-addext", "subjectAltName=URI:urn:tongbao:participant:440800-HEALTH", "-outform", "DER"], in: folder)
        #expect(made.status == 0, "\(made.output)")
        let der = Array(try Data(contentsOf: folder.appendingPathComponent("weak.pem")))
        let header = "{\"alg\":\"RS256\",\"typ\":\"tongbao+json\",\"x5c\":[\"\(Data(der).base64EncodedString())\"]}"
        let text = try forge(header: header, key: nil, signature: [UInt8](repeating: 1, count: 128))
        #expect(code { _ = try jws.verify(Array(text.utf8), trust: pki.store, at: [Self.now]) } == "weak-key")
    }

    @Test("interop: joserfc verifies ours and we verify joserfc's (RS256, ES256)", arguments: [KeyAlgorithm.rsa, .ecdsa])
    func joserfc(algorithm: KeyAlgorithm) throws {
        let pki = try TrustStoreTests.pki(algorithm)
        let folder = try OpenSSLCLI.scratch()
        try Data(try pki.leafKey.pem()).write(to: folder.appendingPathComponent("key.pem"))
        try Data(payload).write(to: folder.appendingPathComponent("payload.json"))
        let ours = try jws.sign(payload, key: pki.leafKey, chain: [pki.leaf])
        try Data(ours.utf8).write(to: folder.appendingPathComponent("ours.jws"))
        let alg = algorithm == .rsa ? "RS256" : "ES256"
        let script = """
            import sys, base64, json
            from joserfc import jws
            from joserfc.jws import JWSRegistry
            from joserfc.jwk import RSAKey, ECKey
            pem = open("key.pem").read()
            key = (RSAKey if sys.argv[1] == "RS256" else ECKey).import_key(pem)
            token = open("ours.jws").read()
            registry = JWSRegistry(algorithms=[sys.argv[1]])
            registry.max_header_length = 16384   # x5c makes our headers larger than joserfc's default 512
            verified = jws.deserialize_compact(token, key, registry=registry)
            assert verified.payload == open("payload.json", "rb").read(), "payload differs"
            header = {"alg": sys.argv[1], "typ": "tongbao+json", "x5c": [sys.argv[2]]}
            print(jws.serialize_compact(header, open("payload.json", "rb").read(), key, registry=registry))
            """
        let result = try Self.python(["-c", script, alg, try pki.leaf.der().base64], in: folder)
        #expect(result.status == 0, "\(result.output)")
        let theirs = result.output.trimmingCharacters(in: .whitespacesAndNewlines)
        let verified = try jws.verify(Array(theirs.utf8), trust: pki.store, at: [Self.now], participant: "440800-HEALTH")
        #expect(verified.payload == payload)
    }

    @Test("interop: SM2 JWS signatures verify with openssl dgst -sm3 over the signing input, and openssl's verify here")
    func sm2OpenSSL() throws {
        let pki = try TrustStoreTests.pki(.sm2)
        let folder = try OpenSSLCLI.scratch()
        let ours = try jws.sign(payload, key: pki.leafKey, chain: [pki.leaf])
        let parts = ours.split(separator: ".").map(String.init)
        try Data("\(parts[0]).\(parts[1])".utf8).write(to: folder.appendingPathComponent("input"))
        let raw = try #require(Data(base64Encoded: parts[2].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/") + "=="))
        try Data(try Signature.derSignature(fromRaw: Array(raw))).write(to: folder.appendingPathComponent("sig.der"))
        try Data(try pki.leafKey.publicKeyPEM()).write(to: folder.appendingPathComponent("pub.pem"))
        try Data(try pki.leafKey.pem()).write(to: folder.appendingPathComponent("key.pem"))
        let check = try OpenSSLCLI.run(["dgst", "-sm3", "-verify", "pub.pem", "-sigopt", "distid:1234567812345678", "-signature", "sig.der", "input"], in: folder)
        #expect(check.output.contains("Verified OK"), "\(check.output)")
        // openssl signs the same input; the JWS with its signature verifies here.
        #expect(try OpenSSLCLI.run(["dgst", "-sm3", "-sign", "key.pem", "-sigopt", "distid:1234567812345678", "-out", "theirs.der", "input"], in: folder).status == 0)
        let theirs = try Signature.rawSignature(fromDER: Array(try Data(contentsOf: folder.appendingPathComponent("theirs.der"))))
        let token = "\(parts[0]).\(parts[1]).\(base64url(theirs))"
        #expect(try jws.verify(Array(token.utf8), trust: pki.store, at: [Self.now]).payload == payload)
    }

    static func python(_ arguments: [String], in folder: URL) throws -> ExternalCommand.Result {
        try ExternalCommand.run("python3", arguments, in: folder)
    }
}

extension Array where Element == UInt8 {
    var base64: String { Data(self).base64EncodedString() }
}
