import AsyncHTTPClient
import Foundation
import Gateway
import Testing
import Trust

/// Trust and participants change while the gateway runs: a new CRL is in force from the next request on,
/// on connections opened before it too; a participant added to the file can connect; a broken file is
/// refused and what was in force stays.
@Suite("live reload of trust and participants")
struct ReloadTests {
    /// Polls `check` every 100 ms for up to `seconds`.
    static func eventually(within seconds: Double = 10, _ check: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await check() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await check()
    }

    @Test("a CRL revoking a participant is applied without a restart, on a keep-alive connection opened before; an added participant connects; a broken participants file is refused")
    func reloadWhileRunning() async throws {
        let gateway = try await LiveGateway.start(reloading: true)
        defer { gateway.stop() }
        let drug = try gateway.client("440800-DRUG")
        defer { _ = drug.shutdown() }
        let unlisted = try gateway.client("unlisted")
        defer { _ = unlisted.shutdown() }
        #expect(try await get(drug, gateway, "/healthz").status == 200, "the connection is open before the CRL changes")
        #expect(try await get(unlisted, gateway, "/healthz").status == 403)

        // The CA revokes the drug department's certificate; the new CRL replaces the old one in the trust store.
        let authority = try CertificateAuthority(
            key: try PrivateKey(pem: Array(try Data(contentsOf: gateway.folder.appendingPathComponent("ca/root.key.pem")))),
            certificatePEM: Array(try Data(contentsOf: gateway.folder.appendingPathComponent("trust/roots/root.pem"))))
        let drugSerial = try #require(try gateway.credentials("440800-DRUG").certificate.serialNumber)
        let now = Int(Date().timeIntervalSince1970)
        let crl = try authority.revocationList(revokedSerials: [900, drugSerial], thisUpdate: now - 60, nextUpdate: now + 86_400 * 30)
        try Data(try crl.pem()).write(to: gateway.folder.appendingPathComponent("trust/crl/root.pem"), options: .atomic)
        #expect(try await Self.eventually {
            let answer = try await get(drug, gateway, "/healthz")
            return answer.status == 403 && answer.text.contains(#""reason":"certificate-revoked""#)
        }, "the revoked certificate is refused within 10 s")

        // A broken participants file is refused; the participants in force stay.
        let file = gateway.folder.appendingPathComponent("participants.json")
        try Data(#"{"participants": [{"code": "broken"#.utf8).write(to: file, options: .atomic)
        try await Task.sleep(for: .milliseconds(800))
        let health = try gateway.client("440800-HEALTH")
        defer { _ = health.shutdown() }
        #expect(try await get(health, gateway, "/healthz").status == 200)

        // A participant added to the file connects.
        let added = gateway.participants + [Participant(code: "440800-NOBODY", role: .insuranceAgency, region: "440800", name: "新的经办机构")]
        try Data(ParticipantsFile.text(added).utf8).write(to: file, options: .atomic)
        #expect(try await Self.eventually { try await get(unlisted, gateway, "/healthz").status == 200 }, "the added participant is known within 10 s")
        #expect(try await get(health, gateway, "/healthz").status == 200)
    }
}
