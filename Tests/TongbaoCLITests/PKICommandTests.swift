import Foundation
import Testing
import Trust

@Suite("tongbao pki init")
struct PKICommandTests {
    func scratch() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tongbao-pki-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test("generates a trust store that verifies every participant, for each algorithm", arguments: ["rsa", "ecdsa", "sm2"])
    func generate(algorithm: String) throws {
        let folder = try scratch()
        let result = try CLI.run(["pki", "init", "--out", folder.path, "--algorithm", algorithm])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.lines.first == "trust store: \(folder.path)/trust")
        let store = try TrustStore(directory: folder.appendingPathComponent("trust").path)
        let now = Int(Date().timeIntervalSince1970)
        for code in ["440800-INS-ADMIN", "440800-INS-AGENCY", "440800-HEALTH", "440800-DRUG", "440800-GATEWAY"] {
            let certificate = try Certificate(pem: Array(try Data(contentsOf: folder.appendingPathComponent("participants/\(code).cert.pem"))))
            #expect(try store.verify(certificate, at: now, participant: code) == [code])
            let keyPath = folder.appendingPathComponent("participants/\(code).key.pem").path
            let key = try PrivateKey(pem: Array(try Data(contentsOf: URL(fileURLWithPath: keyPath))))
            #expect(key.algorithm.rawValue == algorithm)
            let signature = try Signature.sign([1, 2, 3], with: key)
            #expect(Signature.verify(signature, of: [1, 2, 3], with: try certificate.publicKey()))
            let permissions = try FileManager.default.attributesOfItem(atPath: keyPath)[.posixPermissions] as? Int
            #expect(permissions == 0o600)
        }
        let participants = try String(contentsOf: folder.appendingPathComponent("participants.json"), encoding: .utf8)
        #expect(participants.contains(#""code":"440800-HEALTH","role":"health""#))

        // Never over an existing CA: the root and every certificate stay as they were.
        let root = try Data(contentsOf: folder.appendingPathComponent("trust/roots/root.pem"))
        let again = try CLI.run(["pki", "init", "--out", folder.path, "--algorithm", algorithm])
        #expect(again.status == 65 && again.stderr.contains("already holds a CA"), "\(again.stderr)")
        #expect(try Data(contentsOf: folder.appendingPathComponent("trust/roots/root.pem")) == root)
    }

    @Test("a participants file is used, and a broken one names the field")
    func participantsFile() throws {
        let folder = try scratch()
        let good = try CLI.file(#"{"participants":[{"code":"310000-HEALTH","role":"health","region":"310000","name":"上海市卫生健康委员会","endpoint":null}]}"#, name: "participants.json")
        let result = try CLI.run(["pki", "init", "--out", folder.path, "--participants", good])
        #expect(result.status == 0)
        #expect(result.lines.count == 2)
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("participants/310000-HEALTH.cert.pem").path))
        let bad = try CLI.file(#"{"participants":[{"code":"310000-HEALTH","role":"hospital","region":"310000","name":"x"}]}"#, name: "bad.json")
        let refused = try CLI.run(["pki", "init", "--out", folder.path, "--participants", bad])
        #expect(refused.status == 65)
        #expect(refused.stderr.contains("/participants/0/role: \"hospital\" is not one of"))
        #expect(try CLI.run(["pki", "init", "--out", folder.path, "--algorithm", "dsa"]).status == 64)
    }
}
