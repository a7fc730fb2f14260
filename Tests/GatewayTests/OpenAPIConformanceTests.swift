import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import TongbaoTestSupport
import Trust

@Suite("openapi.yaml", .serialized)
struct OpenAPIConformanceTests {
    /// Validates each (schema name, JSON file) with Python's openapi-spec-validator and jsonschema (2020-12,
    /// which OpenAPI 3.1 schemas are), resolving `#/components/schemas/…` inside the spec.
    func validate(_ cases: [(String, String)]) throws -> ExternalCommand.Result {
        let script = """
            import json, sys, yaml, jsonschema
            from openapi_spec_validator import validate
            spec = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
            validate(spec)
            bad = 0
            for schema, path in zip(sys.argv[2::2], sys.argv[3::2]):
                document = {"$ref": "#/components/schemas/" + schema, "components": spec["components"]}
                for error in jsonschema.Draft202012Validator(document).iter_errors(json.load(open(path, encoding="utf-8"))):
                    print(schema, path, error.message); bad += 1
            sys.exit(1 if bad else 0)
            """
        return try ExternalCommand.run("python3", ["-c", script, LiveGateway.repository.appendingPathComponent("openapi.yaml").path]
                                       + cases.flatMap { [$0.0, $0.1] })
    }

    @Test("the spec is valid OpenAPI 3.1, and the live server's answers match its schemas")
    func conformance() async throws {
        let gateway = try await LiveGateway.start()
        defer { gateway.stop() }
        let health = try gateway.client("440800-HEALTH")
        let credentials = try gateway.credentials("440800-HEALTH")
        let revocation = Array(try Data(contentsOf: LiveGateway.repository.appendingPathComponent("examples/bulletins/licence-revocation.xml")))
        #expect(try await post(health, gateway, try XMLSignature().sign(revocation, key: credentials.key, certificate: credentials.certificate), type: "application/xml").status == 201)
        let folder = try ExternalCommand.scratchFolder("tongbao-openapi")
        var cases: [(String, String)] = []
        func record(_ schema: String, _ answer: Answer, _ name: String) throws {
            let path = folder.appendingPathComponent(name).path
            try Data(answer.body).write(to: URL(fileURLWithPath: path))
            cases.append((schema, path))
        }
        try record("Eligibility", try await get(health, gateway, "/v1/persons/D440802000789/eligibility?date=2025-06-01"), "terminated.json")
        try record("Eligibility", try await get(health, gateway, "/v1/persons/D1/eligibility?date=2025-06-01"), "unknown.json")
        try record("PersonFile", try await get(health, gateway, "/v1/persons/D440802000789?date=2025-06-01"), "file.json")
        try record("InstitutionIndicators", try await get(health, gateway, "/v1/institutions/H44080200001?date=2025-06-01"), "institution.json")
        try record("Problem", try await get(health, gateway, "/v1/persons/bad!/eligibility"), "bad-code.json")
        try record("Problem", try await post(health, gateway, [UInt8]("x".utf8), type: "text/plain"), "media.json")
        try record("Problem", try await get(health, gateway, "/v1/bulletins/440800-HEALTH/none/receipt"), "no-receipt.json")
        let jws = try JWS().sign(Array(try reissued("penalty-decision", issuer: "440800-HEALTH", id: "X-1").utf8), key: credentials.key, chain: [credentials.certificate])
        try record("Problem", try await post(health, gateway, Array(jws.utf8), type: "application/jose+json"), "forbidden.json")
        let receipt = try await post(health, gateway, Array(try JWS().sign(Array(try reissued("practice-notice", issuer: "440800-HEALTH", id: "X-2").utf8),
                                                                          key: credentials.key, chain: [credentials.certificate]).utf8), type: "application/jose+json")
        try record("Receipt", receipt, "receipt.json")
        // The practice notice is on that person's file and bars eligibility while in force.
        try record("PersonFile", try await get(health, gateway, "/v1/persons/D440802000321?date=2025-09-01"), "practice-file.json")
        let barred = try await get(health, gateway, "/v1/persons/D440802000321/eligibility?date=2025-09-01")
        #expect(barred.text.contains(#""reason":"practice-suspended""#), "\(barred.text)")
        try record("Eligibility", barred, "practice-suspended.json")
        // The verifiable log.
        try record("LogKey", try await get(health, gateway, "/v1/log/key"), "log-key.json")
        let size = try await gateway.log.count()
        try record("InclusionProof", try await get(health, gateway, "/v1/log/proof/inclusion?index=0&size=\(size)"), "inclusion.json")
        try record("ConsistencyProof", try await get(health, gateway, "/v1/log/proof/consistency?from=1&to=\(size)"), "consistency.json")
        try record("Problem", try await get(health, gateway, "/v1/log/proof/inclusion?index=\(size)&size=\(size)"), "bad-proof.json")
        try record("Problem", try await get(health, gateway, "/v1/log/tile/0/x999/999"), "no-tile.json")
        // Pull delivery and deadlines: the revocation's referral waits in health's inbox.
        let inbox = try await get(health, gateway, "/v1/inbox?after=0&limit=10")
        #expect(inbox.text.contains(#""type":"Referral""#))
        try record("InboxPage", inbox, "inbox.json")
        try record("Problem", try await get(health, gateway, "/v1/inbox?limit=0"), "bad-limit.json")
        var ack = HTTPClientRequest(url: gateway.url + "/v1/inbox/ack")
        ack.method = .POST
        ack.body = .bytes(ByteBuffer(string: #"{"cursors":[1,2,3]}"#))
        let acked = try await health.execute(ack, timeout: .seconds(10))
        try record("Acknowledged", Answer(status: Int(acked.status.code), body: Array(buffer: try await acked.body.collect(upTo: 1024))), "ack.json")
        let deadlines = try await get(health, gateway, "/v1/deadlines?date=2025-06-01")
        #expect(deadlines.text.contains(#""step":"notice-to-institution","due":"2025-05-27","state":"passed""#))
        try record("Deadlines", deadlines, "deadlines.json")
        try record("Deadlines", try await get(health, gateway, "/v1/deadlines?overdue=true&date=2025-06-01"), "none-overdue.json")
        // A suspension that ended with no restoration is overdue (impersonation, main: 9 points → 2 months).
        let admin = try gateway.client("440800-INS-ADMIN")
        let adminKey = try gateway.credentials("440800-INS-ADMIN")
        let suspension = try JWS().sign(Array(penalty("A-OV-1", person: "D440802000999", situation: "impersonation", on: "2025-06-12").utf8),
                                        key: adminKey.key, chain: [adminKey.certificate])
        #expect(try await post(admin, gateway, Array(suspension.utf8), type: "application/jose+json").status == 201)
        try await admin.shutdown()
        let overdue = try await get(health, gateway, "/v1/deadlines?overdue=true&date=2025-12-31")
        #expect(overdue.text == #"{"date":"2025-12-31","deadlines":[{"step":"overdue-restoration","due":"2025-08-12","state":"overdue","act":null,"persons":["D440802000999"]}]}"#)
        try record("Deadlines", overdue, "overdue.json")
        try await health.shutdown()
        let result = try validate(cases)
        #expect(result.status == 0, "\(result.output)")
        // The validator has teeth: an answer with an extra field fails.
        let wrong = folder.appendingPathComponent("wrong.json")
        try Data(#"{"person":"D1","date":"2025-06-01","eligible":true,"status":"normal","until":null,"points":0,"reason":"normal","extra":1}"#.utf8).write(to: wrong)
        #expect(try validate([("Eligibility", wrong.path)]).status == 1)
    }
}
