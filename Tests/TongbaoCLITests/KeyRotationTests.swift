import AsyncHTTPClient
import Foundation
import Testing
import TongbaoTestSupport
import TransparencyLog
import Trust

/// `tongbao pki rotate` (cli.md, gateway.md §7): the log key and the signing key replaced with an overlap in
/// which both verify, and receipts of before the rotation verifying after it.
@Suite("key rotation", .serialized)
struct KeyRotationTests {
    @Test("pki rotate --what log: during the overlap checkpoints carry both signatures; after it only the new one, and receipts of before still verify through the key document; a second rotation waits for the overlap")
    func logKey() async throws {
        var (folder, port, server, _, credentials) = try SubmitCommandTests.startGateway("tongbao-rotate")
        defer { server.stop() }
        let scratch = try ExternalCommand.scratchFolder("tongbao-rotate-files")
        func write(_ bytes: [UInt8], _ name: String) throws -> String {
            let path = scratch.appendingPathComponent(name).path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return path
        }
        let files = try signedRevocations(3, idPrefix: "ROT", personPrefix: "55", by: try folder.credentials("440800-HEALTH")).enumerated().map {
            try write($0.element, "revocation-\($0.offset).jws")
        }
        func url() -> String { "https://127.0.0.1:\(port)" }
        func receipt(_ id: String) async throws -> String {
            let client = try folder.client("440800-HEALTH")
            defer { _ = client.shutdown() }
            let answer = try await client.execute(HTTPClientRequest(url: url() + "/v1/bulletins/440800-HEALTH/\(id)/receipt"), timeout: .seconds(10))
            return try write(Array(buffer: try await answer.body.collect(upTo: 1 << 20)), "\(id).receipt.json")
        }
        func restart() throws {
            server.stop()
            port = Int.random(in: 20_000...40_000)
            server = ServerProcess(data: folder.data, port: port, standardError: folder.data.appendingPathComponent("serve.stderr"))
            try server.start()
        }
        func logSignatures(_ receiptFile: String) throws -> Int {
            let receipt = try LogReceipt(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: receiptFile))))
            return receipt.checkpoint.components(separatedBy: "\n— tongbao/440800-GATEWAY ").count - 1
        }

        #expect(try CLI.run(["submit", "--url", url()] + credentials + [files[0]], retryingUntilServerIsUp: true).status == 0)
        let before = try await receipt("ROT-0")
        let oldKey = try CLI.run(["log", "key", "--data", folder.data.path])
        #expect(oldKey.lines.count == 1)
        let oldKeyFile = try write(Array(oldKey.stdout.utf8), "old.vkey")

        // The rotation, while the gateway is stopped; a second one is refused while the first one's overlap lasts.
        server.stop()
        let rotated = try CLI.run(["pki", "rotate", "--data", folder.data.path, "--what", "log", "--overlap-days", "7"])
        #expect(rotated.status == 0 && rotated.stdout.contains("rotated the log key of tongbao/440800-GATEWAY"), "\(rotated.stdout)\(rotated.stderr)")
        let again = try CLI.run(["pki", "rotate", "--data", folder.data.path, "--what", "log"])
        #expect(again.status == 65 && again.stderr.contains("overlap lasts until"), "\(again.stdout)\(again.stderr)")
        let keys = try CLI.run(["log", "key", "--data", folder.data.path])
        #expect(keys.lines.count == 2 && keys.lines.last == oldKey.lines.first && keys.lines.first != oldKey.lines.first, "\(keys.stdout)")
        let newKeyFile = try write(Array((keys.lines.first ?? "").utf8), "new.vkey")
        let bothKeysFile = try write(Array(keys.stdout.utf8), "both.vkey")

        // During the overlap: the new checkpoint is signed by both keys, so a participant knowing only the old one still verifies.
        try restart()
        let during = try CLI.run(["submit", "--url", url()] + credentials + [files[1]], retryingUntilServerIsUp: true)
        #expect(during.status == 0, "\(during.stdout)\(during.stderr)")
        let overlapping = try await receipt("ROT-1")
        #expect(try logSignatures(overlapping) == 2)
        #expect(try CLI.run(["receipt", "verify", "--log-key", oldKeyFile, before, overlapping]).status == 0)
        #expect(try CLI.run(["receipt", "verify", "--log-key", newKeyFile, overlapping]).status == 0)
        let onlyNew = try CLI.run(["receipt", "verify", "--log-key", newKeyFile, before])
        #expect(onlyNew.status == 1 && onlyNew.stdout.contains("signature-invalid"), "a receipt of before the rotation needs the old key: \(onlyNew.stdout)")
        let viaDocument = try CLI.run(["receipt", "verify", "--url", url()] + credentials + [before, overlapping])
        #expect(viaDocument.status == 0, "the key document lists the previous key with its binding: \(viaDocument.stdout)\(viaDocument.stderr)")

        // After the overlap (its end moved into the past): only the new key signs; what was signed before still verifies.
        let history = folder.pki.appendingPathComponent("participants/440800-GATEWAY.log-key-history.txt")
        let line = try String(contentsOf: history, encoding: .utf8).split(separator: " ")
        try Data("\(line[0]) \(Int(Date().timeIntervalSince1970) - 60) ended\n".utf8).write(to: history)
        try restart()
        #expect(try CLI.run(["submit", "--url", url()] + credentials + [files[2]], retryingUntilServerIsUp: true).status == 0)
        let after = try await receipt("ROT-2")
        #expect(try logSignatures(after) == 1)
        #expect(try CLI.run(["receipt", "verify", "--log-key", oldKeyFile, after]).status == 1, "the old key no longer signs")
        let allThree = try CLI.run(["receipt", "verify", "--url", url()] + credentials + [before, overlapping, after])
        #expect(allThree.status == 0, "\(allThree.stdout)\(allThree.stderr)")

        // A relayed key document with one more "previous" key, bound by another participant's certificate: refused.
        let client = try folder.client("440800-HEALTH")
        let fetched = try await client.execute(HTTPClientRequest(url: url() + "/v1/log/key"), timeout: .seconds(10))
        let document = Array(buffer: try await fetched.body.collect(upTo: 1 << 20))
        try await client.shutdown()
        let trust = try TrustStore(directory: folder.pki.appendingPathComponent("trust").path)
        let now = Int(Date().timeIntervalSince1970)
        #expect(try LogKeyBinding.verifyAll(document, trust: trust, now: now).count == 2)
        let intruder = try #require(NoteSigner(name: "tongbao/440800-GATEWAY", key: try Ed25519PrivateKey.generate()))
        let health = try folder.credentials("440800-HEALTH")
        let statement = #"{"origin":"tongbao/440800-GATEWAY","vkey":"\#(intruder.verifier.text)","gateway":"440800-HEALTH"}"#
        let binding = try JWS().sign(Array(statement.utf8), key: health.key, chain: [health.certificate])
        let text = String(decoding: document, as: UTF8.self)
        let relayed = text.replacingOccurrences(of: #""previous":["#, with: #""previous":[{"vkey":"\#(intruder.verifier.text)","binding":"\#(binding)"},"#)
        #expect(relayed != text)
        #expect(throws: LogError.self, "a previous key bound by the health department is not the gateway's") {
            try LogKeyBinding.verifyAll(Array(relayed.utf8), trust: trust, now: now)
        }
        server.stop()
        let audit = try CLI.run(["log", "verify", "--data", folder.data.path, "--log-key", bothKeysFile, "--receipt", before, "--receipt", after])
        #expect(audit.status == 0, "\(audit.stdout)\(audit.stderr)")
    }

    @Test("pki rotate --what signing: a new certificate from the data folder's CA, the old pair kept and still valid; the gateway serves with the new one")
    func signingKey() async throws {
        var (folder, port, server, _, credentials) = try SubmitCommandTests.startGateway("tongbao-rotate-signing")
        defer { server.stop() }
        let participants = folder.pki.appendingPathComponent("participants")
        let revocation = try signedRevocations(2, idPrefix: "RSG", personPrefix: "56", by: try folder.credentials("440800-HEALTH"))
        let files = try revocation.enumerated().map { index, bytes in
            let path = participants.appendingPathComponent("rsg-\(index).jws").path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return path
        }
        #expect(try CLI.run(["submit", "--url", "https://127.0.0.1:\(port)"] + credentials + [files[0]], retryingUntilServerIsUp: true).status == 0)
        let oldCertificate = try Trust.Certificate(pem: Array(try Data(contentsOf: participants.appendingPathComponent("440800-GATEWAY.cert.pem"))))
        server.stop()

        let rotated = try CLI.run(["pki", "rotate", "--data", folder.data.path, "--what", "signing"])
        #expect(rotated.status == 0 && rotated.stdout.contains("rotated the signing key of 440800-GATEWAY"), "\(rotated.stdout)\(rotated.stderr)")
        let newCertificate = try Trust.Certificate(pem: Array(try Data(contentsOf: participants.appendingPathComponent("440800-GATEWAY.cert.pem"))))
        let kept = try Trust.Certificate(pem: Array(try Data(contentsOf: participants.appendingPathComponent("440800-GATEWAY.previous.cert.pem"))))
        #expect(newCertificate.serialNumber != oldCertificate.serialNumber && kept.serialNumber == oldCertificate.serialNumber)
        #expect(newCertificate.participantCodes == ["440800-GATEWAY"])
        let keyMode = try FileManager.default.attributesOfItem(atPath: participants.appendingPathComponent("440800-GATEWAY.key.pem").path)[.posixPermissions] as? Int
        #expect(keyMode == 0o600)
        let trust = try TrustStore(directory: folder.pki.appendingPathComponent("trust").path)
        let now = Int(Date().timeIntervalSince1970)
        #expect(try trust.verify(kept, at: now, participant: "440800-GATEWAY") == ["440800-GATEWAY"],
                "the previous certificate still verifies (until it expires or is revoked)")
        #expect(try trust.verify(newCertificate, at: now, participant: "440800-GATEWAY") == ["440800-GATEWAY"])

        // The gateway starts with the new pair: its log key binding is signed by the new certificate, which submit checks.
        port = Int.random(in: 20_000...40_000)
        server = ServerProcess(data: folder.data, port: port, standardError: folder.data.appendingPathComponent("serve.stderr"))
        try server.start()
        let submitted = try CLI.run(["submit", "--url", "https://127.0.0.1:\(port)"] + credentials + [files[1]], retryingUntilServerIsUp: true)
        #expect(submitted.status == 0, "\(submitted.stdout)\(submitted.stderr)")
        let client = try folder.client("440800-HEALTH")
        defer { _ = client.shutdown() }
        let keyDocument = try await client.execute(HTTPClientRequest(url: "https://127.0.0.1:\(port)/v1/log/key"), timeout: .seconds(10))
        let document = Array(buffer: try await keyDocument.body.collect(upTo: 1 << 20))
        #expect(try LogKeyBinding.verifyAll(document, trust: trust, now: now).count == 1)
        let binding = try #require((try JSONSerialization.jsonObject(with: Data(document)) as? [String: Any])?["binding"] as? String)
        let signer = try JWS().verify(Array(binding.utf8), trust: trust, at: [now]).signer
        #expect(signer.serialNumber == newCertificate.serialNumber, "the key binding is signed with the new certificate")
    }
}
