import Foundation
import Gateway
@testable import GatewayHTTP
import Testing

@Suite("eligibility answers are remembered only while the person's facts stand still")
struct EligibilityCacheTests {
    @Test("a new act, a correction (a shared fact) and another node's act each change the next answer")
    func answersFollowTheFacts() async throws {
        let nodes = try await TwoNodes.make()
        let first = GatewayServer(intake: nodes.first, ledger: nodes.firstLedger)
        func ask() -> String { first.eligibility(code: "D77", date: "2025-06-01").body }
        #expect(ask().contains(#""eligible":true,"status":"normal","until":null,"points":0"#))
        #expect(ask() == ask())
        // 12 points on the node that answers: terminated.
        #expect(try await nodes.submit(penalty("P-77", person: "D77", situation: "penalty.art40", on: "2025-03-01"), as: "440800-INS-ADMIN", to: nodes.first).status == 201)
        #expect(ask().contains(#""eligible":false,"status":"terminated""#))
        // The decision withdrawn (a correction changes anyone's state): eligible again.
        let correction = """
            {"id": "C-77", "type": "Correction", "issuer": "440800-INS-ADMIN", "issuedAt": "2025-04-01T10:00:00+08:00", "region": "440800",
             "rules": "guangdong", "body": {"decisionNo": "湛医保更〔2025〕77号", "decidedOn": "2025-04-01",
             "target": {"issuer": "440800-INS-ADMIN", "id": "P-77"}, "action": "withdraw"}}
            """
        #expect(try await nodes.submit(correction, as: "440800-INS-ADMIN", to: nodes.first).status == 201)
        #expect(ask().contains(#""eligible":true,"status":"normal","until":null,"points":0"#))
        // An act accepted by the other node counts once this node has followed the log.
        #expect(try await nodes.submit(penalty("P-78", person: "D77", situation: "penalty.art40", on: "2025-05-01"), as: "440800-INS-ADMIN", to: nodes.second).status == 201)
        #expect(ask().contains(#""eligible":true"#))
        try await nodes.first.catchUp()
        #expect(ask().contains(#""eligible":false,"status":"terminated""#))
        // Another date is another answer.
        #expect(first.eligibility(code: "D77", date: "2025-04-15").body.contains(#""eligible":true"#))
    }
}
