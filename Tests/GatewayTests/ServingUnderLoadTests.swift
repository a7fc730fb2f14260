import AsyncHTTPClient
import Foundation
import Gateway
import Ledger
import NIOCore
import Testing
import TongbaoTestSupport

/// What crashed a PostgreSQL node (`/metrics` on the internal listener called `.wait()` on an event loop):
/// every read route answered while intake commits, on both stores, with the gateway assembled as `serve`
/// assembles it.
@Suite("a gateway serves its read routes while intake commits (SQLite and PostgreSQL)", .serialized)
struct ServingUnderLoadTests {
    @Test("/metrics, /healthz and eligibility on the internal listener and the API answer during intake; the process stays up",
          arguments: GatewayStore.allCases)
    func readsDuringIntake(store: GatewayStore) async throws {
        let gateway = try await LiveGateway.start(store: store)
        defer { gateway.stop() }
        let admin = try gateway.client("440800-INS-ADMIN")
        let plain = HTTPClient(eventLoopGroupProvider: .singleton)
        let count = 60
        let bodies = try (0..<count).map { index in
            try signedJSON(penalty("LOAD-\(index)", person: "D4408\(String(format: "%06d", index % 12))", situation: "procurement.non-selected",
                                   on: "2025-03-01").replacingOccurrences(of: "\"main\"", with: "\"general\""), as: "440800-INS-ADMIN", gateway)
        }
        let internalURL = "http://127.0.0.1:\(gateway.internalPort)"
        let reads = [internalURL + "/metrics", internalURL + "/healthz", internalURL + "/v1/persons/D4408000001/eligibility?date=2025-06-01"]
        let (accepted, answered) = try await withThrowingTaskGroup(of: (accepted: Int, answered: Int).self) { group in
            for slice in 0..<4 {
                group.addTask {
                    var accepted = 0
                    for index in stride(from: slice, to: count, by: 4) {
                        if try await post(admin, gateway, bodies[index], type: "application/jose+json").status == 201 { accepted += 1 }
                    }
                    return (accepted, 0)
                }
            }
            for reader in 0..<3 {
                group.addTask {
                    var answered = 0
                    for round in 0..<40 {
                        let response = try await plain.execute(HTTPClientRequest(url: reads[(reader + round) % reads.count]), timeout: .seconds(10))
                        _ = try await response.body.collect(upTo: 1 << 20)
                        if response.status == .ok { answered += 1 }
                    }
                    let metrics = try await get(admin, gateway, "/metrics")   // the API's /metrics, over mutual TLS
                    if metrics.status == 200 { answered += 1 }
                    return (0, answered)
                }
            }
            return try await group.reduce(into: (0, 0)) { $0.0 += $1.accepted; $0.1 += $1.answered }
        }
        #expect(accepted == count)
        #expect(answered == 3 * 41)
        // Still up, and its counts are the ledger's.
        let metrics = try await plain.execute(HTTPClientRequest(url: internalURL + "/metrics"), timeout: .seconds(10))
        let text = String(buffer: try await metrics.body.collect(upTo: 1 << 20))
        let entries = try await gateway.log.count()
        #expect(entries >= count)
        #expect(text.contains("tongbao_ledger_entries \(entries)\n"), "\(text)")
        try await plain.shutdown()
        try await admin.shutdown()
    }
}
