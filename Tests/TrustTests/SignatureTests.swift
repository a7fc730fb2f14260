import Foundation
import Testing
import TongbaoTestSupport
import Trust

/// The `openssl` command line, an independent implementation.
enum OpenSSLCLI {
    static func run(_ arguments: [String], in folder: URL) throws -> ExternalCommand.Result {
        try ExternalCommand.run("openssl", arguments, in: folder)
    }

    static func scratch() throws -> URL { try ExternalCommand.scratchFolder("tongbao-trust") }
}

/// The code of the `TrustError` `body` throws, nil when it succeeds.
func trustErrorCode(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch let error as TrustError {
        return error.code.description
    } catch {
        return "unexpected \(error)"
    }
}

@Suite("signatures")
struct SignatureTests {
    let data = Array("<Bulletin>湛医保罚〔2025〕1号</Bulletin>".utf8)

    @Test("sign and verify round trip; a changed byte or a other key fails", arguments: KeyAlgorithm.allCases)
    func roundTrip(algorithm: KeyAlgorithm) throws {
        let key = try PrivateKey.generate(algorithm)
        let publicKey = try PublicKey(pem: try key.publicKeyPEM())
        let signature = try Signature.sign(data, with: key)
        if algorithm != .rsa { #expect(signature.count == 64) }
        #expect(Signature.verify(signature, of: data, with: publicKey))
        var tampered = data
        tampered[3] ^= 1
        #expect(!Signature.verify(signature, of: tampered, with: publicKey))
        let other = try PublicKey(pem: try PrivateKey.generate(algorithm).publicKeyPEM())
        #expect(!Signature.verify(signature, of: data, with: other))
        #expect(!Signature.verify([], of: data, with: publicKey))
        #expect(!Signature.verify([UInt8](repeating: 7, count: 64), of: data, with: publicKey))
    }

    @Test("one key signs and verifies on many threads at once (its prepared contexts are never shared), and refused signatures leave it usable",
          arguments: KeyAlgorithm.allCases)
    func concurrentUse(algorithm: KeyAlgorithm) async throws {
        let key = try PrivateKey.generate(algorithm)
        let publicKey = try PublicKey(pem: try key.publicKeyPEM())
        let data = data
        let outcomes = try await withThrowingTaskGroup(of: [Bool].self) { group in
            for thread in 0..<8 {
                group.addTask {
                    var outcomes: [Bool] = []
                    for round in 0..<25 {
                        let message = data + Array("\(thread)-\(round)".utf8)
                        let signature = try Signature.sign(message, with: key)
                        outcomes.append(Signature.verify(signature, of: message, with: publicKey))
                        // A signature of other bytes is refused, and the next verification is unaffected.
                        outcomes.append(!Signature.verify(signature, of: data, with: publicKey))
                    }
                    return outcomes
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(outcomes.count == 400)
        #expect(outcomes.allSatisfy { $0 })
    }

    @Test("DER-encoded ECDSA and SM2 signatures are refused; only raw r‖s counts", arguments: [KeyAlgorithm.ecdsa, .sm2])
    func derRefused(algorithm: KeyAlgorithm) throws {
        let key = try PrivateKey.generate(algorithm)
        let publicKey = try PublicKey(pem: try key.publicKeyPEM())
        let der = try Signature.derSignature(fromRaw: try Signature.sign(data, with: key))
        #expect(!Signature.verify(der, of: data, with: publicKey))
    }

    @Test("signatures made here verify in openssl, and openssl's verify here (SM2 with distid 1234567812345678)",
          arguments: KeyAlgorithm.allCases)
    func openSSLInterop(algorithm: KeyAlgorithm) throws {
        let folder = try OpenSSLCLI.scratch()
        let digest = algorithm == .sm2 ? "-sm3" : "-sha256"
        let sigopt = algorithm == .sm2 ? ["-sigopt", "distid:1234567812345678"] : []
        try Data(data).write(to: folder.appendingPathComponent("data.bin"))

        // Here → openssl.
        let key = try PrivateKey.generate(algorithm)
        try Data(try key.publicKeyPEM()).write(to: folder.appendingPathComponent("ours.pub.pem"))
        let raw = try Signature.sign(data, with: key)
        try Data(algorithm == .rsa ? raw : try Signature.derSignature(fromRaw: raw)).write(to: folder.appendingPathComponent("ours.sig"))
        let check = try OpenSSLCLI.run(["dgst", digest, "-verify", "ours.pub.pem"] + sigopt + ["-signature", "ours.sig", "data.bin"], in: folder)
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("Verified OK"))

        // openssl → here.
        let generate = switch algorithm {
        case .rsa: ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "theirs.key"]
        case .ecdsa: ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "theirs.key"]
        case .sm2: ["genpkey", "-algorithm", "SM2", "-out", "theirs.key"]
        }
        #expect(try OpenSSLCLI.run(generate, in: folder).status == 0)
        let signing = try OpenSSLCLI.run(["dgst", digest, "-sign", "theirs.key"] + sigopt + ["-out", "theirs.sig", "data.bin"], in: folder)
        #expect(signing.status == 0, "\(signing.output)")
        let theirs = try PrivateKey(pem: Array(try Data(contentsOf: folder.appendingPathComponent("theirs.key"))))
        #expect(theirs.algorithm == algorithm)
        let signature = Array(try Data(contentsOf: folder.appendingPathComponent("theirs.sig")))
        let publicKey = try PublicKey(pem: try theirs.publicKeyPEM())
        #expect(Signature.verify(algorithm == .rsa ? signature : try Signature.rawSignature(fromDER: signature), of: data, with: publicKey))
    }

    @Test("RSA-1024 and other curves are refused")
    func weakKeys() throws {
        let folder = try OpenSSLCLI.scratch()
        #expect(try OpenSSLCLI.run(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", "weak.key"], in: folder).status == 0)
        #expect(try OpenSSLCLI.run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", "p384.key"], in: folder).status == 0)
        #expect {
            try PrivateKey(pem: Array(try Data(contentsOf: folder.appendingPathComponent("weak.key"))))
        } throws: { ($0 as? TrustError)?.code == .weakKey }
        #expect {
            try PrivateKey(pem: Array(try Data(contentsOf: folder.appendingPathComponent("p384.key"))))
        } throws: { ($0 as? TrustError)?.code == .unsupportedAlgorithm }
        #expect(throws: TrustError.self) { try PrivateKey(pem: Array("not a key".utf8)) }
    }
}
