import Foundation
import Testing
import TongbaoTestSupport

/// schemathesis (PyPI), an independent property-based API tester, generates requests from `openapi.yaml`
/// — valid and invalid — and sends them to a live gateway over mutual TLS, checking every answer against
/// the document: status codes, content types, schemas, that invalid requests are refused and valid ones
/// are not.
@Suite("schemathesis against openapi.yaml and a live gateway")
struct SchemathesisTests {
    @Test("schemathesis finds no failure, as an insurance agency and as a health department", arguments: ["440800-INS-AGENCY", "440800-HEALTH"])
    func noFailures(participant: String) async throws {
        let gateway = try await LiveGateway.start()
        defer { gateway.stop() }
        let participants = gateway.folder.appendingPathComponent("participants")
        let result = try await ExternalCommand.run("schemathesis", [
            "run", LiveGateway.repository.appendingPathComponent("openapi.yaml").path, "--url", gateway.url,
            "--request-cert", participants.appendingPathComponent("\(participant).cert.pem").path,
            "--request-cert-key", participants.appendingPathComponent("\(participant).key.pem").path,
            "--tls-verify", gateway.folder.appendingPathComponent("trust/roots/root.pem").path,
            "--checks", "all", "--max-examples", "40", "--seed", "20261204", "--no-color",
            // One worker: with several, hypothesis compiles lambdas on threads at once, which CPython 3.11 can
            // fail on ("AST constructor recursion depth mismatch"), a runtime error of the tool, not a finding.
            "--workers", "1",
        ], timeout: .seconds(300))
        let report = String(result.output.suffix(8000))
        #expect(result.status == 0, "\(report)")
        #expect(result.output.contains("passed"), "\(report)")
    }
}
