import Bulletins
import Dispatch
import Foundation
import Gateway
@testable import Intake
import Ledger
import Scoring
import Synchronization
import Testing
import Trust

@Suite("group commit")
struct GroupCommitTests {
    @Test("what arrives while a batch commits is committed together in the next batch, each caller answered with its own outcome")
    func batchesWhatArrivesMeanwhile() async throws {
        let (gate, release) = AsyncStream<Void>.makeStream()
        let batches = Mutex<[[Int]]>([])
        let commits = GroupCommit<Int, Int>(commit: { items in
            batches.withLock { $0.append(items) }
            if items == [0] { for await _ in gate { break } }   // the first commit takes until the others have queued
            return items.map { $0 * 10 }
        }, unanswered: { -1 })
        try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            group.addTask { (0, await commits.submit(0)) }
            while batches.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(1)) }
            for item in 1...20 { group.addTask { (item, await commits.submit(item)) } }
            while commits.waiting < 20 { try await Task.sleep(for: .milliseconds(1)) }
            release.yield()
            for try await (item, outcome) in group { #expect(outcome == item * 10) }
        }
        let seen = batches.withLock { $0 }
        #expect(seen.count == 2)
        #expect(seen.first == [0])
        #expect(seen.last?.sorted() == Array(1...20))
    }

    @Test("bulletins submitted at once are committed in fewer transactions, each derived from every fact before it")
    func concurrentIntake() async throws {
        let nodes = try await TwoNodes.make()
        let persons = ["D101", "D102", "D103"]
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for person in persons {
                for act in 1...8 {
                    let text = penalty("P-\(person)-\(act)", person: person, situation: "procurement.non-selected", on: "2025-03-01")
                        .replacingOccurrences(of: "\"main\"", with: "\"general\"")
                    group.addTask { try await nodes.submit(text, as: "440800-INS-ADMIN", to: nodes.first).status }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: 201, count: 24))
        let commits = nodes.first.metrics.commits
        #expect(commits.items == 24)
        #expect(commits.count < 24, "24 concurrent bulletins took \(commits.count) commits")
        // Every ScoreNotice was derived from every fact logged before it: replaying the log in order gives
        // each notice's year total (same-day acts fold in id order, so the totals are not simply 1…8).
        let url = LiveGateway.repository.appendingPathComponent("rules/packs/guangdong.json")
        let guangdong = try RulePackLoader.load(try Data(contentsOf: url), source: url.path)
        let replay = FactProjection(scorer: Scorer(pack: guangdong))
        var expected: [String: Int] = [:]
        var notices: [String: Int] = [:]
        try await ProjectionBuilder.forEachAccepted(in: nodes.log, packs: ["guangdong": guangdong], defaultPack: "guangdong") { bulletin, fact in
            guard case .act(let act)? = fact, let person = act.personCodes.first else { return }
            let state = try replay.state(of: person, on: act.decidedOn, explain: true, adding: .act(act))
            expected[act.id.id] = state.history.last { $0.fact == act.id && $0.kind == .act }?.total
            replay.add(.act(act))
        }
        let reader = try BulletinReader()
        for entry in try await nodes.log.entries(after: 0, limit: 100) where entry.content.type == "ScoreNotice" {
            guard case .scoreNotice(let notice) = try reader.read(try #require(JWS.unverifiedPayload(entry.content.bytes))).bulletin.body,
                  let act = notice.act?.id else { continue }
            notices[act] = notice.yearTotal
        }
        #expect(notices.count == 24)
        #expect(notices == expected)
        #expect(try await nodes.log.count() == 48)
        #expect(try await nodes.log.verifyChain().firstBroken == nil)
        // Every receipt was kept in the same transaction as its bulletin.
        for entry in try await nodes.log.entries(after: 0, limit: 100) where entry.content.outcome == .accepted {
            #expect(try await nodes.log.receipt(for: entry.position) != nil)
        }
    }
}
