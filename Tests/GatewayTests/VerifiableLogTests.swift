import AsyncHTTPClient
import Foundation
import NIOCore
import StrictJSON
import Testing
import TongbaoTestSupport
import TransparencyLog
import Trust

/// The verifiable log as a participant, a witness and an auditor use it over mutual TLS (gateway.md §4a, §6),
/// checked by an independent verifier written in Python from RFC 9162 and the C2SP texts (`log_verifier.py`).
@Suite("the verifiable log end to end", .serialized)
struct VerifiableLogTests {
    @Test("receipts, checkpoints, consistency, tiles and a witness's cosignature verify in an independent verifier", arguments: GatewayStore.allCases)
    func independentlyVerified(store: GatewayStore) async throws {
        let gateway = try await LiveGateway.start(store: store)
        defer { gateway.stop() }
        let admin = try gateway.client("440800-INS-ADMIN")
        let health = try gateway.client("440800-HEALTH")
        let adminKey = try gateway.credentials("440800-INS-ADMIN")
        let trust = try TrustStore(directory: gateway.folder.appendingPathComponent("trust").path)
        let logKey = try LogKeyBinding.verify(try await get(health, gateway, "/v1/log/key").body, trust: trust, now: Int(Date().timeIntervalSince1970))

        var receipts: [String] = []
        func submit(_ index: Int) async throws {
            let bulletin = penalty("VL-\(index)", person: "D44080200\(4000 + index)", situation: "impersonation", on: "2025-06-1\(index % 10)")
            let sent = Array(try JWS().sign(Array(bulletin.utf8), key: adminKey.key, chain: [adminKey.certificate]).utf8)
            let answer = try await post(admin, gateway, sent, type: "application/jose+json")
            #expect(answer.status == 201, "\(answer.text)")
            let receipt = try LogReceipt(json: answer.body)
            try receipt.verify(logKey: logKey)
            receipts.append(JSONText.object([("receipt", JSONText.quoted(answer.text)), ("sent", JSONText.quoted(Data(sent).base64EncodedString()))]))
        }
        for index in 0..<3 { try await submit(index) }
        // An XML receipt too: the health department's revocation.
        let healthKey = try gateway.credentials("440800-HEALTH")
        let revocation = try XMLSignature().sign(Array(try Data(contentsOf: LiveGateway.repository.appendingPathComponent("examples/bulletins/licence-revocation.xml"))),
                                                 key: healthKey.key, certificate: healthKey.certificate)
        let xml = try await post(health, gateway, revocation, type: "application/xml")
        #expect(xml.status == 201 && xml.text.hasPrefix("<?xml"), "\(xml.text)")
        receipts.append(JSONText.object([("receipt", JSONText.quoted(xml.text)), ("sent", JSONText.quoted(Data(revocation).base64EncodedString()))]))

        let first = try await get(health, gateway, "/v1/log/checkpoint")
        #expect(first.status == 200)
        let old = try SignedCheckpoint(text: first.text, logKey: logKey).checkpoint
        for index in 3..<6 { try await submit(index) }
        let second = try await get(health, gateway, "/v1/log/checkpoint")
        let new = try SignedCheckpoint(text: second.text, logKey: logKey).checkpoint
        #expect(new.size > old.size && new.size < 256)
        let consistency = try await get(health, gateway, "/v1/log/proof/consistency?from=\(old.size)&to=\(new.size)")
        let level0 = try await get(health, gateway, "/v1/log/tile/0/000.p/\(new.size)")
        let entries = try await get(health, gateway, "/v1/log/tile/entries/000.p/\(new.size)")
        #expect(level0.status == 200 && entries.status == 200 && level0.body.count == 32 * new.size)
        #expect(try await get(health, gateway, "/v1/log/tile/0/000").status == 404, "no full tile yet")
        let inclusion = try await get(health, gateway, "/v1/log/proof/inclusion?index=\(new.size)&size=\(new.size)")
        #expect(inclusion.status == 404 && inclusion.text.contains(#""code":"not-found""#))

        // The test receiver's operator witnesses: it cosigns the checkpoint, which the gateway then serves with it.
        let witness = try #require(NoteSigner(name: "440800-HEALTH/witness", type: NoteVerifierKey.cosignatureV1, key: try Ed25519PrivateKey.generate()))
        let cosignature = try Cosignature.sign(new, time: UInt64(Date().timeIntervalSince1970), with: witness)
        var request = HTTPClientRequest(url: gateway.url + "/v1/log/cosignature")
        request.method = .POST
        request.body = .bytes(ByteBuffer(string: JSONText.object([("size", String(new.size)), ("vkey", JSONText.quoted(witness.verifier.text)),
                                                                  ("cosignature", JSONText.quoted(cosignature.line))])))
        let posted = try await health.execute(request, timeout: .seconds(10))
        #expect(posted.status.code == 200)
        // Named after another participant, or not verifying: refused.
        var impostor = request
        impostor.body = .bytes(ByteBuffer(string: JSONText.object([("size", String(new.size)), ("vkey", JSONText.quoted(witness.verifier.text)),
                                                                   ("cosignature", JSONText.quoted(cosignature.line))])))
        #expect(try await admin.execute(impostor, timeout: .seconds(10)).status.code == 403)
        let cosigned = try await get(health, gateway, "/v1/log/checkpoint")
        let latest = try SignedCheckpoint(text: cosigned.text, logKey: logKey)
        let witnessed = latest.checkpoint.size == new.size ? cosigned.text
            : try #require(try await gateway.log.checkpoints(from: new.size, limit: 1).first?.note)
        #expect(witnessed.contains("— 440800-HEALTH/witness "))

        let manifest = JSONText.object([
            ("vkey", JSONText.quoted(logKey.text)), ("receipts", JSONText.list(receipts)),
            ("checkpoints", JSONText.array([first.text, second.text])), ("consistency", consistency.text),
            ("tiles", JSONText.object([("level0", JSONText.quoted(Data(level0.body).base64EncodedString())),
                                       ("entries", JSONText.quoted(Data(entries.body).base64EncodedString()))])),
            ("witness", JSONText.object([("checkpoint", JSONText.quoted(witnessed)), ("vkey", JSONText.quoted(witness.verifier.text))])),
        ])
        let folder = try ExternalCommand.scratchFolder("tongbao-verifiable-log")
        let file = folder.appendingPathComponent("manifest.json")
        try Data(manifest.utf8).write(to: file)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("log_verifier.py").path
        let result = try ExternalCommand.run("python3", [script, file.path])
        #expect(result.status == 0 && result.output.hasPrefix("ok 7 receipts, consistency \(old.size)->\(new.size), tiles of \(new.size) entries, cosignature"),
                "\(result.output)")
        // The verifier has teeth: a receipt whose proof is another leaf's fails.
        let forged = manifest.replacingOccurrences(of: "VL-1", with: "VL-9")
        try Data(forged.utf8).write(to: file)
        #expect(try ExternalCommand.run("python3", [script, file.path]).status == 1)
        try await admin.shutdown()
        try await health.shutdown()
    }
}
