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

@Suite("tongbao pki issue, revoke and crl")
struct PKILifecycleTests {
    @Test("an issued certificate verifies for its participant; revoked and put on a fresh CRL, it is refused; serials never repeat")
    func issueRevokeCRL() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tongbao-pki-life-\(UUID().uuidString)")
        #expect(try CLI.run(["pki", "init", "--out", folder.path]).status == 0)
        let out = folder.appendingPathComponent("issued")
        let issued = try CLI.run(["pki", "issue", "--ca", folder.path, "--code", "440900-HEALTH", "--role", "health", "--name", "茂名市卫生健康局", "--out", out.path])
        #expect(issued.status == 0, "\(issued.stderr)")
        #expect(issued.stdout.contains(#""code":"440900-HEALTH","role":"health","region":"440900","name":"茂名市卫生健康局""#), "\(issued.stdout)")
        let certificateFile = out.appendingPathComponent("440900-HEALTH.cert.pem")
        let certificate = try Certificate(pem: Array(try Data(contentsOf: certificateFile)))
        let trust = folder.appendingPathComponent("trust")
        let now = Int(Date().timeIntervalSince1970)
        #expect(try TrustStore(directory: trust.path).verify(certificate, at: now, participant: "440900-HEALTH") == ["440900-HEALTH"])
        #expect(try FileManager.default.attributesOfItem(atPath: out.appendingPathComponent("440900-HEALTH.key.pem").path)[.posixPermissions] as? Int == 0o600)
        let second = try CLI.run(["pki", "issue", "--ca", folder.path, "--code", "440900-DRUG", "--role", "drug", "--out", out.path])
        let other = try Certificate(pem: Array(try Data(contentsOf: out.appendingPathComponent("440900-DRUG.cert.pem"))))
        #expect(second.status == 0 && other.serialNumber != certificate.serialNumber && (other.serialNumber ?? 0) > 105)
        #expect(try CLI.run(["pki", "issue", "--ca", folder.path, "--code", "440900-HEALTH", "--role", "health", "--out", out.path]).status == 65,
                "never over an existing key")

        let revoked = try CLI.run(["pki", "revoke", "--ca", folder.path, "--reason", "key compromise", certificateFile.path])
        #expect(revoked.status == 0 && revoked.stdout.contains("revoked serial"), "\(revoked.stderr)")
        let crl = try CLI.run(["pki", "crl", "--ca", folder.path, "--out", trust.appendingPathComponent("crl/root.pem").path, "--days", "3"])
        #expect(crl.status == 0 && crl.stdout.contains("1 revoked"), "\(crl.stderr)")
        let store = try TrustStore(directory: trust.path)
        #expect(throws: TrustError.self) { try store.verify(certificate, at: now, participant: "440900-HEALTH") }
        do {
            _ = try store.verify(certificate, at: now, participant: "440900-HEALTH")
        } catch {
            #expect(error.code == .certificateRevoked)
        }
        #expect(try store.verify(other, at: now, participant: "440900-DRUG") == ["440900-DRUG"], "the others stay trusted")
        #expect(try CLI.run(["pki", "revoke", "--ca", folder.path, CLI.repository.appendingPathComponent("certs/test-trust/roots/root.pem").path]).status == 65,
                "a certificate of another CA")
    }
}
