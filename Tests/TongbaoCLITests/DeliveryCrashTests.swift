import AsyncHTTPClient
import Bulletins
import Foundation
import Gateway
import Ledger
import NIOCore
import NIOSSL
import Testing
import TongbaoTestReceiver
import Trust

@Suite("crash safety of delivery")
struct DeliveryCrashTests {
    @Test("300 revocations pushed to a real HTTPS receiver while the gateway is SIGKILLed twice: every referral arrives, none twice after dedup")
    func killDuringDelivery() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("tongbao-delivery-crash-\(UUID().uuidString)")
        let pki = data.appendingPathComponent("pki")
        _ = try DevelopmentPKI.generate(
            members: ParticipantsFile.defaults.map { DevelopmentPKI.Member(code: $0.code, name: $0.name, serverNames: ["127.0.0.1"]) },
            algorithm: .ecdsa, into: pki, now: Int(Date().timeIntervalSince1970))
        let receiver = try await TestReceiver.start(folder: pki, code: "440800-HEALTH")
        let participants = ParticipantsFile.defaults.map { participant in
            var participant = participant
            if participant.code == "440800-HEALTH" { participant.endpoint = receiver.url }
            return participant
        }
        try Data(ParticipantsFile.text(participants).utf8).write(to: pki.appendingPathComponent("participants.json"))
        let port = Int.random(in: 20_000...40_000)
        let server = ServerProcess(data: data, port: port, extraArguments: ["--push-backoff-ms", "50", "--push-timeout-ms", "2000"])
        try server.start()
        defer { server.stop() }

        let folder = pki.appendingPathComponent("participants")
        let keyPEM = Array(try Data(contentsOf: folder.appendingPathComponent("440800-HEALTH.key.pem")))
        let certPEM = Array(try Data(contentsOf: folder.appendingPathComponent("440800-HEALTH.cert.pem")))
        let key = try PrivateKey(pem: keyPEM)
        let certificate = try Trust.Certificate(pem: certPEM)
        let count = 300
        var signed: [[UInt8]] = []
        for index in 0..<count {
            let person = "D4408029\(String(format: "%05d", index))"
            let text = #"{"id":"REV-\#(index)","type":"LicenceRevocation","issuer":"440800-HEALTH","issuedAt":"2025-05-21T15:00:00+08:00","region":"440800","rules":"guangdong","body":{"decisionNo":"湛卫医罚〔2025〕\#(index)号","decidedOn":"2025-05-20","person":{"code":"\#(person)","category":"physician","responsibility":"main"},"institutions":["H44080200001"],"certificate":{"kind":"practising","number":"1104408\#(index)"},"action":"revoked"}}"#
            signed.append(Array(try JWS().sign(Array(text.utf8), key: key, chain: [certificate]).utf8))
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(certPEM).map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: keyPEM, format: .pem))
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(try Data(contentsOf: pki.appendingPathComponent("trust/roots/root.pem")))))
        tls.certificateVerification = .noHostnameVerification
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls, timeout: .init(connect: .seconds(2), read: .seconds(10))))

        // Submit in order, one at a time; SIGKILL the gateway after 100 and 200 receipts (deliveries are in flight then).
        var kills = 0
        for (index, bulletin) in signed.enumerated() {
            var attempts = 0
            while true {
                attempts += 1
                try #require(attempts < 400, "bulletin \(index) never got a receipt")
                var request = HTTPClientRequest(url: "https://127.0.0.1:\(port)/v1/bulletins")
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/jose+json")
                request.body = .bytes(ByteBuffer(bytes: bulletin))
                guard let response = try? await client.execute(request, timeout: .seconds(10)),
                      let body = try? await response.body.collect(upTo: 1 << 20) else {
                    try await Task.sleep(for: .milliseconds(50))
                    continue
                }
                #expect(response.status.code == 201, "\(String(buffer: body))")
                break
            }
            if index == 99 || index == 199 {
                server.kill()
                kills += 1
                try server.start()
            }
        }
        try await client.shutdown()

        // Wait until every referral has arrived (the restarted gateway resumes its outbox).
        let deadline = Date().addingTimeInterval(120)
        while receiver.received.bulletins.values.filter({ $0.type == .referral }).count < count, Date() < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        server.stop()
        let received = receiver.received
        let referrals = received.bulletins.values.filter { $0.type == .referral }
        let people = Set(referrals.compactMap { bulletin -> String? in
            if case .referral(let body) = bulletin.body { return body.person.code } else { return nil }
        })
        let redelivered = received.arrivals.values.reduce(0) { $0 + $1 - 1 }
        print("delivery crash test: \(kills) kills, \(referrals.count) unique referrals for \(people.count) persons, \(redelivered) redelivered before dedup, \(received.rejected) rejected")
        #expect(kills == 2)
        #expect(referrals.count == count)
        #expect(people.count == count)
        #expect(received.rejected == 0)
        // Besides the referrals, only the scheduler's periodic bulletin (last month's, issued at start) reached health.
        #expect(received.bulletins.values.filter { $0.type != .referral }.map(\.type) == [.scoreBulletin])

        // The ledger agrees: one referral per revocation, every one delivered, and the chain holds.
        let log = try SQLiteMessageLog(path: data.appendingPathComponent("tongbao.sqlite").path)
        let deliveries = try log.deliveries(in: nil, limit: 10_000).filter { $0.recipient == "440800-HEALTH" && $0.type == "Referral" }
        #expect(deliveries.count == count && deliveries.allSatisfy { $0.state == .delivered })
        #expect(try log.verifyChain().firstBroken == nil)
        await receiver.stop()
    }
}
