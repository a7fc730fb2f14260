import AsyncHTTPClient
import Bulletins
import Foundation
import Gateway
import Ledger
import NIOCore
import NIOSSL
import Synchronization
import Testing
import TongbaoTestReceiver
import TongbaoTestSupport
import Trust

@Suite("several gateway nodes on one PostgreSQL")
struct TwoNodeTests {
    @Test("two tongbao serve nodes on one database, one SIGKILLed midway: every receipted bulletin once, one chain, every referral delivered once")
    func twoNodesOneKilled() async throws {
        let postgres = try PostgresServer.shared()
        let database = try postgres.newDatabase()
        let folder = try GatewayDataFolder("tongbao-two-nodes")
        let receiver = try await TestReceiver.start(folder: folder.pki, code: "440800-HEALTH")
        try folder.writeParticipants(endpoints: ["440800-HEALTH": receiver.url])
        let ports = [Int.random(in: 20_000...29_999), Int.random(in: 30_000...39_999)]
        let arguments = ["--database", database, "--push-backoff-ms", "50", "--push-timeout-ms", "2000"]
        let nodes = ports.map { ServerProcess(data: folder.data, port: $0, extraArguments: arguments) }
        for node in nodes { try node.start() }
        defer { for node in nodes { node.stop() } }

        let count = 400
        let signed = try signedRevocations(count, idPrefix: "TWO", personPrefix: "027", by: try folder.credentials("440800-HEALTH"))
        let client = try folder.client("440800-HEALTH")

        // Four workers submit to both nodes in turn, as a load balancer would; after 150 receipts node 2 is
        // SIGKILLed and stays down: its clients retry on node 1.
        let progress = SubmissionProgress()
        let killSwitch = KillSwitch()
        let bulletins = signed
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    while true {
                        let index = progress.next.withLock { value -> Int in defer { value += 1 }; return value }
                        guard index < bulletins.count else { return }
                        let answer = try await submitUntilAnswered(bulletins[index], with: client) { attempt in
                            let port = killSwitch.killed.withLock { $0 } ? ports[0] : ports[(index + worker + attempt) % 2]
                            return "https://127.0.0.1:\(port)/v1/bulletins"
                        }
                        // 200: a retry of one committed before the kill (or on the other node), whose first answer was lost.
                        #expect(answer.status == 201 || answer.status == 200, "\(answer.body)")
                        let receipts = progress.receipts.withLock { $0[index] = answer.body; return $0.count }
                        if receipts == 150, killSwitch.killed.withLock({ value in defer { value = true }; return !value }) {
                            nodes[1].kill()
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(killSwitch.killed.withLock { $0 })
        #expect(progress.receipts.withLock { $0.count } == count)

        // Every referral arrives: node 1 also delivers what node 2 had queued or claimed (after the lease).
        let deadline = Date().addingTimeInterval(90)
        while receiver.received.bulletins.values.filter({ $0.type == .referral }).count < count, Date() < deadline {
            try await Task.sleep(for: .milliseconds(200))
        }
        // Node 1 follows what node 2 accepted: a person revoked through node 2 is terminated on node 1 too.
        let eligibility = try await client.execute(
            HTTPClientRequest(url: "https://127.0.0.1:\(ports[0])/v1/persons/D440802700001/eligibility?date=2025-06-01"), timeout: .seconds(10))
        let answer = String(buffer: try await eligibility.body.collect(upTo: 1 << 16))
        try await client.shutdown()
        nodes[0].stop()

        let received = receiver.received
        let referrals = received.bulletins.values.filter { $0.type == .referral }
        let redelivered = received.arrivals.values.reduce(0) { $0 + $1 - 1 }
        let log = try await RunningStore.open(.postgres(url: database))
        let entries = try await log.entries(after: 0, limit: 100_000)
        let accepted = entries.filter { $0.content.outcome == .accepted }
        let chain = try await log.verifyChain()
        // The regulator's deliveries (pushed); the insurance admin's copies wait in its inbox (D18).
        let referralDeliveries = try await log.deliveries(in: nil, limit: 100_000).filter { $0.type == "Referral" && $0.recipient == "440800-HEALTH" }
        print("two-node test: \(count) submitted, \(progress.receipts.withLock { $0.count }) receipted, \(accepted.count) accepted in the log "
              + "(\(Set(accepted.map(\.content.id)).count) distinct), \(entries.count) log entries, chain \(chain.firstBroken == nil ? "intact" : "BROKEN"), "
              + "\(referrals.count) referrals received (\(redelivered) redelivered before dedup), "
              + "\(referralDeliveries.filter { $0.state == .delivered }.count)/\(referralDeliveries.count) referral deliveries delivered")
        #expect(accepted.count == count)
        #expect(Set(accepted.map(\.content.id)).count == count)
        #expect(chain.firstBroken == nil && chain.entries == entries.count)
        #expect(referrals.count == count)
        #expect(received.rejected == 0)
        #expect(referralDeliveries.count == count && referralDeliveries.allSatisfy { $0.state == .delivered })
        #expect(try await log.deliveries(in: nil, limit: 100_000).filter { $0.type == "ScoreBulletin" }.count == 2)   // issued once, to health and drug
        #expect(answer.contains(#""status":"terminated""#), "\(answer)")
        let verify = try CLI.run(["log", "verify", "--database", database])
        #expect(verify.status == 0 && verify.stdout.contains("chain intact"), "\(verify.stdout)\(verify.stderr)")
        await receiver.stop()
    }
}

@Suite("trust reloaded on several nodes of one PostgreSQL")
struct TwoNodeReloadTests {
    @Test("a CRL revoking a participant, written to the nodes' trust folder, is in force on both within 10 s on connections opened before, and the log records the change once")
    func crlOnTwoNodes() async throws {
        let database = try PostgresServer.shared().newDatabase()
        let folder = try GatewayDataFolder("tongbao-two-nodes-reload")
        try folder.writeParticipants(endpoints: [:])
        let ports = [Int.random(in: 20_000...29_999), Int.random(in: 30_000...39_999)]
        let nodes = ports.map { ServerProcess(data: folder.data, port: $0, extraArguments: ["--database", database]) }
        for node in nodes { try node.start() }
        defer { for node in nodes { node.stop() } }
        let drug = try folder.client("440800-DRUG")
        defer { _ = drug.shutdown() }
        func status(_ port: Int) async throws -> (Int, String) {
            let answer = try await drug.execute(HTTPClientRequest(url: "https://127.0.0.1:\(port)/healthz"), timeout: .seconds(10))
            return (Int(answer.status.code), String(buffer: try await answer.body.collect(upTo: 1 << 20)))
        }
        for port in ports {
            var up = false
            for _ in 0..<200 where !up {
                up = (try? await status(port))?.0 == 200
                if !up { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(up, "node on \(port) answers the drug department before the CRL")
        }
        // Counted with psql: on a loaded machine the suite's other CLI tests can hold the cooperative threads
        // past a new store's 10-second first-answer limit (what is measured here is the nodes, not this process).
        let postgres = try PostgresServer.shared()
        func trustStoreChanges() async throws -> Int {
            Int(try postgres.psql("SELECT count(*) FROM log WHERE outcome = 'trust' AND type = 'trust-store'", database: database)
                .trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        }
        for _ in 0..<50 where try await trustStoreChanges() == 0 { try await Task.sleep(for: .milliseconds(100)) }
        try await Task.sleep(for: .seconds(1))   // both nodes' start-up records have come by now
        #expect(try await trustStoreChanges() == 1, "both nodes started on the same files: recorded once")

        // The CA revokes the drug department's certificate; the CRL replaces the old one in the trust folder.
        let authority = try CertificateAuthority(
            key: try PrivateKey(pem: Array(try Data(contentsOf: folder.pki.appendingPathComponent("ca/root.key.pem")))),
            certificatePEM: Array(try Data(contentsOf: folder.pki.appendingPathComponent("trust/roots/root.pem"))))
        let serial = try #require(try folder.credentials("440800-DRUG").certificate.serialNumber)
        let now = Int(Date().timeIntervalSince1970)
        let crl = try authority.revocationList(revokedSerials: [serial], thisUpdate: now - 60, nextUpdate: now + 86_400 * 30)
        try Data(try crl.pem()).write(to: folder.pki.appendingPathComponent("trust/crl/root.pem"), options: .atomic)
        let deadline = Date().addingTimeInterval(10)
        var refused = Set<Int>()
        while refused.count < 2, Date() < deadline {
            for port in ports where !refused.contains(port) {
                let (code, body) = try await status(port)
                if code == 403 && body.contains("certificate-revoked") { refused.insert(port) }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(refused == Set(ports), "both nodes refuse the revoked certificate within 10 s")
        var recorded = 0
        for _ in 0..<50 where recorded < 2 {
            recorded = try await trustStoreChanges()
            if recorded < 2 { try await Task.sleep(for: .milliseconds(100)) }
        }
        try await Task.sleep(for: .seconds(2))   // the second node's look at the files has come by now
        #expect(try await trustStoreChanges() == 2, "the new CRL is recorded once, whichever node put it in force first")
    }
}

/// Whether the second node has been killed, shared by the submitting workers.
final class KillSwitch: Sendable {
    let killed = Mutex(false)
}
