import AsyncHTTPClient
import Bulletins
import Foundation
import Gateway
import Hummingbird
import Ledger
import Logging
import NIOCore
import NIOSSL
import Scoring
import Synchronization
import Testing
import TransparencyLog
import TongbaoTestSupport
import Trust

/// The stores a live gateway can run on: the embedded SQLite file, or a real PostgreSQL server the tests
/// start themselves.
enum GatewayStore: String, CaseIterable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }

    /// A new, empty ledger of this kind.
    func address(in folder: URL) throws -> LedgerAddress {
        switch self {
        case .sqlite: .sqlite(path: folder.appendingPathComponent("tongbao.sqlite").path)
        case .postgres: .postgres(url: try PostgresServer.shared().newDatabase())
        }
    }
}

/// A gateway that ended without an error before both its listeners were up.
struct GatewayStartFailure: Error, CustomStringConvertible {
    var description: String { "the gateway stopped before both listeners were up" }
}

/// A real gateway on random loopback ports (mutual-TLS API and internal listener), with a generated PKI,
/// assembled by ``GatewayApp`` as `tongbao serve` assembles it, driven over real mutual TLS.
final class LiveGateway: Sendable {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let folder: URL
    let port: Int
    /// The internal listener's port.
    let internalPort: Int
    let task: Task<Void, any Error>
    /// The gateway's ledger, for the tests to look into.
    let log: any LedgerStore
    let gateway: Gateway
    let participants: [Participant]
    /// What the gateway was made of: a restart makes another of the same.
    let settings: GatewaySettings

    /// Starts a gateway; `endpoints` is called once the PKI exists and gives participants' push endpoints.
    /// Its own push worker passes once, at start: the tests push with ``deliveryWorker(_:)``.
    /// A participant of the neighbouring city (茂名, 440900): it reads nothing of 440800's persons.
    static let neighbour = Participant(code: "440900-INS-AGENCY", role: .insuranceAgency, region: "440900", name: "茂名市医疗保障事业管理中心")

    /// `configure` adjusts the settings before the gateway is made (limits, timeouts).
    /// With `reloading`, the participants are also written to `participants.json`, the calendar's years to
    /// `calendar/`, and the gateway reloads them and its trust store when the files change (looked at every
    /// 200 ms).
    static func start(store: GatewayStore = .sqlite, endpoints: (URL) async throws -> [String: String] = { _ in [:] }, reloading: Bool = false,
                      configure: (inout GatewaySettings) -> Void = { _ in }) async throws -> LiveGateway {
        let folder = try ExternalCommand.scratchFolder("tongbao-e2e")
        let now = Int(Date().timeIntervalSince1970)
        let pki = try DevelopmentPKI.generate(
            members: ParticipantsFile.defaults.map { DevelopmentPKI.Member(code: $0.code, name: $0.name, serverNames: $0.role == .gateway ? ["localhost", "127.0.0.1"] : []) }, algorithm: .ecdsa, into: folder, now: now)
        // A revoked and an expired certificate for the health department, and a CRL that lists the first.
        let authority = try CertificateAuthority(
            key: try PrivateKey(pem: Array(try Data(contentsOf: folder.appendingPathComponent("ca/root.key.pem")))),
            certificatePEM: Array(try Data(contentsOf: pki.trustDirectory.appendingPathComponent("roots/root.pem"))))
        // And one for a participant the gateway does not know.
        for (name, participant, serial, notAfter) in [("health-revoked", "440800-HEALTH", 900, now + 86_400 * 30), ("health-expired", "440800-HEALTH", 901, now - 86_400),
                                                      ("unlisted", "440800-NOBODY", 902, now + 86_400 * 30),
                                                      (Self.neighbour.code, Self.neighbour.code, 903, now + 86_400 * 30)] {
            let key = try PrivateKey.generate(.ecdsa)
            let certificate = try authority.issue(commonName: name, participant: participant, subjectKey: key, serial: serial,
                                                  notBefore: now - 86_400 * 800, notAfter: notAfter)
            try Data(try key.pem()).write(to: folder.appendingPathComponent("participants/\(name).key.pem"))
            try Data(try certificate.pem()).write(to: folder.appendingPathComponent("participants/\(name).cert.pem"))
        }
        let crl = try authority.revocationList(revokedSerials: [900], thisUpdate: now - 86_400, nextUpdate: now + 86_400 * 30)
        try Data(try crl.pem()).write(to: pki.trustDirectory.appendingPathComponent("crl/root.pem"))

        var packs: [String: RulePack] = [:]
        for name in ["guangdong", "shanghai", "inner-mongolia", "shandong", "national"] {
            let url = repository.appendingPathComponent("rules/packs/\(name).json")
            packs[name] = try RulePackLoader.load(try Data(contentsOf: url), source: url.path)
        }
        let pushTo = try await endpoints(folder)
        let participants = (ParticipantsFile.defaults + [Self.neighbour]).map { participant in
            var participant = participant
            participant.endpoint = pushTo[participant.code]
            return participant
        }
        let configuration = try GatewayConfiguration.development(folder: folder, packs: packs, participants: participants)
        let guangdong = try #require(packs["guangdong"])
        var years: [WorkingDayCalendar.Year] = []
        for year in [2025, 2026] {
            let url = repository.appendingPathComponent("rules/calendar/\(year).json")
            years.append(try WorkingDayCalendar.loadYear(try Data(contentsOf: url), source: url.path))
        }
        func pem(_ path: String) throws -> String { try String(contentsOf: folder.appendingPathComponent(path), encoding: .utf8) }
        var settings = GatewaySettings(
            gateway: configuration, scorer: Scorer(pack: guangdong, calendar: WorkingDayCalendar(years: years)), ledger: try store.address(in: folder),
            api: ListenAddress(host: "127.0.0.1", port: 0), internalAPI: ListenAddress(host: "127.0.0.1", port: 0),
            certificatePEM: try pem("participants/440800-GATEWAY.cert.pem"), keyPEM: try pem("participants/440800-GATEWAY.key.pem"),
            rootsPEM: [try pem("trust/roots/root.pem")],
            creditModel: try CreditModel.load(Array(try Data(contentsOf: repository.appendingPathComponent("rules/credit/default.json"))), source: "default.json"))
        settings.pushPolicy.pollMilliseconds = 3_600_000
        settings.schedulerInterval = nil
        if reloading {
            let file = folder.appendingPathComponent("participants.json")
            try Data(ParticipantsFile.text(participants).utf8).write(to: file)
            // The calendar's years too, as the gateway started with them, in a folder the test may add a year to.
            let calendar = folder.appendingPathComponent("calendar")
            try FileManager.default.createDirectory(at: calendar, withIntermediateDirectories: true)
            for year in [2025, 2026] {
                try FileManager.default.copyItem(at: repository.appendingPathComponent("rules/calendar/\(year).json"), to: calendar.appendingPathComponent("\(year).json"))
            }
            settings.trustSources = TrustSources(trustDirectory: pki.trustDirectory.path, participantsFile: file.path, interval: .milliseconds(200),
                                                 calendarFolder: calendar.path)
        }
        settings.reloadOnHangUp = false   // several gateways run in one test process
        configure(&settings)
        return try await launch(settings, folder: folder, participants: participants)
    }

    /// Stops this gateway and starts another on the same folder, store and settings (a restart).
    func restarted() async throws -> LiveGateway {
        task.cancel()
        _ = await task.result
        return try await Self.launch(settings, folder: folder, participants: participants)
    }

    /// Makes and runs a gateway of `settings`, and waits until both its listeners listen.
    private static func launch(_ settings: GatewaySettings, folder: URL, participants: [Participant]) async throws -> LiveGateway {
        var settings = settings
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        settings.onAPIRunning = { port in continuation.yield(port) }
        settings.onInternalRunning = { port in continuation.yield(-port) }
        let gateway = try await GatewayApp.makeGateway(settings, logger: Logger(label: "test"))
        // A gateway that stops before it listens (its store did not answer, say) ends the wait for its ports.
        let task = Task {
            defer { continuation.finish() }
            try await gateway.run()
        }
        var ports: [Int] = []
        for await bound in stream {
            ports.append(bound)
            if ports.count == 2 { break }
        }
        guard ports.count == 2 else {
            try await task.value
            throw GatewayStartFailure()
        }
        return LiveGateway(folder: folder, port: ports.first { $0 > 0 } ?? 0, internalPort: -(ports.first { $0 < 0 } ?? 0), task: task,
                           gateway: gateway, participants: participants, settings: settings)
    }

    init(folder: URL, port: Int, internalPort: Int, task: Task<Void, any Error>, gateway: Gateway, participants: [Participant], settings: GatewaySettings) {
        self.settings = settings
        self.folder = folder
        self.port = port
        self.internalPort = internalPort
        self.task = task
        self.gateway = gateway
        log = gateway.ledger
        self.participants = participants
    }

    var server: GatewayServer { gateway.server }

    /// A delivery worker pushing this gateway's outbox with `policy`, as `tongbao serve` runs it.
    func deliveryWorker(_ policy: RetryPolicy) throws -> DeliveryWorker {
        let endpoints = Dictionary(participants.compactMap { p in p.endpoint.map { (p.code, $0) } }, uniquingKeysWith: { a, _ in a })
        return try DeliveryWorker(
            outbox: log, endpoints: endpoints, policy: policy,
            certificatePEM: try String(contentsOf: folder.appendingPathComponent("participants/440800-GATEWAY.cert.pem"), encoding: .utf8),
            keyPEM: try String(contentsOf: folder.appendingPathComponent("participants/440800-GATEWAY.key.pem"), encoding: .utf8),
            rootsPEM: [try String(contentsOf: folder.appendingPathComponent("trust/roots/root.pem"), encoding: .utf8)], logger: Logger(label: "test"))
    }

    var url: String { "https://127.0.0.1:\(port)" }

    func credentials(_ name: String) throws -> (key: PrivateKey, certificate: Trust.Certificate, keyPEM: [UInt8], certPEM: [UInt8]) {
        let keyPEM = Array(try Data(contentsOf: folder.appendingPathComponent("participants/\(name).key.pem")))
        let certPEM = Array(try Data(contentsOf: folder.appendingPathComponent("participants/\(name).cert.pem")))
        return (try PrivateKey(pem: keyPEM), try Trust.Certificate(pem: certPEM), keyPEM, certPEM)
    }

    /// An HTTP client presenting `name`'s certificate (nil: none).
    func client(_ name: String?) throws -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let name {
            let credentials = try credentials(name)
            tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(credentials.certPEM).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: credentials.keyPEM, format: .pem))
        }
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(try Data(contentsOf: folder.appendingPathComponent("trust/roots/root.pem")))))
        tls.certificateVerification = .noHostnameVerification
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
    }

    /// Stops the gateway (its services end, then its ledger).
    func stop() { task.cancel() }
}

/// The example bulletin `name` re-issued by `issuer` with id `id` (JSON text).
func reissued(_ name: String, issuer: String, id: String) throws -> String {
    let text = try String(contentsOf: LiveGateway.repository.appendingPathComponent("examples/bulletins/\(name).json"), encoding: .utf8)
    // The envelope's issuer and id come first in the examples.
    var result = text
    if let range = result.range(of: #""issuer": "[^"]*""#, options: .regularExpression) {
        result.replaceSubrange(range, with: "\"issuer\": \"\(issuer)\"")
    }
    if let range = result.range(of: #""id": "[^"]*""#, options: .regularExpression) {
        result.replaceSubrange(range, with: "\"id\": \"\(id)\"")
    }
    return result
}

struct Answer {
    let status: Int
    let body: [UInt8]
    var text: String { String(decoding: body, as: UTF8.self) }
}

func post(_ client: HTTPClient, _ gateway: LiveGateway, _ body: [UInt8], type: String) async throws -> Answer {
    var request = HTTPClientRequest(url: gateway.url + "/v1/bulletins")
    request.method = .POST
    request.headers.add(name: "Content-Type", value: type)
    request.body = .bytes(ByteBuffer(bytes: body))
    let response = try await client.execute(request, timeout: .seconds(30))
    return Answer(status: Int(response.status.code), body: Array(buffer: try await response.body.collect(upTo: 4 << 20)))
}

func get(_ client: HTTPClient, _ gateway: LiveGateway, _ path: String) async throws -> Answer {
    let response = try await client.execute(HTTPClientRequest(url: gateway.url + path), timeout: .seconds(30))
    return Answer(status: Int(response.status.code), body: Array(buffer: try await response.body.collect(upTo: 4 << 20)))
}

@Suite("gateway end to end over mutual TLS", .serialized)
struct EndToEndTests {
    @Test("intake: accepted, refused with each code, idempotent, and a revocation changes eligibility at once")
    func intake() async throws {
        let gateway = try await LiveGateway.start()
        defer { gateway.stop() }
        let health = try gateway.client("440800-HEALTH")
        let admin = try gateway.client("440800-INS-ADMIN")
        let anonymous = try gateway.client(nil)
        let healthKey = try gateway.credentials("440800-HEALTH")
        let revocationXML = Array(try Data(contentsOf: LiveGateway.repository.appendingPathComponent("examples/bulletins/licence-revocation.xml")))
        let signed = try XMLSignature().sign(revocationXML, key: healthKey.key, certificate: healthKey.certificate)
        let store = try TrustStore(directory: gateway.folder.appendingPathComponent("trust").path)

        // Before: the person is eligible.
        let before = try await get(health, gateway, "/v1/persons/D440802000789/eligibility?date=2025-06-01")
        #expect(before.status == 200)
        #expect(before.text == #"{"person":"D440802000789","date":"2025-06-01","eligible":true,"status":"normal","until":null,"points":0,"reason":"normal"}"#)

        // Accepted, with a receipt in the sender's encoding that proves the entry is in a checkpoint signed by
        // the log key, which the gateway's certificate binds.
        let accepted = try await post(health, gateway, signed, type: "application/xml")
        #expect(accepted.status == 201, "\(accepted.text)")
        let logKey = try LogKeyBinding.verify(try await get(health, gateway, "/v1/log/key").body, trust: store, now: Int(Date().timeIntervalSince1970))
        let receipt = try LogReceipt(xml: accepted.body)
        try receipt.verify(logKey: logKey)
        #expect(receipt.sha256 == SHA256.hex(signed) && receipt.outcome == "accepted" && receipt.id == "440800-HEALTH-2025-0012")

        // After: terminated, immediately (guangdong: licence revoked = fixed 12 → 3-year ban).
        let after = try await get(health, gateway, "/v1/persons/D440802000789/eligibility?date=2025-06-01")
        #expect(after.text == #"{"person":"D440802000789","date":"2025-06-01","eligible":false,"status":"terminated","until":"2028-05-20","points":12,"reason":"terminated"}"#)

        // The person's file (一医一档) and the institution's indicators.
        let file = try await get(health, gateway, "/v1/persons/D440802000789?date=2025-06-01")
        #expect(file.status == 200)
        #expect(file.text.hasPrefix(#"{"person":"D440802000789","year":2025,"points":12,"status":"terminated","until":"2028-05-20""#))
        #expect(file.text.contains(#""fact":"440800-HEALTH/440800-HEALTH-2025-0012","kind":"act","date":"2025-05-20","change":12"#))
        let institution = try await get(health, gateway, "/v1/institutions/H44080200001?date=2025-06-01")
        #expect(institution.text == #"{"institution":"H44080200001","year":2025,"sanctionedPersonTimes":1,"registeredPersons":1,"overThreshold":true,"keySupervision":false,"fraudActs":[]}"#)
        #expect(try await get(health, gateway, "/v1/persons/bad!").status == 400)
        // A bad date is the same problem on every dated route, naming the value.
        for path in ["/v1/institutions/H44080200001?date=2025-02-30", "/v1/deadlines?date=2025-02-30"] {
            let refused = try await get(health, gateway, path)
            #expect(refused.status == 400 && refused.text.contains(#""code":"malformed""#) && refused.text.contains("date=2025-02-30 is not a YYYY-MM-DD date"), "\(path)")
        }

        // The same bulletin again: the original receipt (200), no second entry; re-signed, the same.
        let again = try await post(health, gateway, signed, type: "application/xml")
        #expect(again.status == 200)
        #expect(again.body == accepted.body)
        let resigned = try XMLSignature().sign(revocationXML, key: healthKey.key, certificate: healthKey.certificate)
        #expect(resigned != signed, "ECDSA signatures differ each time")
        let retried = try await post(health, gateway, resigned, type: "application/xml")
        #expect(retried.status == 200, "\(retried.text)")
        #expect(retried.body == accepted.body)
        // The same decision (文号, person, certificate) under another id: refused, naming the first id;
        // the person's points do not change.
        let renamed = Array(String(decoding: revocationXML, as: UTF8.self)
            .replacingOccurrences(of: "<id>440800-HEALTH-2025-0012</id>", with: "<id>440800-HEALTH-2025-0099</id>").utf8)
        #expect(renamed != revocationXML)
        let twice = try await post(health, gateway, try XMLSignature().sign(renamed, key: healthKey.key, certificate: healthKey.certificate), type: "application/xml")
        #expect(twice.status == 409, "\(twice.text)")
        #expect(twice.text.contains(#""code":"duplicate-decision""#) && twice.text.contains("440800-HEALTH-2025-0012"), "\(twice.text)")
        #expect(try await get(health, gateway, "/v1/persons/D440802000789/eligibility?date=2025-06-01").text == after.text)
        #expect(try await gateway.log.entries(after: 0, limit: 100).filter { $0.content.outcome == .accepted }.count == 1)
        let stored = try await get(health, gateway, "/v1/bulletins/440800-HEALTH/440800-HEALTH-2025-0012/receipt")
        #expect(stored.body == accepted.body)

        // Same issuer and id, other bytes: conflict.
        let other = try XMLSignature().sign(Array(String(decoding: revocationXML, as: UTF8.self).replacingOccurrences(of: "伪造病历", with: "伪造处方").utf8),
                                             key: healthKey.key, certificate: healthKey.certificate)
        let conflict = try await post(health, gateway, other, type: "application/xml")
        #expect(conflict.status == 409)
        #expect(conflict.text.contains(#""code":"duplicate-conflict""#))

        // A role may not send another role's types.
        let penalty = try JWS().sign(Array(try reissued("penalty-decision", issuer: "440800-HEALTH", id: "H-P-1").utf8), key: healthKey.key, chain: [healthKey.certificate])
        let forbidden = try await post(health, gateway, Array(penalty.utf8), type: "application/jose+json")
        #expect(forbidden.status == 403)
        #expect(forbidden.text.contains(#""code":"not-authorized""#))

        // Signed by the health department, sent over the insurance administration's TLS identity.
        let practice = try JWS().sign(Array(try reissued("practice-notice", issuer: "440800-HEALTH", id: "H-PN-1").utf8), key: healthKey.key, chain: [healthKey.certificate])
        let crossed = try await post(admin, gateway, Array(practice.utf8), type: "application/jose+json")
        #expect(crossed.status == 403)
        #expect(crossed.text.contains(#""code":"not-authorized""#))

        // Tampered after signing.
        let tampered = Array(String(decoding: signed, as: UTF8.self).replacingOccurrences(of: "D440802000789", with: "D440802000780").utf8)
        let bad = try await post(health, gateway, tampered, type: "application/xml")
        #expect(bad.status == 401)
        #expect(bad.text.contains(#""code":"signature-invalid""#))

        // Revoked and expired signing certificates.
        for (name, reason) in [("health-revoked", "certificate-revoked"), ("health-expired", "certificate-expired")] {
            let credentials = try gateway.credentials(name)
            let token = try JWS().sign(Array(try reissued("practice-notice", issuer: "440800-HEALTH", id: "H-\(name)").utf8), key: credentials.key, chain: [credentials.certificate])
            let refused = try await post(health, gateway, Array(token.utf8), type: "application/jose+json")
            #expect(refused.status == 403)
            #expect(refused.text.contains(#""reason":"\#(reason)""#))
        }

        // Signed but schema-invalid.
        let invalid = try XMLSignature().sign(Array(String(decoding: revocationXML, as: UTF8.self)
            .replacingOccurrences(of: "<action>revoked</action>", with: "<action>suspended</action>").replacingOccurrences(of: "2025-0012", with: "2025-0099").utf8),
            key: healthKey.key, certificate: healthKey.certificate)
        let schema = try await post(health, gateway, invalid, type: "application/xml")
        #expect(schema.status == 422)
        #expect(schema.text.contains(#""code":"schema-invalid""#))

        // Too large, and an unsupported media type.
        #expect(try await post(health, gateway, [UInt8](repeating: 0x20, count: (1 << 20) + 100), type: "application/xml").status == 413)
        #expect(try await post(health, gateway, signed, type: "text/plain").status == 415)

        // Without a client certificate the TLS handshake fails.
        await #expect(throws: (any Error).self) { _ = try await get(anonymous, gateway, "/healthz") }

        // Every refusal is in the refusal record, with what could be read and the digest of its bytes, and
        // none in the log; the chain holds.
        let refusals = try await gateway.log.refusals(since: nil, limit: 100)
        #expect(refusals.contains { $0.code == "duplicate-conflict" && $0.id == "440800-HEALTH-2025-0012" && $0.sha256 == SHA256.hex(other) })
        #expect(refusals.contains { $0.code == "unsupported-media-type" && $0.sender == "440800-HEALTH" })
        #expect(try await gateway.log.entries(after: 0, limit: 100).allSatisfy { $0.content.outcome != .rejected })
        #expect(try await gateway.log.verifyChain().firstBroken == nil)
        for client in [health, admin, anonymous] { try await client.shutdown() }
    }

    @Test("the internal listener answers eligibility, /healthz and /metrics over plain HTTP")
    func internalListener() async throws {
        let gateway = try await LiveGateway.start()
        defer { gateway.stop() }
        let port = gateway.internalPort
        let health = try gateway.client("440800-HEALTH")
        let credentials = try gateway.credentials("440800-HEALTH")
        let revocation = Array(try Data(contentsOf: LiveGateway.repository.appendingPathComponent("examples/bulletins/licence-revocation.xml")))
        let accepted = try await post(health, gateway, try XMLSignature().sign(revocation, key: credentials.key, certificate: credentials.certificate), type: "application/xml")
        #expect(accepted.status == 201)
        _ = try await post(health, gateway, Array("<x/>".utf8), type: "application/xml")
        try await health.shutdown()
        let plain = HTTPClient(eventLoopGroupProvider: .singleton)
        func fetch(_ path: String) async throws -> Answer {
            let response = try await plain.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"), timeout: .seconds(10))
            return Answer(status: Int(response.status.code), body: Array(buffer: try await response.body.collect(upTo: 1 << 20)))
        }
        let eligibility = try await fetch("/v1/persons/D440802000789/eligibility?date=2025-06-01")
        #expect(eligibility.text.contains(#""eligible":false,"status":"terminated""#))
        let badCode = try await fetch("/v1/persons/bad!/eligibility")
        #expect(badCode.status == 400 && badCode.text.contains(#"\"bad!\" is not a personnel code"#))
        let badDate = try await fetch("/v1/persons/D1/eligibility?date=2025-02-30")
        #expect(badDate.status == 400 && badDate.text.contains("date=2025-02-30 is not a YYYY-MM-DD date"))
        let healthz = try await fetch("/healthz")
        #expect(healthz.status == 200 && (healthz.text == #"{"status":"ok"}"# || healthz.text.hasPrefix(#"{"status":"warn","warnings":["#)), "\(healthz.text)")
        let metrics = try await fetch("/metrics").text
        #expect(metrics.contains(#"tongbao_bulletins_total{type="LicenceRevocation",outcome="accepted"} 1"#))
        #expect(metrics.contains(#"tongbao_bulletins_total{type="unknown",outcome="rejected"} 1"#))
        #expect(metrics.contains("tongbao_intake_seconds_count 2"))
        // The revocation and the ScoreNotice and Referral it caused (the refused one is in the refusal record).
        #expect(metrics.contains("tongbao_ledger_entries 3"))
        #expect(metrics.contains(#"tongbao_outbox_deliveries{state="pending"} 3"#), "the notice, the referral and the admin's copy of it")
        #expect(metrics.contains(#"tongbao_http_requests_total{route="/v1/bulletins",status="201"} 1"#))
        let counted = try await fetch("/metrics").text
        #expect(counted.contains(#"tongbao_http_requests_total{route="/v1/persons/{code}/eligibility",status="200"} 1"#))
        #expect(counted.contains(#"tongbao_http_requests_total{route="/v1/persons/{code}/eligibility",status="400"} 2"#))
        // Read-only: other methods are refused, with a problem document.
        let refused = try await plain.execute({ var r = HTTPClientRequest(url: "http://127.0.0.1:\(port)/healthz"); r.method = .DELETE; return r }(),
                                              timeout: .seconds(10))
        #expect(refused.status.code == 405)
        #expect(refused.headers.first(name: "Content-Type") == "application/problem+json")
        // BulletinIntake is not served on the internal listener.
        #expect(try await plain.execute({ var r = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/bulletins"); r.method = .POST; return r }(), timeout: .seconds(10)).status.code == 404)
        try await plain.shutdown()
    }

    @Test("each role submits each type it may (201) and none it may not (403)")
    func roleMatrix() async throws {
        let gateway = try await LiveGateway.start()
        defer { gateway.stop() }
        let examples: [(String, BulletinType)] = [
            ("penalty-decision", .penaltyDecision), ("agreement-handling", .agreementHandling), ("licence-revocation", .licenceRevocation),
            ("repair-decision", .repairDecision), ("restoration-decision", .restorationDecision), ("registration", .registration),
            ("practice-notice", .practiceNotice), ("suspected-violation", .suspectedViolation), ("correction", .correction),
        ]
        let logKey = try gateway.gateway.intake.configuration.logVerifierKey
        for participant in ParticipantsFile.defaults where participant.role != .gateway {
            let client = try gateway.client(participant.code)
            let credentials = try gateway.credentials(participant.code)
            for (index, (name, type)) in examples.enumerated() {
                let text = try reissued(name, issuer: participant.code, id: "\(participant.code)-\(index)")
                let token = try JWS().sign(Array(text.utf8), key: credentials.key, chain: [credentials.certificate])
                let answer = try await post(client, gateway, Array(token.utf8), type: "application/jose+json")
                let expected = participant.role.allowedTypes.contains(type) ? 201 : 403
                #expect(answer.status == expected, "\(participant.code) \(type.rawValue): \(answer.text)")
                if answer.status == 201 {
                    // A receipt proving this very bulletin is in the log.
                    let receipt = try LogReceipt(json: answer.body)
                    try receipt.verify(logKey: logKey)
                    #expect(receipt.id == "\(participant.code)-\(index)" && receipt.issuer == participant.code && receipt.sha256 == SHA256.hex(Array(token.utf8)))
                } else {
                    #expect(answer.text.contains(#""code":"not-authorized""#))
                }
            }
            try await client.shutdown()
        }
    }
}
