import Bulletins
import Foundation
import Gateway
import Ledger
import Logging
import Scoring
import Testing
import TongbaoTestSupport
import Trust

/// The committer's passes on both stores, through intake as a sender meets them: duplicates decided in
/// the batch and before it, a conflict refused alone, every new entry with its receipt.
@Suite("the committer on SQLite and PostgreSQL", .serialized)
struct CommitterTests {
    @Test("the same bulletin sent eight times at once, and re-signed, is logged once and every sender gets the same receipt; other content under its id is 409; the rest of the batch goes on",
          arguments: GatewayStore.allCases)
    func duplicatesAndConflicts(store: GatewayStore) async throws {
        let setup = try await AdministrationIntake.start("tongbao-committer", on: store)
        let (ledger, intake, admin) = (setup.ledger, setup.intake, setup.admin)
        func signed(_ text: String) throws -> [UInt8] { try setup.signed(text) }
        let original = try signed(penalty("DUP-1", person: "D501", situation: "penalty.art38-39", on: "2025-03-01"))
        let resigned = try signed(penalty("DUP-1", person: "D501", situation: "penalty.art38-39", on: "2025-03-01"))   // ECDSA: other bytes
        #expect(original != resigned)
        let conflicting = try signed(penalty("DUP-1", person: "D501", situation: "penalty.art40", on: "2025-03-01"))
        let others = try (0..<6).map { try signed(penalty("OTHER-\($0)", person: "D50\($0 + 2)", situation: "penalty.art38-39", on: "2025-03-01")) }

        enum Sent { case same, conflicting, other }
        let answers = await withTaskGroup(of: (Sent, IntakeResponse).self) { group in
            for _ in 0..<8 { group.addTask { (.same, IntakeResponse(await intake.submit(original, mediaType: "application/jose+json", sender: admin))) } }
            group.addTask { (.same, IntakeResponse(await intake.submit(resigned, mediaType: "application/jose+json", sender: admin))) }
            for body in others { group.addTask { (.other, IntakeResponse(await intake.submit(body, mediaType: "application/jose+json", sender: admin))) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let same = answers.filter { $0.0 == .same }.map(\.1)
        #expect(same.map(\.status).sorted() == [200, 200, 200, 200, 200, 200, 200, 200, 201], "the first is new, every retry gets 200")
        #expect(Set(same.map(\.body)).count == 1, "every sender of the same content gets the same receipt, whoever signed it")
        #expect(answers.filter { $0.0 == .other }.allSatisfy { $0.1.status == 201 })
        let conflict = IntakeResponse(await intake.submit(conflicting, mediaType: "application/jose+json", sender: admin))
        #expect(conflict.status == 409)
        #expect(String(decoding: conflict.body, as: UTF8.self).contains(#""code":"duplicate-conflict""#))

        let entries = try await ledger.entries(after: 0, limit: 1000)
        let accepted = entries.filter { $0.content.outcome == .accepted }
        #expect(accepted.map(\.content.id).sorted() == ["DUP-1"] + (0..<6).map { "OTHER-\($0)" })
        #expect(entries.allSatisfy { $0.content.outcome != .rejected }, "refusals go to the refusal record, not the log")
        #expect(try await ledger.refusals(since: nil, limit: 10).map(\.code) == ["duplicate-conflict"])
        // Every accepted entry has its receipt, kept with it, and its ScoreNotice right after it.
        for entry in accepted {
            #expect(try await ledger.receipt(for: entry.position) != nil)
            #expect(entries.first { $0.position == entry.position + 1 }?.content.type == "ScoreNotice")
        }
        #expect(try await ledger.verifyChain().firstBroken == nil)
        // The projection holds each fact once.
        #expect(try intake.projection.state(of: "D501", on: try #require(CalendarDate(iso: "2025-06-01"))).points == 6)
    }

    @Test("the same decision under another id is refused with duplicate-decision naming the first id, and scores nothing; after a withdrawal it may be sent again",
          arguments: GatewayStore.allCases)
    func sameDecisionUnderAnotherID(store: GatewayStore) async throws {
        let setup = try await AdministrationIntake.start("tongbao-decisions", on: store)
        let (intake, admin) = (setup.intake, setup.admin)
        func submit(_ text: String) async throws -> IntakeResponse {
            IntakeResponse(await intake.submit(try setup.signed(text), mediaType: "application/jose+json", sender: admin))
        }
        let june = try #require(CalendarDate(iso: "2025-06-01"))
        let first = penalty("DEC-1", person: "D601", situation: "penalty.art38-39", on: "2025-03-01")
        #expect(try await submit(first).status == 201)
        #expect(try intake.projection.state(of: "D601", on: june).points == 6)

        let again = first.replacingOccurrences(of: #""id": "DEC-1""#, with: #""id": "DEC-2""#)
        #expect(again != first)
        let refused = try await submit(again)
        let text = String(decoding: refused.body, as: UTF8.self)
        #expect(refused.status == 409)
        #expect(text.contains(#""code":"duplicate-decision""#) && text.contains("440800-INS-ADMIN/DEC-1"), "\(text)")
        #expect(try intake.projection.state(of: "D601", on: june).points == 6, "the second copy scores nothing")

        // Two copies in one batch: one is accepted, the other refused.
        let copies = [penalty("DEC-3", person: "D602", situation: "penalty.art38-39", on: "2025-03-01"),
                      penalty("DEC-3", person: "D602", situation: "penalty.art38-39", on: "2025-03-01").replacingOccurrences(of: #""id": "DEC-3""#, with: #""id": "DEC-4""#)]
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for copy in copies { group.addTask { try await submit(copy).status } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses.sorted() == [201, 409])
        #expect(try intake.projection.state(of: "D602", on: june).points == 6)

        // Withdrawn by a Correction, the decision may be sent again under a new id.
        let withdrawal = """
            {"id": "COR-1", "type": "Correction", "issuer": "440800-INS-ADMIN", "issuedAt": "2025-03-02T10:00:00+08:00", "region": "440800",
             "body": {"decisionNo": "湛医保更〔2025〕1号", "decidedOn": "2025-03-02", "target": {"issuer": "440800-INS-ADMIN", "id": "DEC-1"}, "action": "withdraw"}}
            """
        #expect(try await submit(withdrawal).status == 201)
        #expect(try intake.projection.state(of: "D601", on: june).points == 0)
        #expect(try await submit(again).status == 201)
        #expect(try intake.projection.state(of: "D601", on: june).points == 6)

        // A restarted gateway knows the decisions from the log.
        let restarted = try BulletinIntake(configuration: setup.configuration, ledger: setup.ledger,
                                           projection: FactProjection(scorer: Scorer(pack: setup.guangdong)), logger: Logger(label: "test"))
        try await restarted.catchUp()
        let bytes = try setup.signed(again.replacingOccurrences(of: #""id": "DEC-2""#, with: #""id": "DEC-5""#))
        #expect(IntakeResponse(await restarted.submit(bytes, mediaType: "application/jose+json", sender: admin)).status == 409)
    }
}

/// Intake over a new ledger on `store`, and the insurance administration's key to sign with.
struct AdministrationIntake {
    let configuration: GatewayConfiguration
    let guangdong: RulePack
    let ledger: RunningStore
    let intake: BulletinIntake
    let admin: Participant?
    let key: PrivateKey
    let certificate: Trust.Certificate

    static func start(_ name: String, on store: GatewayStore) async throws -> AdministrationIntake {
        let (folder, guangdong, configuration) = try TwoNodes.developmentGateway(name)
        let ledger = try await RunningStore.open(try store.address(in: folder))
        let intake = try BulletinIntake(configuration: configuration, ledger: ledger, projection: FactProjection(scorer: Scorer(pack: guangdong)),
                                        logger: Logger(label: "test"))
        try await intake.catchUp()
        let participants = folder.appendingPathComponent("participants")
        return AdministrationIntake(
            configuration: configuration, guangdong: guangdong, ledger: ledger, intake: intake,
            admin: ParticipantsFile.defaults.first { $0.code == "440800-INS-ADMIN" },
            key: try PrivateKey(pem: Array(try Data(contentsOf: participants.appendingPathComponent("440800-INS-ADMIN.key.pem")))),
            certificate: try Trust.Certificate(pem: Array(try Data(contentsOf: participants.appendingPathComponent("440800-INS-ADMIN.cert.pem")))))
    }

    /// `text` as the administration's flattened JWS.
    func signed(_ text: String) throws -> [UInt8] {
        Array(try JWS().sign(Array(text.utf8), key: key, chain: [certificate], compact: false).utf8)
    }
}
