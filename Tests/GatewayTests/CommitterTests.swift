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
    @Test("the same bulletin sent eight times at once is logged once and every sender gets the same receipt; other bytes under its id are 409; the rest of the batch goes on",
          arguments: GatewayStore.allCases)
    func duplicatesAndConflicts(store: GatewayStore) async throws {
        let (folder, guangdong, configuration) = try TwoNodes.developmentGateway("tongbao-committer")
        let ledger = try await RunningStore.open(try store.address(in: folder))
        let intake = try BulletinIntake(configuration: configuration, ledger: ledger, projection: FactProjection(scorer: Scorer(pack: guangdong)),
                                        logger: Logger(label: "test"))
        try await intake.catchUp()
        let key = try PrivateKey(pem: Array(try Data(contentsOf: folder.appendingPathComponent("participants/440800-INS-ADMIN.key.pem"))))
        let certificate = try Trust.Certificate(pem: Array(try Data(contentsOf: folder.appendingPathComponent("participants/440800-INS-ADMIN.cert.pem"))))
        func signed(_ text: String) throws -> [UInt8] { Array(try JWS().sign(Array(text.utf8), key: key, chain: [certificate], compact: false).utf8) }
        let admin = ParticipantsFile.defaults.first { $0.code == "440800-INS-ADMIN" }
        let original = try signed(penalty("DUP-1", person: "D501", situation: "penalty.art38-39", on: "2025-03-01"))
        let resigned = try signed(penalty("DUP-1", person: "D501", situation: "penalty.art38-39", on: "2025-03-01"))   // ECDSA: other bytes
        #expect(original != resigned)
        let others = try (0..<6).map { try signed(penalty("OTHER-\($0)", person: "D50\($0 + 2)", situation: "penalty.art38-39", on: "2025-03-01")) }

        enum Sent { case original, resigned, other }
        let answers = await withTaskGroup(of: (Sent, IntakeResponse).self) { group in
            for _ in 0..<8 { group.addTask { (.original, IntakeResponse(await intake.submit(original, mediaType: "application/jose+json", sender: admin))) } }
            group.addTask { (.resigned, IntakeResponse(await intake.submit(resigned, mediaType: "application/jose+json", sender: admin))) }
            for body in others { group.addTask { (.other, IntakeResponse(await intake.submit(body, mediaType: "application/jose+json", sender: admin))) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let originals = answers.filter { $0.0 == .original }.map(\.1)
        let resubmission = try #require(answers.first { $0.0 == .resigned }?.1)
        // The re-signed copy is refused only if the original got in first; if it got in first itself, the
        // originals are the conflicts. Either way one of the two byte strings is the fact, once.
        let acceptedOriginal = originals.allSatisfy { $0.status == 201 }
        if acceptedOriginal {
            #expect(Set(originals.map(\.body)).count == 1, "every sender of the same bytes gets the same receipt")
            #expect(resubmission.status == 409)
            #expect(String(decoding: resubmission.body, as: UTF8.self).contains(#""code":"duplicate-conflict""#))
        } else {
            #expect(resubmission.status == 201)
            #expect(originals.allSatisfy { $0.status == 409 })
        }
        #expect(answers.filter { $0.0 == .other }.allSatisfy { $0.1.status == 201 })

        let entries = try await ledger.entries(after: 0, limit: 1000)
        let accepted = entries.filter { $0.content.outcome == .accepted }
        #expect(accepted.map(\.content.id).sorted() == ["DUP-1"] + (0..<6).map { "OTHER-\($0)" })
        #expect(entries.filter { $0.content.outcome == .rejected }.allSatisfy { $0.content.errorCode == "duplicate-conflict" })
        // Every accepted entry has its receipt, kept with it, and its ScoreNotice right after it.
        for entry in accepted {
            #expect(try await ledger.receipt(for: entry.position) != nil)
            #expect(entries.first { $0.position == entry.position + 1 }?.content.type == "ScoreNotice")
        }
        #expect(try await ledger.verifyChain().firstBroken == nil)
        // The projection holds each fact once.
        #expect(try intake.projection.state(of: "D501", on: try #require(CalendarDate(iso: "2025-06-01"))).points == 6)
    }
}
