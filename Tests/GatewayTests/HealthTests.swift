import AsyncHTTPClient
import Foundation
import Gateway
@testable import GatewayHTTP
import Scoring
import Testing
import TongbaoTestSupport
import Trust

/// `/healthz` tells the truth, for a load balancer: 503 only when the node cannot serve correctly, 200 with
/// warnings for what an operator must act on soon.
@Suite("health that tells the truth", .serialized)
struct HealthTests {
    /// Posts a licence revocation with its own id and decision number (so that each is a new decision), as
    /// the health department.
    static func submitRevocation(_ id: String, by health: HTTPClient, to gateway: LiveGateway) async throws -> Answer {
        let text = revocation(id: id, person: "D4408020\(id.suffix(5))", decidedOn: "2025-05-20")
            .replacingOccurrences(of: "湛卫医罚〔2025〕12号", with: "湛卫医罚〔2025〕\(id)号")
        return try await post(health, gateway, try signedJSON(text, as: "440800-HEALTH", gateway), type: "application/jose+json")
    }

    /// A calendar of plain weekdays for `years` (what a loaded State Council arrangement looks like to the checks).
    static func weekdays(_ years: ClosedRange<Int>) throws -> WorkingDayCalendar {
        WorkingDayCalendar(years: try years.map { year in
            try WorkingDayCalendar.loadYear(Array(#"{"year": \#(year), "source": "test", "holidays": [], "adjustedWorkdays": []}"#.utf8), source: "\(year).json")
        })
    }

    @Test("ok with a calendar covering the next two years; warn (200) with the calendar running out within 60 days, on both listeners")
    func calendarRunway() async throws {
        let thisYear = Timestamps.chinaDate(Date()).year
        let covered = try await LiveGateway.start(configure: { settings in
            settings.scorer = Scorer(pack: settings.scorer.pack, calendar: try? Self.weekdays(thisYear...(thisYear + 2)))
        })
        defer { covered.stop() }
        let health = try covered.client("440800-HEALTH")
        defer { _ = health.shutdown() }
        let ok = try await get(health, covered, "/healthz")
        #expect(ok.status == 200 && ok.text == #"{"status":"ok"}"#, "\(ok.text)")

        // Warned from the runway's threshold on (60 days by default; here longer than the calendar covers).
        var check = covered.server.health
        check.calendarRunwayDays = 3 * 366 + 1
        let report = check.report(intake: covered.gateway.intake)
        #expect(report.status == 200 && report.warnings.map(\.check) == ["calendar-runway"], "\(report)")
        #expect(report.json.hasPrefix(#"{"status":"warn","warnings":[{"check":"calendar-runway","detail":"the working-day calendar ends on \#(thisYear + 2)-12-31, in "#), "\(report.json)")
        let metrics = try await get(health, covered, "/metrics").text
        #expect(metrics.contains("tongbao_calendar_runway_days "), "\(metrics)")
        #expect(metrics.contains("tongbao_crl_next_update_seconds{issuer=\""))
        let notAfter = try covered.credentials("440800-HEALTH").certificate.notAfter
        #expect(metrics.contains("tongbao_certificate_not_after_seconds{participant=\"440800-HEALTH\"} \(notAfter)"), "\(metrics)")
        #expect(metrics.contains("tongbao_certificate_not_after_seconds{participant=\"440800-GATEWAY\"} "))
    }

    @Test("with the operator's grace period, a stale CRL is a crl-grace warning (200) until the grace ends, then 503 crl-stale")
    func crlGrace() async throws {
        let thisYear = Timestamps.chinaDate(Date()).year
        let gateway = try await LiveGateway.start(configure: { settings in
            settings.scorer = Scorer(pack: settings.scorer.pack, calendar: try? Self.weekdays(thisYear...(thisYear + 2)))
            let trust = settings.gateway.trust
            settings.gateway.trust = TrustStore(roots: trust.roots, intermediates: trust.intermediates, revocationLists: trust.revocationLists, crlGrace: 6 * 3600)
        })
        defer { gateway.stop() }
        let next = try #require(gateway.gateway.intake.configuration.trust.revocationLists.first?.nextUpdate)
        let check = gateway.server.health
        let graced = check.report(intake: gateway.gateway.intake, now: Date(timeIntervalSince1970: TimeInterval(next + 3600)))
        #expect(graced.status == 200 && graced.warnings.map(\.check) == ["crl-grace"], "\(graced)")
        #expect(graced.warnings.first?.detail.contains("grace period keeps it in use until") == true)
        let over = check.report(intake: gateway.gateway.intake, now: Date(timeIntervalSince1970: TimeInterval(next + 7 * 3600)))
        #expect(over.status == 503 && over.failures.map(\.check) == ["crl-stale"], "\(over)")
    }

    @Test("a CRL within 24 hours of nextUpdate is a warning (200); a stale one is 503 crl-stale; a full disk is 503 disk-full")
    func crlAndDisk() async throws {
        let thisYear = Timestamps.chinaDate(Date()).year
        let gateway = try await LiveGateway.start(configure: { settings in
            settings.scorer = Scorer(pack: settings.scorer.pack, calendar: try? Self.weekdays(thisYear...(thisYear + 2)))
        })
        defer { gateway.stop() }
        let next = try #require(gateway.gateway.intake.configuration.trust.revocationLists.first?.nextUpdate)
        let check = gateway.server.health
        let expiring = check.report(intake: gateway.gateway.intake, now: Date(timeIntervalSince1970: TimeInterval(next - 3600)))
        #expect(expiring.status == 200 && expiring.warnings.map(\.check) == ["crl-expiring"], "\(expiring)")
        let stale = check.report(intake: gateway.gateway.intake, now: Date(timeIntervalSince1970: TimeInterval(next + 1)))
        #expect(stale.status == 503 && stale.failures.map(\.check) == ["crl-stale"], "\(stale)")
        #expect(stale.json.contains(#""code":"unhealthy""#) && stale.contentType == "application/problem+json")

        // The disk: the real free space of the store's file system, held against a threshold above it.
        var full = check
        full.diskFailBelow = Int64.max / 2
        let report = full.report(intake: gateway.gateway.intake)
        #expect(report.status == 503 && report.failures.map(\.check) == ["disk-full"], "\(report)")
        #expect(report.failures.first?.detail.contains(gateway.folder.path) == true)
    }


    @Test("a Referral whose answer is due past the loaded calendar years gets a provisional respondBy, never none")
    func provisionalRespondBy() async throws {
        // The calendar holds 2025 and 2026; 20 working days after 2026-12-04 run into 2027 (1 January counted as a weekday).
        let gateway = try await LiveGateway.start()
        defer { gateway.stop() }
        let health = try gateway.client("440800-HEALTH")
        defer { _ = health.shutdown() }
        let text = revocation(id: "H-REF-2027", person: "D440802002027", decidedOn: "2026-12-04")
            .replacingOccurrences(of: "2025-05-21T15:00:00+08:00", with: "2026-12-04T08:00:00+08:00")
        let accepted = try await post(health, gateway, try signedJSON(text, as: "440800-HEALTH", gateway), type: "application/jose+json")
        #expect(accepted.status == 201, "\(accepted.text)")
        let referral = try #require(try await gateway.log.entries(after: 0, limit: 100).first { $0.content.type == "Referral" })
        let payload = String(decoding: JWS.unverifiedPayload(referral.content.bytes) ?? referral.content.bytes, as: UTF8.self)
        #expect(payload.contains(#""respondBy":"2027-01-01""#) && payload.contains(#""respondByProvisional":true"#), "\(payload)")
    }

    @Test("a store that refuses the group commit makes /healthz 503 store-not-writable, until a commit succeeds again")
    func storeNotWritable() async throws {
        var database = ""
        let gateway = try await LiveGateway.start(store: .postgres, configure: { settings in
            if case .postgres(let url) = settings.ledger { database = url }
        })
        defer { gateway.stop() }
        let health = try gateway.client("440800-HEALTH")
        defer { _ = health.shutdown() }
        func submit(_ id: String) async throws -> Answer { try await Self.submitRevocation(id, by: health, to: gateway) }
        #expect(try await submit("H-W-00001").status == 201)
        // The database refuses every new log row (a real refusal of the store, as a full or read-only disk gives).
        _ = try PostgresServer.shared().psql("ALTER TABLE log ADD CONSTRAINT refuse_writes CHECK (position < 0) NOT VALID", database: database)
        let failed = try await submit("H-W-00002")
        #expect(failed.status == 500 && failed.text.contains(#""code":"internal""#), "\(failed.text)")
        let unhealthy = try await get(health, gateway, "/healthz")
        #expect(unhealthy.status == 503 && unhealthy.text.contains(#""check":"store-not-writable""#), "\(unhealthy.text)")
        _ = try PostgresServer.shared().psql("ALTER TABLE log DROP CONSTRAINT refuse_writes", database: database)
        #expect(try await submit("H-W-00002").status == 201)
        #expect(try await get(health, gateway, "/healthz").status == 200)
    }

    /// Whether this machine lets the tests mount a small tmpfs (root in a container that allows it); where it
    /// does not, the disk checks are covered by ``crlAndDisk()``'s threshold above the real free space.
    static let canMountTmpfs: Bool = {
        guard getuid() == 0, let folder = try? ExternalCommand.scratchFolder("tongbao-tmpfs-probe") else { return false }
        guard (try? ExternalCommand.run("/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", folder.path]))?.status == 0 else { return false }
        _ = try? ExternalCommand.run("/bin/umount", [folder.path])
        return true
    }()

    @Test("the store on a real file system that fills up (a 96 MiB tmpfs): 503 disk-full, then store-not-writable once a commit fails; 200 again after space is freed and a commit succeeds",
          .enabled(if: canMountTmpfs, "mounting a tmpfs needs root"))
    func fullDisk() async throws {
        let mount = try ExternalCommand.scratchFolder("tongbao-full-disk")
        #expect(try ExternalCommand.run("/bin/mount", ["-t", "tmpfs", "-o", "size=96m", "tmpfs", mount.path]).status == 0)
        defer { _ = try? ExternalCommand.run("/bin/umount", ["-l", mount.path]) }
        let gateway = try await LiveGateway.start(configure: { settings in
            settings.ledger = .sqlite(path: mount.appendingPathComponent("tongbao.sqlite").path)
            settings.health.storeFolder = nil   // the store's own folder, as tongbao serve has it
        })
        defer { gateway.stop() }
        let health = try gateway.client("440800-HEALTH")
        defer { _ = health.shutdown() }
        func submit(_ id: String) async throws -> Answer { try await Self.submitRevocation(id, by: health, to: gateway) }
        #expect(try await submit("H-D-00001").status == 201)
        #expect(try await get(health, gateway, "/healthz").status == 200)

        // Another program fills the file system to the last byte.
        let filler = mount.appendingPathComponent("filler")
        _ = FileManager.default.createFile(atPath: filler.path, contents: nil)
        let handle = try FileHandle(forWritingTo: filler)
        let chunk = Data(repeating: 0xA5, count: 1 << 20)
        while (try? handle.write(contentsOf: chunk)) != nil {}
        while (try? handle.write(contentsOf: Data(repeating: 0, count: 4096))) != nil {}
        try? handle.close()
        let full = try await get(health, gateway, "/healthz")
        #expect(full.status == 503 && full.text.contains(#""check":"disk-full""#), "\(full.text)")
        // A bulletin the store cannot write is refused (500), never receipted; the node says so.
        var refused = false
        for index in 2..<40 where !refused {
            refused = try await submit("H-D-\(String(format: "%05d", index))").status == 500
        }
        #expect(refused, "the store refuses writes on a full disk")
        let unwritable = try await get(health, gateway, "/healthz")
        #expect(unwritable.status == 503 && unwritable.text.contains(#""check":"store-not-writable""#), "\(unwritable.text)")

        // Space freed: the next commit succeeds and the node is healthy again.
        try FileManager.default.removeItem(at: filler)
        #expect(try await submit("H-D-00099").status == 201)
        #expect(try await get(health, gateway, "/healthz").status == 200)
    }
}
