import Bulletins
import Foundation
import Gateway
import Ledger
import Logging
import Scoring
import StrictJSON
import Testing
import TongbaoTestSupport
import Trust

/// Two intakes ("nodes") on one SQLite database file, each with its own ledger (connections) and projection.
struct TwoNodes {
    let folder: URL
    let first: BulletinIntake
    let second: BulletinIntake
    /// The first node's ledger.
    let firstLedger: any LedgerStore
    /// A third opening of the database, to look into it.
    let log: any LedgerStore

    /// A development PKI in a new folder named after `name`, and a gateway configuration on it with the
    /// guangdong pack.
    static func developmentGateway(_ name: String) throws -> (folder: URL, guangdong: RulePack, configuration: GatewayConfiguration) {
        let folder = try ExternalCommand.scratchFolder(name)
        _ = try DevelopmentPKI.generate(members: ParticipantsFile.defaults.map { DevelopmentPKI.Member(code: $0.code, name: $0.name) },
                                        algorithm: .ecdsa, into: folder, now: Int(Date().timeIntervalSince1970))
        let url = LiveGateway.repository.appendingPathComponent("rules/packs/guangdong.json")
        let guangdong = try RulePackLoader.load(try Data(contentsOf: url), source: url.path)
        return (folder, guangdong, try GatewayConfiguration.development(folder: folder, packs: ["guangdong": guangdong]))
    }

    static func make() async throws -> TwoNodes {
        let (folder, guangdong, configuration) = try developmentGateway("tongbao-two-nodes")
        let path = folder.appendingPathComponent("tongbao.sqlite").path
        func ledger() async throws -> any LedgerStore {
            let ledger = try await SQLiteLedger.open(path: path)
            try await ledger.migrate()
            return ledger
        }
        func node(_ ledger: any LedgerStore) async throws -> BulletinIntake {
            let intake = try BulletinIntake(configuration: configuration, ledger: ledger, projection: FactProjection(scorer: Scorer(pack: guangdong)), logger: Logger(label: "test"))
            try await intake.catchUp()
            return intake
        }
        let firstLedger = try await ledger()
        return TwoNodes(folder: folder, first: try await node(firstLedger), second: try await node(try await ledger()), firstLedger: firstLedger,
                        log: try await ledger())
    }

    func submit(_ text: String, as code: String, to pipeline: BulletinIntake) async throws -> IntakeResponse {
        let key = try PrivateKey(pem: Array(try Data(contentsOf: folder.appendingPathComponent("participants/\(code).key.pem"))))
        let certificate = try Trust.Certificate(pem: Array(try Data(contentsOf: folder.appendingPathComponent("participants/\(code).cert.pem"))))
        let signed = try JWS().sign(Array(text.utf8), key: key, chain: [certificate], compact: false)
        return IntakeResponse(await pipeline.submit(Array(signed.utf8), mediaType: "application/jose+json", sender: ParticipantsFile.defaults.first { $0.code == code }))
    }
}

/// A penalty with one finding for `person` (main responsibility) under guangdong.
func penalty(_ id: String, person: String, situation: String, on date: String) -> String {
    """
    {"id": "\(id)", "type": "PenaltyDecision", "issuer": "440800-INS-ADMIN", "issuedAt": "\(date)T10:00:00+08:00", "region": "440800",
     "rules": "guangdong", "body": {"decisionNo": "湛医保罚〔2025〕\(id)号", "decidedOn": "\(date)",
     "institution": {"code": "H44080200001", "kind": "medical"},
     "findings": [{"violation": "V1", "situations": ["\(situation)"], "persons": [{"code": "\(person)", "responsibility": "main"}]}]}}
    """
}

@Suite("several writers on one log")
struct SharedLogTests {
    @Test("a node derives from facts another node appended first, and follows them for eligibility")
    func derivesFromOtherWriters() async throws {
        let nodes = try await TwoNodes.make()
        // 6 points through the first node, then 6 more through the second: the second must see 12 → terminated.
        #expect(try await nodes.submit(penalty("P-1", person: "D1", situation: "penalty.art38-39", on: "2025-03-01"), as: "440800-INS-ADMIN", to: nodes.first).status == 201)
        #expect(try await nodes.submit(penalty("P-2", person: "D1", situation: "penalty.art38-39", on: "2025-04-01"), as: "440800-INS-ADMIN", to: nodes.second).status == 201)
        let issued = try await nodes.log.entries(after: 0, limit: 100).filter { $0.content.outcome == .issued }
        #expect(issued.map(\.content.type) == ["ScoreNotice", "ScoreNotice", "Referral"])
        let reader = try BulletinReader()
        let last = try #require(issued.last)
        guard case .referral(let referral) = try reader.read(try #require(JWS.unverifiedPayload(last.content.bytes))).bulletin.body else {
            Issue.record("not a referral")
            return
        }
        #expect(referral.points == 12 && referral.sanction == .terminated)
        // The first node has not seen P-2 until it follows the log.
        let date = try #require(CalendarDate(iso: "2025-06-01"))
        #expect(try nodes.first.projection.state(of: "D1", on: date).points == 6)
        try await nodes.first.catchUp()
        try await nodes.first.catchUp()   // reading again changes nothing
        #expect(try nodes.first.projection.state(of: "D1", on: date).points == 12)
        #expect(try await nodes.log.verifyChain().firstBroken == nil)
    }

    @Test("a correction that withdraws a sanctioning act tells the agency the new total and lifts the referral at the regulator")
    func correctionLiftsReferral() async throws {
        let nodes = try await TwoNodes.make()
        // 12 points (penalty.art40, main responsibility) → terminated → a Referral to health.
        #expect(try await nodes.submit(penalty("P-9", person: "D9", situation: "penalty.art40", on: "2025-03-01"), as: "440800-INS-ADMIN", to: nodes.first).status == 201)
        let correction = """
            {"id": "C-9", "type": "Correction", "issuer": "440800-INS-ADMIN", "issuedAt": "2025-04-01T10:00:00+08:00", "region": "440800",
             "rules": "guangdong", "body": {"decisionNo": "湛医保更〔2025〕9号", "decidedOn": "2025-04-01",
             "target": {"issuer": "440800-INS-ADMIN", "id": "P-9"}, "action": "withdraw"}}
            """
        #expect(try await nodes.submit(correction, as: "440800-INS-ADMIN", to: nodes.first).status == 201)
        let reader = try BulletinReader()
        let all = try await nodes.log.entries(after: 0, limit: 100).filter { $0.content.outcome == .issued }
        // penalty.art40 is a fraud situation: the institution's key-supervision notice (D41) is issued too.
        #expect(all.filter { $0.content.id.hasPrefix("KS-") }.count == 1)
        let issued = all.filter { !$0.content.id.hasPrefix("KS-") }
        #expect(issued.map(\.content.type) == ["ScoreNotice", "Referral", "ScoreNotice", "Referral"])
        let bodies = try issued.map { try reader.read(try #require(JWS.unverifiedPayload($0.content.bytes))).bulletin.body }
        guard case .referral(let lifted) = bodies[3], case .scoreNotice(let notice) = bodies[2] else {
            Issue.record("unexpected bulletins")
            return
        }
        #expect(lifted.sanction == .lifted && lifted.points == 0 && lifted.until == nil)
        #expect(lifted.cause.id == "C-9" && lifted.cause.decisionNo == "湛医保更〔2025〕9号")
        #expect(try await nodes.log.deliveries(ofBulletin: issued[3].content.issuer, id: issued[3].content.id).map(\.recipient) == ["440800-HEALTH", "440800-INS-ADMIN"],
                "the regulator, and the admin's copy (D18)")
        #expect(notice.yearTotal == 0 && notice.status == .normal && notice.detail?.hasPrefix("更正") == true)
        let date = try #require(CalendarDate(iso: "2025-06-01"))
        #expect(try nodes.first.projection.state(of: "D9", on: date).status == .normal)
    }
}
