import Gateway
@testable import GatewayHTTP
@testable import Intake
import StrictJSON
import Testing
import Trust

/// Codes become HTTP statuses in one place, and each layer's refusals map to the gateway's codes.
@Suite("problems: one code, one status")
struct ProblemTests {
    @Test("every code has the status gateway.md §6 gives it, and its problem document says both")
    func statuses() throws {
        let expected: [GatewayError.Code: Int] = [
            .malformed: 400, .schemaInvalid: 422, .signatureInvalid: 401, .untrustedSigner: 403, .notAuthorized: 403,
            .duplicateConflict: 409, .tooLarge: 413, .unsupportedMediaType: 415, .rulesInvalid: 422, .notFound: 404,
            .methodNotAllowed: 405, .internal: 500, .duplicateDecision: 409, .issuedInFuture: 400, .rateLimited: 429,
        ]
        #expect(Set(GatewayError.Code.all) == Set(expected.keys))
        for code in GatewayError.Code.all {
            let problem = Problem(GatewayError(code, "because", reason: "finer"))
            #expect(problem.status == expected[code], "\(code)")
            let document = try JSONObject(try JSONParser().parse(Array(problem.json.utf8)), pointer: "",
                                          allowedKeys: ["type", "title", "status", "code", "detail", "reason"])
            #expect(try document.string("code") == code.description)
            #expect(try document.int("status") == expected[code])
            #expect(try document.string("type") == "urn:tongbao:problem:\(code)")
            #expect(try document.string("reason") == "finer")
            #expect(try document.string("title") != code.description, "\(code) has no title")
        }
    }

    @Test("a signature or chain refusal is the sender's; OpenSSL or an unreadable trust store failing is the gateway's (500)")
    func trustRefusals() {
        let cases: [(TrustError.Code, GatewayError.Code)] = [
            (.signatureInvalid, .signatureInvalid), (.profileViolation, .signatureInvalid), (.malformed, .malformed),
            (.certificateRevoked, .untrustedSigner), (.certificateExpired, .untrustedSigner), (.untrustedSigner, .untrustedSigner),
            (.keyUsage, .untrustedSigner), (.issuerMismatch, .untrustedSigner), (.crlStale, .untrustedSigner),
            (.cryptoFailure, .internal), (.ioError, .internal), (.trustStoreUnreadable, .internal),
        ]
        for (trust, gateway) in cases {
            let refusal = BulletinIntake.refusal(TrustError(code: trust, message: "m"))
            #expect(refusal.code == gateway, "\(trust)")
            #expect(refusal.code == .malformed || refusal.reason == trust.description)
        }
    }
}
