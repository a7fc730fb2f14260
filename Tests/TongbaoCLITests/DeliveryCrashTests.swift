import AsyncHTTPClient
import Bulletins
import Foundation
import Gateway
import Ledger
import NIOCore
import NIOSSL
import Testing
import TongbaoTestSupport
import TongbaoTestReceiver
import Trust

@Suite("crash safety of delivery")
struct DeliveryCrashTests {
    @Test("300 revocations pushed to a real HTTPS receiver while the gateway is SIGKILLed twice: every referral arrives, none twice after dedup")
    func killDuringDelivery() async throws {
        let folder = try GatewayDataFolder("tongbao-delivery-crash")
        let receiver = try await TestReceiver.start(folder: folder.pki, code: "440800-HEALTH")
        try folder.writeParticipants(endpoints: ["440800-HEALTH": receiver.url])
        let port = Int.random(in: 20_000...40_000)
        let server = ServerProcess(data: folder.data, port: port, extraArguments: ["--push-backoff-ms", "50", "--push-timeout-ms", "2000"])
        try server.start()
        defer { server.stop() }
        let count = 300
        let signed = try signedRevocations(count, idPrefix: "REV", personPrefix: "029", by: try folder.credentials("440800-HEALTH"))
        let client = try folder.client("440800-HEALTH")

        // Submit in order, one at a time; SIGKILL the gateway after 100 and 200 receipts (deliveries are in flight then).
        var kills = 0
        for (index, bulletin) in signed.enumerated() {
            let answer = try await submitUntilAnswered(bulletin, with: client) { _ in "https://127.0.0.1:\(port)/v1/bulletins" }
            #expect(answer.status == 201 || answer.status == 200, "\(answer.body)")   // 200: a retry of one committed before a kill
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
        // The gateway records a delivery once the receiver has answered, a moment after the receiver has
        // it: wait for the records too before stopping it (stopping first can leave the last one in flight).
        let log = try await RunningStore.open(.sqlite(path: folder.data.appendingPathComponent("tongbao.sqlite").path))
        func healthReferrals() async throws -> [Delivery] {
            try await log.deliveries(in: nil, limit: 10_000).filter { $0.recipient == "440800-HEALTH" && $0.type == "Referral" }
        }
        while try await healthReferrals().contains(where: { $0.state != .delivered }), Date() < deadline {
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
        let deliveries = try await healthReferrals()
        #expect(deliveries.count == count && deliveries.allSatisfy { $0.state == .delivered })
        #expect(try await log.verifyChain().firstBroken == nil)
        await receiver.stop()
    }

    @Test("an endpoint that is down ends in the dead-letter list (tongbao outbox dead); tongbao outbox retry delivers it once it is back")
    func deadLetterAndOperatorRetry() async throws {
        let folder = try GatewayDataFolder("tongbao-dead-letter")
        let pki = folder.pki
        let data = folder.data
        // Start the drug endpoint to learn a free port, then take it down.
        let drug = try await TestReceiver.start(folder: pki, code: "440800-DRUG")
        await drug.stop()
        try folder.writeParticipants(endpoints: ["440800-DRUG": drug.url])
        let port = Int.random(in: 20_000...40_000)
        let server = ServerProcess(data: data, port: port, extraArguments: ["--push-attempts", "3", "--push-backoff-ms", "20", "--push-timeout-ms", "1000"])
        try server.start()
        defer { server.stop() }

        // The development PKI's pharmacy principal penalty, submitted by the insurance administration.
        let submitted = try CLI.run(["submit", "--url", "https://127.0.0.1:\(port)", "--key", pki.appendingPathComponent("participants/440800-INS-ADMIN.key.pem").path,
                                     "--cert", pki.appendingPathComponent("participants/440800-INS-ADMIN.cert.pem").path,
                                     "--trust", pki.appendingPathComponent("trust").path, try CLI.file(Self.pharmacyPenalty, name: "penalty.json")],
                                    retryingUntilServerIsUp: true)
        #expect(submitted.status == 0, "\(submitted.stdout)\(submitted.stderr)")

        // Three failed attempts: the referral (and last month's score bulletin) become dead letters.
        var dead = try CLI.run(["outbox", "dead", "--data", data.path])
        for _ in 0..<100 where !dead.stdout.contains("\tReferral\t") {
            try await Task.sleep(for: .milliseconds(100))
            dead = try CLI.run(["outbox", "dead", "--data", data.path])
        }
        let referralLine = try #require(dead.lines.first { $0.contains("\tReferral\t") })
        #expect(referralLine.contains("\tdead\tattempts=3\t440800-DRUG\t"))
        let sequence = try #require(referralLine.split(separator: "\t").first.map(String.init))
        let id = try #require(referralLine.split(separator: "\t").first { $0.hasPrefix("440800-GATEWAY/REF-") }.map(String.init))
        let status = try CLI.run(["outbox", "status", "--data", data.path, id])
        #expect(status.stdout.contains("440800-DRUG\tdead\tattempts=3"))
        #expect(status.lines.filter { $0.contains("\tfailed\t") && $0.contains("retry in") }.count == 2)

        // Back up; the operator retries that one; it arrives exactly once.
        let back = try await drug.restarted(folder: pki)
        let retry = try CLI.run(["outbox", "retry", "--data", data.path, sequence])
        #expect(retry.stdout.contains("put 1 dead letter(s) back"))
        let deadline = Date().addingTimeInterval(30)
        while back.received.bulletins.values.filter({ $0.type == .referral }).isEmpty, Date() < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(back.received.bulletins.values.filter { $0.type == .referral }.count == 1)
        #expect(back.received.arrivals.values.allSatisfy { $0 == 1 })
        // The gateway records the delivery once the receiver has answered (under load an attempt can time out
        // after the receiver has it, and the next attempt is deduplicated there): wait for the record.
        var after = try CLI.run(["outbox", "status", "--data", data.path, id])
        while !after.stdout.contains("440800-DRUG\tdelivered\t"), Date() < deadline {
            try await Task.sleep(for: .milliseconds(200))
            after = try CLI.run(["outbox", "status", "--data", data.path, id])
        }
        #expect(after.stdout.contains("440800-DRUG\tdelivered\t"))
        #expect(after.stdout.contains("\tretry-requested\t"))
        server.stop()
        await back.stop()
    }

    static let pharmacyPenalty = """
        {"id": "A-DEAD-1", "type": "PenaltyDecision", "issuer": "440800-INS-ADMIN", "issuedAt": "2025-07-01T10:00:00+08:00",
         "region": "440800", "rules": "guangdong",
         "body": {"decisionNo": "湛医保罚〔2025〕41号", "decidedOn": "2025-07-01",
                  "institution": {"code": "P44080200007", "kind": "pharmacy"}, "fraud": true,
                  "findings": [{"violation": "V1", "situations": ["penalty.art40"],
                                "persons": [{"code": "Y440802000321", "category": "pharmacy-principal", "responsibility": "main"}]}]}}
        """
}
