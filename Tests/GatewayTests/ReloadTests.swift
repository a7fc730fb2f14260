import AsyncHTTPClient
@testable import Delivery
import Foundation
import Gateway
import Ledger
import Testing
import TransparencyLog
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

    @Test("a CRL revoking a participant is applied without a restart, on a keep-alive connection opened before; an added participant connects; a broken participants file is refused",
          arguments: GatewayStore.allCases)
    func reloadWhileRunning(store: GatewayStore) async throws {
        let gateway = try await LiveGateway.start(store: store, reloading: true)
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

    /// The trust and configuration changes the gateway recorded, in log order.
    static func changes(_ gateway: LiveGateway) async throws -> [LogEntry] {
        try await gateway.log.entries(after: 0, limit: 10_000).filter { $0.content.outcome.isChange }
    }

    static func manifest(_ entry: LogEntry) -> String { String(decoding: entry.content.bytes, as: UTF8.self) }

    @Test("every trust change that took effect is a trust entry in the log (what, cause, node, each file's digest), with a checkpoint; a refused file and an unchanged one are not",
          arguments: GatewayStore.allCases)
    func changesAreLogged(store: GatewayStore) async throws {
        let gateway = try await LiveGateway.start(store: store, reloading: true)
        defer { gateway.stop() }
        let participantsFile = gateway.folder.appendingPathComponent("participants.json")
        let crlFile = gateway.folder.appendingPathComponent("trust/crl/root.pem")
        func digest(_ file: URL) throws -> String { SHA256Digest.hex(Array(try Data(contentsOf: file))) }

        // At start, the files in force differ from what the (empty) log recorded: one entry each.
        #expect(try await Self.eventually { try await Self.changes(gateway).count == 3 })
        let atStart = try await Self.changes(gateway)
        #expect(atStart.map(\.content.type).sorted() == ["calendar", "participants", "trust-store"])
        for entry in atStart {
            #expect(entry.content.issuer == "440800-GATEWAY" && entry.sha256 == SHA256Digest.hex(entry.content.bytes))
            #expect(entry.leaf.kind == (entry.content.type == "calendar" ? .configuration : .trust))
            #expect(Self.manifest(entry).contains("\ncause start\n"))
        }
        let storeAtStart = try #require(atStart.first { $0.content.type == "trust-store" })
        #expect(Self.manifest(storeAtStart).contains("\nfile crl/root.pem \(try digest(crlFile))\n"))
        #expect(Self.manifest(storeAtStart).contains("\nfile roots/root.pem \(try digest(gateway.folder.appendingPathComponent("trust/roots/root.pem")))\n"))

        // A new CRL: a trust-store entry naming its digest, covered by a signed checkpoint.
        let authority = try CertificateAuthority(
            key: try PrivateKey(pem: Array(try Data(contentsOf: gateway.folder.appendingPathComponent("ca/root.key.pem")))),
            certificatePEM: Array(try Data(contentsOf: gateway.folder.appendingPathComponent("trust/roots/root.pem"))))
        let now = Int(Date().timeIntervalSince1970)
        let crl = try authority.revocationList(revokedSerials: [900, 901], thisUpdate: now - 60, nextUpdate: now + 86_400 * 30)
        try Data(try crl.pem()).write(to: crlFile, options: .atomic)
        #expect(try await Self.eventually { try await Self.changes(gateway).count == 4 }, "the CRL's change is recorded within 10 s")
        let crlChange = try #require(try await Self.changes(gateway).last)
        #expect(crlChange.content.type == "trust-store" && Self.manifest(crlChange).contains("\ncause file-change\n"))
        #expect(Self.manifest(crlChange).contains("\nfile crl/root.pem \(try digest(crlFile))\n"))
        #expect(try await gateway.log.latestCheckpoint().map(\.size) ?? 0 >= crlChange.position, "a checkpoint covers the change")

        // A broken participants file is refused: nothing in force changed, nothing is recorded.
        let good = try Data(contentsOf: participantsFile)
        try Data(#"{"participants": [{"code": "broken"#.utf8).write(to: participantsFile, options: .atomic)
        try await Task.sleep(for: .milliseconds(1000))
        #expect(try await Self.changes(gateway).count == 4)

        // The good file back, with a participant added: a participants entry with the new file's digest.
        let added = gateway.participants + [Participant(code: "440800-NOBODY", role: .insuranceAgency, region: "440800", name: "新的经办机构")]
        try Data(ParticipantsFile.text(added).utf8).write(to: participantsFile, options: .atomic)
        #expect(try Data(contentsOf: participantsFile) != good)
        #expect(try await Self.eventually { try await Self.changes(gateway).count == 5 })
        let participantsChange = try #require(try await Self.changes(gateway).last)
        #expect(participantsChange.content.type == "participants")
        #expect(Self.manifest(participantsChange).contains("\nfile participants.json \(try digest(participantsFile))\n"))

        // The same files again (as at a restart with nothing changed): nothing new.
        let same = ConfigurationChange(kind: .trust, what: "participants", cause: "start",
                                       files: [ConfigurationChange.File(name: "participants.json", bytes: Array(try Data(contentsOf: participantsFile)))])
        #expect(try await gateway.gateway.intake.record(same) == nil)
        #expect(try await Self.changes(gateway).count == 5)

        // The log with its changes verifies against its tree and checkpoints.
        let report = try await TreeAudit.walk(gateway.log, logKey: gateway.gateway.intake.log.verifierKey) { _ in }
        #expect(report.isIntact, "\(String(describing: report.firstBroken))")
    }

    @Test("a calendar year added to the folder is in force within 10 s: a Referral's respondBy past the old years is provisional before and counted on the loaded year after, the runway warning clears, and a configuration entry records it; a broken year file is refused")
    func calendarYearLoadedLive() async throws {
        let gateway = try await LiveGateway.start(reloading: true)
        defer { gateway.stop() }
        let health = try gateway.client("440800-HEALTH")
        defer { _ = health.shutdown() }
        /// The respondBy of the Referral a revocation decided on 2026-12-04 causes: 20 working days, into 2027.
        func respondBy(_ id: String, person: String) async throws -> String {
            let text = revocation(id: id, person: person, decidedOn: "2026-12-04")
                .replacingOccurrences(of: "2025-05-21T15:00:00+08:00", with: "2026-12-04T08:00:00+08:00")
                .replacingOccurrences(of: "湛卫医罚〔2025〕12号", with: "湛卫医罚〔2026〕\(id)号")
            let answer = try await post(health, gateway, try signedJSON(text, as: "440800-HEALTH", gateway), type: "application/jose+json")
            #expect(answer.status == 201, "\(answer.text)")
            let entries = try await gateway.log.entries(after: 0, limit: 1000)
            guard let referral = entries.last(where: { $0.content.type == "Referral" }) else { return "no referral" }
            let payload = String(decoding: JWS.unverifiedPayload(referral.content.bytes) ?? referral.content.bytes, as: UTF8.self)
            return payload.components(separatedBy: #""respondBy":"#).dropFirst().first.map { String($0.prefix(12)) + (payload.contains(#""respondByProvisional":true"#) ? " provisional" : "") } ?? payload
        }
        #expect(try await respondBy("H-CAL-1", person: "D440802002028") == #""2027-01-01" provisional"#, "counted on weekdays past 2026")
        #expect(try await get(health, gateway, "/healthz").text.contains("calendar-runway"))
        let calendarChanges = { try await Self.changes(gateway).filter { $0.content.type == "calendar" } }
        #expect(try await Self.eventually { try await calendarChanges().count == 1 }, "the calendar in force at start is recorded")

        // A broken 2027 file: refused, the calendar in force stays.
        let year = gateway.folder.appendingPathComponent("calendar/2027.json")
        try Data(#"{"year": 2027, "holidays": [{"name": "元旦", "from": "2027-01-01"#.utf8).write(to: year, options: .atomic)
        try await Task.sleep(for: .milliseconds(1000))
        #expect(try await respondBy("H-CAL-2", person: "D440802002029") == #""2027-01-01" provisional"#)
        #expect(try await calendarChanges().count == 1)

        // The year's arrangement (1 January a holiday): in force within 10 s, recorded in the log.
        try Data("""
            {"year": 2027, "source": "a test's arrangement", "holidays": [{"name": "元旦", "from": "2027-01-01", "to": "2027-01-03"}], "adjustedWorkdays": []}
            """.utf8).write(to: year, options: .atomic)
        #expect(try await Self.eventually { try await calendarChanges().count == 2 }, "the new year is loaded and recorded within 10 s")
        let recorded = try #require(try await calendarChanges().last)
        #expect(Self.manifest(recorded).contains("\nfile 2027.json \(SHA256Digest.hex(Array(try Data(contentsOf: year))))\n"))
        #expect(try await respondBy("H-CAL-3", person: "D440802002030") == #""2027-01-04""#, "counted on the loaded year: 1 January is a holiday, not provisional")
        let healthz = try await get(health, gateway, "/healthz")
        #expect(!healthz.text.contains("calendar-runway"), "the calendar covers more than 60 days now: \(healthz.text)")
    }

    @Test("routing follows the participants file: a health department added while the gateway runs receives the next Referral of its region, with its push endpoint")
    func routingFollowsReload() async throws {
        let gateway = try await LiveGateway.start(reloading: true)
        defer { gateway.stop() }
        let health = try gateway.client("440800-HEALTH")
        defer { _ = health.shutdown() }
        func referralRecipients(_ id: String, person: String) async throws -> [String] {
            let text = revocation(id: id, person: person)
                .replacingOccurrences(of: "湛卫医罚〔2025〕12号", with: "湛卫医罚〔2025〕\(id)号")
            let answer = try await post(health, gateway, try signedJSON(text, as: "440800-HEALTH", gateway), type: "application/jose+json")
            #expect(answer.status == 201, "\(answer.text)")
            let entries = try await gateway.log.entries(after: 0, limit: 1000)
            guard let referral = entries.last(where: { $0.content.type == "Referral" }) else { return [] }
            return try await gateway.log.deliveries(ofBulletin: referral.content.issuer, id: referral.content.id).map(\.recipient).sorted()
        }
        let before = try await referralRecipients("H-RT-1", person: "D440802003001")
        #expect(!before.isEmpty && !before.contains("440800-HEALTHB"), "\(before)")

        let file = gateway.folder.appendingPathComponent("participants.json")
        let added = gateway.participants + [Participant(code: "440800-HEALTHB", role: .health, region: "440800", name: "湛江市卫生健康局（二）",
                                                        endpoint: "https://127.0.0.1:9/inbox")]
        try Data(ParticipantsFile.text(added).utf8).write(to: file, options: .atomic)
        #expect(try await Self.eventually { try await Self.changes(gateway).filter { $0.content.type == "participants" }.count == 2 })
        // The change is recorded first, then put in force: routing has it a moment after the entry.
        #expect(try await Self.eventually { gateway.gateway.intake.liveTrust.snapshot.participants["440800-HEALTHB"] != nil })
        let after = try await referralRecipients("H-RT-2", person: "D440802003002")
        #expect(after == (before + ["440800-HEALTHB"]).sorted(), "\(after)")
        #expect(gateway.gateway.delivery.endpoints()["440800-HEALTHB"] == "https://127.0.0.1:9/inbox", "the push worker has its endpoint")
    }

    @Test("a CRL that went stale is in force as such: bulletins its certificates sign are refused crl-stale, and /healthz on the internal listener is 503 crl-stale")
    func staleCRLRefuses() async throws {
        let gateway = try await LiveGateway.start(reloading: true)
        defer { gateway.stop() }
        let health = try gateway.client("440800-HEALTH")
        defer { _ = health.shutdown() }
        let authority = try CertificateAuthority(
            key: try PrivateKey(pem: Array(try Data(contentsOf: gateway.folder.appendingPathComponent("ca/root.key.pem")))),
            certificatePEM: Array(try Data(contentsOf: gateway.folder.appendingPathComponent("trust/roots/root.pem"))))
        let now = Int(Date().timeIntervalSince1970)
        let stale = try authority.revocationList(revokedSerials: [900], thisUpdate: now - 2 * 86_400, nextUpdate: now - 60)
        try Data(try stale.pem()).write(to: gateway.folder.appendingPathComponent("trust/crl/root.pem"), options: .atomic)
        let plain = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = plain.shutdown() }
        #expect(try await Self.eventually {
            let answer = try await plain.execute(HTTPClientRequest(url: "http://127.0.0.1:\(gateway.internalPort)/healthz"), timeout: .seconds(10))
            let body = String(buffer: try await answer.body.collect(upTo: 1 << 20))
            return answer.status.code == 503 && body.contains(#""check":"crl-stale""#)
        }, "the stale CRL is in force within 10 s, and health says so")
        let text = revocation(id: "H-STALE-1", person: "D440802004001").replacingOccurrences(of: "湛卫医罚〔2025〕12号", with: "湛卫医罚〔2025〕H-STALE-1号")
        let refused = try await post(health, gateway, try signedJSON(text, as: "440800-HEALTH", gateway), type: "application/jose+json")
        #expect(refused.status == 403 && refused.text.contains("crl-stale"), "\(refused.text)")
    }
}
