import AsyncHTTPClient
import Foundation
import Ledger
import Testing
import TongbaoTestSupport
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

    @Test("against a running gateway: pki issue, the participant added to the file submits within 10 s; pki revoke, pki crl and tongbao reload, and its next submission is refused")
    func lifecycleOnARunningGateway() async throws {
        let (folder, port, server, _, _) = try SubmitCommandTests.startGateway("tongbao-pki-running")
        defer { server.stop() }
        let url = "https://127.0.0.1:\(port)"
        let issuedFolder = folder.data.appendingPathComponent("issued")
        let issued = try CLI.run(["pki", "issue", "--ca", folder.pki.path, "--code", "440800-HEALTHC", "--role", "health", "--region", "440800",
                                  "--name", "湛江市卫生健康局（三）", "--out", issuedFolder.path])
        #expect(issued.status == 0, "\(issued.stdout)\(issued.stderr)")
        // The line pki issue prints, added to the participants file.
        let line = try #require(issued.lines.first { $0.hasPrefix("add to the participants file: ") }).dropFirst("add to the participants file: ".count)
        let file = folder.pki.appendingPathComponent("participants.json")
        let text = try String(contentsOf: file, encoding: .utf8)
        let closing = try #require(text.range(of: "]", options: .backwards))
        try Data(text.replacingCharacters(in: closing, with: ",\n    \(line)\n  ]").utf8).write(to: file, options: .atomic)

        let credentials = ["--key", issuedFolder.appendingPathComponent("440800-HEALTHC.key.pem").path,
                           "--cert", issuedFolder.appendingPathComponent("440800-HEALTHC.cert.pem").path, "--trust", folder.pki.appendingPathComponent("trust").path]
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(secondsFromGMT: 8 * 3600)
        let issuedAt = formatter.string(from: Date().addingTimeInterval(-60))   // the new certificate is valid from a few minutes ago
        func bulletin(_ id: String) throws -> String {
            let text = #"{"id":"\#(id)","type":"LicenceRevocation","issuer":"440800-HEALTHC","issuedAt":"\#(issuedAt)","region":"440800","rules":"guangdong","body":{"decisionNo":"湛卫医罚〔2025〕\#(id)号","decidedOn":"2025-05-20","person":{"code":"D440802009\#(id.suffix(3))","category":"physician","responsibility":"main"},"institutions":["H44080200001"],"certificate":{"kind":"practising","number":"119\#(id.suffix(3))"},"action":"revoked"}}"#
            return try CLI.file(text, name: "\(id).json")
        }
        // Convergence is timed with an in-process client (a CLI process start can take seconds on a loaded machine).
        for suffix in ["key.pem", "cert.pem"] {
            try FileManager.default.copyItem(at: issuedFolder.appendingPathComponent("440800-HEALTHC.\(suffix)"),
                                             to: folder.pki.appendingPathComponent("participants/440800-HEALTHC.\(suffix)"))
        }
        let client = try folder.client("440800-HEALTHC")
        defer { _ = client.shutdown() }
        func healthz() async -> UInt? {
            try? await client.execute(HTTPClientRequest(url: url + "/healthz"), timeout: .seconds(5)).status.code
        }
        func within10s(_ check: () async -> Bool) async throws -> Bool {
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline {
                if await check() { return true }
                try await Task.sleep(for: .milliseconds(100))
            }
            return await check()
        }
        let known = try await within10s { await healthz() == 200 }
        let serveLog = (try? String(contentsOf: folder.data.appendingPathComponent("serve.stderr"), encoding: .utf8)) ?? ""
        #expect(known, "the new participant is known within 10 s of being added to the file: \(serveLog.suffix(1500))")
        let first = try bulletin("HC-001")
        let submitted = try CLI.run(["submit", "--url", url] + credentials + [first])
        #expect(submitted.status == 0, "\(submitted.stdout)\(submitted.stderr)")

        // Revoked, a fresh CRL in the trust store, the gateway told: refused from then on.
        #expect(try CLI.run(["pki", "revoke", "--ca", folder.pki.path, issuedFolder.appendingPathComponent("440800-HEALTHC.cert.pem").path]).status == 0)
        #expect(try CLI.run(["pki", "crl", "--ca", folder.pki.path, "--out", folder.pki.appendingPathComponent("trust/crl/root.pem").path]).status == 0)
        #expect(try CLI.run(["reload", "--data", folder.data.path]).status == 0)
        #expect(try await within10s { await healthz() == 403 }, "the revoked certificate is refused within 10 s, on the connection opened before")
        let refused = try CLI.run(["submit", "--url", url] + credentials + [try bulletin("HC-002")])
        #expect(refused.status != 0 && (refused.stdout + refused.stderr).contains("403"), "\(refused.stdout)\(refused.stderr)")
        let log = try await RunningStore(try await SQLiteLedger.open(path: folder.data.appendingPathComponent("tongbao.sqlite").path))
        let ids = try await log.entries(after: 0, limit: 1000).filter { $0.content.outcome == .accepted }.map(\.content.id)
        #expect(ids.contains("HC-001") && !ids.contains("HC-002"))
    }
}
