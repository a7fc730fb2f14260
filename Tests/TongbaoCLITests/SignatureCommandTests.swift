import Foundation
import Testing
import Trust

@Suite("tongbao sign and verify")
struct SignatureCommandTests {
    /// A fresh development PKI (ECDSA unless told), its folder.
    func pki(_ algorithm: String = "ecdsa") throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tongbao-sign-\(UUID().uuidString)")
        let result = try CLI.run(["pki", "init", "--out", folder.path, "--algorithm", algorithm])
        #expect(result.status == 0)
        return folder
    }

    func credentials(_ folder: URL, _ code: String) -> [String] {
        ["--key", folder.appendingPathComponent("participants/\(code).key.pem").path,
         "--cert", folder.appendingPathComponent("participants/\(code).cert.pem").path]
    }

    @Test("XML-DSig, flattened JWS and compact JWS verify and name the issuer, for each algorithm", arguments: ["rsa", "ecdsa", "sm2"])
    func roundTrip(algorithm: String) throws {
        let folder = try pki(algorithm)
        let health = credentials(folder, "440800-HEALTH")
        var files: [String] = []
        for (arguments, name) in [([CLI.example("examples/bulletins/licence-revocation.xml")], "a.xml"),
                                  ([CLI.example("examples/bulletins/licence-revocation.json")], "b.jws"),
                                  (["--compact", CLI.example("examples/bulletins/licence-revocation.json")], "c.jws"),
                                  (["--to", "xml", CLI.example("examples/bulletins/licence-revocation.json")], "d.xml")] {
            let signed = try CLI.run(["sign"] + health + arguments)
            #expect(signed.status == 0, "\(signed.stderr)")
            files.append(try CLI.file(signed.stdout, name: name))
        }
        let verified = try CLI.run(["verify", "--trust", folder.appendingPathComponent("trust").path] + files)
        #expect(verified.status == 0, "\(verified.stdout)")
        #expect(verified.lines == files.map { "\($0): ok 440800-HEALTH" })
    }

    @Test("failures print their code and exit 1")
    func failures() throws {
        let folder = try pki()
        let trust = folder.appendingPathComponent("trust").path
        let signed = try CLI.run(["sign"] + credentials(folder, "440800-HEALTH") + [CLI.example("examples/bulletins/licence-revocation.xml")])
        let tampered = try CLI.file(signed.stdout.replacingOccurrences(of: "D440802000789", with: "D440802000780"), name: "t.xml")
        let unsigned = CLI.example("examples/bulletins/licence-revocation.xml")
        let other = try pki()
        let foreign = try CLI.run(["sign"] + credentials(other, "440800-HEALTH") + [unsigned])
        let foreignFile = try CLI.file(foreign.stdout, name: "f.xml")
        let result = try CLI.run(["verify", "--trust", trust, tampered, unsigned, foreignFile])
        #expect(result.status == 1)
        #expect(result.lines.count == 3)
        #expect(result.lines[0].hasPrefix("\(tampered): signature-invalid"))
        #expect(result.lines[1].hasPrefix("\(unsigned): profile-violation"))
        #expect(result.lines[2].hasPrefix("\(foreignFile): untrusted-signer"))
        // Signing someone else's bulletin is refused before anything is signed.
        let wrong = try CLI.run(["sign"] + credentials(folder, "440800-HEALTH") + [CLI.example("examples/bulletins/penalty-decision.json")])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("[issuer-mismatch]"))
        #expect(wrong.stdout.isEmpty)
    }

    @Test("a valid signature by another participant than the bulletin's issuer is issuer-mismatch")
    func issuerBinding() throws {
        let folder = try pki()
        // The health department signs a payload that claims to come from the drug regulator; `tongbao sign`
        // refuses that, so the library makes it, as an attacker holding the health key could.
        let claimed = try String(contentsOfFile: CLI.example("examples/bulletins/licence-revocation.json"), encoding: .utf8)
            .replacingOccurrences(of: "\"issuer\": \"440800-HEALTH\"", with: "\"issuer\": \"440800-DRUG\"")
        let key = try PrivateKey(pem: Array(try Data(contentsOf: folder.appendingPathComponent("participants/440800-HEALTH.key.pem"))))
        let certificate = try Certificate(pem: Array(try Data(contentsOf: folder.appendingPathComponent("participants/440800-HEALTH.cert.pem"))))
        let forged = try JWS().sign(Array(claimed.utf8), key: key, chain: [certificate])
        let path = try CLI.file(forged, name: "forged.jws")
        let result = try CLI.run(["verify", "--trust", folder.appendingPathComponent("trust").path, path])
        #expect(result.status == 1)
        #expect(result.lines.first?.hasPrefix("\(path): issuer-mismatch") == true)
    }
}

@Suite("committed signed examples")
struct SignedExampleTests {
    @Test("examples/signed verify against certs/test-trust, and fixture keys re-sign what verifies")
    func committedExamples() throws {
        let folder = CLI.repository.appendingPathComponent("examples/signed")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().map { folder.appendingPathComponent($0).path }
        #expect(files.count == 3)
        let result = try CLI.run(["verify", "--trust", CLI.example("certs/test-trust")] + files)
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.lines.map { $0.components(separatedBy: ": ").last ?? "" } == ["ok 440800-HEALTH", "ok 440800-HEALTH", "ok 440800-INS-ADMIN"])
        let resigned = try CLI.run(["sign", "--key", CLI.example("Tests/TrustTests/Fixtures/440800-HEALTH.key.pem"),
                                    "--cert", CLI.example("certs/test-trust/participants/440800-HEALTH.cert.pem"),
                                    CLI.example("examples/bulletins/licence-revocation.xml")])
        #expect(resigned.status == 0)
        #expect(try CLI.run(["verify", "--trust", CLI.example("certs/test-trust"), try CLI.file(resigned.stdout, name: "r.xml")]).status == 0)
    }
}
