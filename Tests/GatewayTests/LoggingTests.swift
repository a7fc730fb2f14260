import Bulletins
import Foundation
import Gateway
import Ledger
import Logging
import Scoring
import Synchronization
import Testing
import TongbaoTestSupport
import Trust

/// Keeps every log line (message and metadata) in memory.
final class RecordingLogHandler: LogHandler, @unchecked Sendable {
    static let lines = Mutex([String]())
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        Self.lines.withLock { $0.append("\(event.message) \(all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))") }
    }
}

@Suite("structured logs")
struct LoggingTests {
    @Test("accepted and rejected bulletins are logged with participant, type, id, outcome and latency — never a person's name or code")
    func noPersonalData() async throws {
        let folder = try ExternalCommand.scratchFolder("tongbao-logs")
        let now = Int(Date().timeIntervalSince1970)
        _ = try DevelopmentPKI.generate(members: ParticipantsFile.defaults.map { DevelopmentPKI.Member(code: $0.code, name: $0.name) },
                                              algorithm: .ecdsa, into: folder, now: now)
        func read(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: folder.appendingPathComponent(path))) }
        let url = LiveGateway.repository.appendingPathComponent("rules/packs/guangdong.json")
        let pack = try RulePackLoader.load(try Data(contentsOf: url), source: url.path)
        let configuration = try GatewayConfiguration.development(folder: folder, packs: ["guangdong": pack])
        let logger = Logger(label: "gateway") { _ in RecordingLogHandler() }
        let ledger = try await SQLiteLedger.open(path: folder.appendingPathComponent("t.sqlite").path)
        try await ledger.migrate()
        let pipeline = try BulletinIntake(configuration: configuration, ledger: ledger, projection: FactProjection(scorer: Scorer(pack: pack)), logger: logger)
        let health = ParticipantsFile.defaults.first { $0.role == .health }
        let key = try PrivateKey(pem: try read("participants/440800-HEALTH.key.pem"))
        let certificate = try Trust.Certificate(pem: try read("participants/440800-HEALTH.cert.pem"))
        let revocation = Array(try Data(contentsOf: LiveGateway.repository.appendingPathComponent("examples/bulletins/licence-revocation.xml")))
        #expect(IntakeResponse(await pipeline.submit(try XMLSignature().sign(revocation, key: key, certificate: certificate), mediaType: "application/xml", sender: health)).status == 201)
        #expect(IntakeResponse(await pipeline.submit(revocation, mediaType: "application/xml", sender: health)).status == 401)
        let lines = RecordingLogHandler.lines.withLock { $0 }
        let accepted = try #require(lines.first { $0.hasPrefix("bulletin accepted") })
        for field in ["participant=440800-HEALTH", "type=LicenceRevocation", "id=440800-HEALTH-2025-0012", "outcome=accepted", "latency_ms="] {
            #expect(accepted.contains(field))
        }
        #expect(lines.contains { $0.hasPrefix("bulletin rejected") && $0.contains("code=signature-invalid") })
        for line in lines {
            #expect(!line.contains("王五"))
            #expect(!line.contains("D440802000789"))
            #expect(!line.contains("110440800000789"))
        }
    }
}
