// Signature verification benchmark (issue 4): XML-DSig and JWS verifications per second on one core,
// for RSA-2048, P-256 and SM2, each a full verification (profile, signature, chain and CRL check).
//
//   swift run -c release SignatureBenchmark [--seconds S]
//
// Compare with `openssl speed -seconds S rsa2048 ecdsap256 sm2` (raw verify operations, no parsing).
import Foundation
import TongbaoTestSupport
import Trust

let commandLine = BenchmarkCommandLine(usage: "SignatureBenchmark [--seconds S]", options: ["--seconds": .count])
let seconds = Double(commandLine.int("--seconds", 2))
let repository = commandLine.repository
let bulletinXML = Array(try Data(contentsOf: repository.appendingPathComponent("examples/bulletins/licence-revocation.xml")))
let bulletinJSON = Array(try Data(contentsOf: repository.appendingPathComponent("examples/bulletins/licence-revocation.json")))
let now = Int(Date().timeIntervalSince1970)

/// Runs `body` repeatedly for `seconds`; returns operations per second.
func rate(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    var count = 0
    var elapsed = 0.0
    repeat {
        for _ in 0..<20 { try body() }
        count += 20
        elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    } while elapsed < seconds
    return Double(count) / elapsed
}

print("verifications per second, one core, \(seconds) s each (full verification: profile, signature, chain, CRL)")
print("algorithm\tXML-DSig/s\tJWS/s\tsign (XML)/s\tsign (JWS)/s\tchain check/s\tsignature only/s")
for algorithm in KeyAlgorithm.allCases {
    let authority = try CertificateAuthority.root(name: "Bench Root", algorithm: algorithm, notBefore: now - 86_400, notAfter: now + 86_400 * 365)
    let crl = try authority.revocationList(revokedSerials: [], thisUpdate: now - 86_400, nextUpdate: now + 86_400 * 30)
    let key = try PrivateKey.generate(algorithm)
    let certificate = try authority.issue(commonName: "bench", participant: "440800-HEALTH", subjectKey: key, serial: 2,
                                          notBefore: now - 86_400, notAfter: now + 86_400 * 90)
    let store = TrustStore(roots: [authority.certificate], revocationLists: [crl])
    let signer = XMLSignature()
    let signedXML = try signer.sign(bulletinXML, key: key, certificate: certificate)
    let jws = JWS()
    let token = Array(try jws.sign(bulletinJSON, key: key, chain: [certificate]).utf8)
    let xmlRate = try rate { _ = try signer.verify(signedXML, trust: store, at: [now], participant: "440800-HEALTH") }
    let jwsRate = try rate { _ = try jws.verify(token, trust: store, at: [now], participant: "440800-HEALTH") }
    let signRate = try rate { _ = try signer.sign(bulletinXML, key: key, certificate: certificate) }
    let jwsSignRate = try rate { _ = try jws.sign(bulletinJSON, key: key, chain: [certificate]) }
    let chainRate = try rate { try store.verify(certificate, at: now, participant: "440800-HEALTH") }
    let publicKey = try certificate.publicKey()
    let signature = try Signature.sign(bulletinJSON, with: key)
    let signatureRate = rate { _ = Signature.verify(signature, of: bulletinJSON, with: publicKey) }
    print("\(algorithm.rawValue)\t\(Int(xmlRate))\t\(Int(jwsRate))\t\(Int(signRate))\t\(Int(jwsSignRate))\t\(Int(chainRate))\t\(Int(signatureRate))")
}

// ECDSA signing as the gateway does it, with nonces computed ahead (`PrivateKey.precomputeSigningNonces`):
// the signer's own time per JWS, the pool filled first (its thread runs at idle priority, on the other core).
let ecdsaKey = try PrivateKey.generate(.ecdsa)
let ecdsaAuthority = try CertificateAuthority.root(name: "Bench Root", algorithm: .ecdsa, notBefore: now - 86_400, notAfter: now + 86_400 * 365)
let ecdsaCertificate = try ecdsaAuthority.issue(commonName: "bench", participant: "440800-HEALTH", subjectKey: ecdsaKey, serial: 2,
                                                notBefore: now - 86_400, notAfter: now + 86_400 * 90)
let signatures = 20_000
let plainStart = DispatchTime.now().uptimeNanoseconds
for _ in 0..<signatures { _ = try JWS().sign(bulletinJSON, key: ecdsaKey, chain: [ecdsaCertificate]) }
let plainSeconds = Double(DispatchTime.now().uptimeNanoseconds - plainStart) / 1e9
ecdsaKey.precomputeSigningNonces(keeping: signatures)
while ecdsaKey.readySigningNonces < signatures { Thread.sleep(forTimeInterval: 0.05) }
let aheadStart = DispatchTime.now().uptimeNanoseconds
for _ in 0..<signatures { _ = try JWS().sign(bulletinJSON, key: ecdsaKey, chain: [ecdsaCertificate]) }
let aheadSeconds = Double(DispatchTime.now().uptimeNanoseconds - aheadStart) / 1e9
print("ES256 JWS signing, \(signatures) signatures: \(Int(Double(signatures) / plainSeconds))/s as above, \(Int(Double(signatures) / aheadSeconds))/s with nonces computed ahead (the signer's own time)")
