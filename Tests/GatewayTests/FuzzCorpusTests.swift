import BulletinVerification
import Foundation
import Testing

@Suite("intake fuzz corpus")
struct FuzzCorpusTests {
    @Test("every committed fuzz input (seeds and what libFuzzer found) goes through the intake checks without a crash; the signed seeds verify")
    func replayCorpus() throws {
        let repository = LiveGateway.repository
        let harness = try IntakeFuzzing(trustDirectory: repository.appendingPathComponent("certs/test-trust").path, now: Int(Date().timeIntervalSince1970))
        let folder = repository.appendingPathComponent("Tests/FuzzCorpus/intake")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(names.count >= 33)
        var outcomes: [String: String] = [:]
        for name in names {
            let bytes = Array(try Data(contentsOf: folder.appendingPathComponent(name)))
            outcomes[name] = harness.check(bytes)
            #expect(harness.fastPathAgrees(bytes), "\(name)")
        }
        // The harness really checks signatures: the signed examples verify, their unsigned twins do not.
        #expect(outcomes["seed-licence-revocation.jws"]?.hasPrefix("verified LicenceRevocation") == true)
        #expect(outcomes["seed-licence-revocation.signed.xml"] == "verified LicenceRevocation, parsed LicenceRevocation")
        #expect(outcomes["seed-licence-revocation.xml"] == "refused, parsed LicenceRevocation")
        // The empty input (named by its SHA-1, as libFuzzer names inputs) is refused, not a crash.
        #expect(outcomes["da39a3ee5e6b4b0d3255bfef95601890afd80709"] == "refused, unparsed")
    }
}
