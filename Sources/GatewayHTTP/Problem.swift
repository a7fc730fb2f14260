import Bulletins
import Intake
import StrictJSON

/// A refusal as an RFC 9457 problem document: the one place a ``GatewayError/Code`` becomes an HTTP status
/// (for the API over mutual TLS and the internal listener alike).
public struct Problem: Sendable {
    /// The refusal.
    public let error: GatewayError

    /// The problem of `error`.
    public init(_ error: GatewayError) {
        self.error = error
    }

    /// The HTTP status of `code` (gateway.md §6).
    public static func status(of code: GatewayError.Code) -> Int {
        switch code {
        case .malformed, .issuedInFuture: 400
        case .signatureInvalid: 401
        case .untrustedSigner, .notAuthorized: 403
        case .notFound: 404
        case .methodNotAllowed: 405
        case .duplicateConflict, .duplicateDecision: 409
        case .tooLarge: 413
        case .unsupportedMediaType: 415
        case .rateLimited: 429
        case .schemaInvalid, .rulesInvalid: 422
        default: 500
        }
    }

    /// The HTTP status.
    public var status: Int { Self.status(of: error.code) }

    /// The media type of ``json``.
    public static let mediaType = "application/problem+json"

    /// The `application/problem+json` body.
    public var json: String {
        let code = error.code.description
        var members: [(String, String)] = [
            ("type", JSONText.quoted("urn:tongbao:problem:\(code)")), ("title", JSONText.quoted(Self.titles[error.code] ?? code)),
            ("status", String(status)), ("code", JSONText.quoted(code)), ("detail", JSONText.quoted(error.detail)),
        ]
        if let reason = error.reason { members.append(("reason", JSONText.quoted(reason))) }
        return JSONText.object(members)
    }

    /// Status, media type and body: the internal listener's form of an answer.
    var answer: (status: Int, contentType: String, body: String) {
        (status, Self.mediaType, json)
    }

    static let titles: [GatewayError.Code: String] = [
        .malformed: "The request cannot be read", .schemaInvalid: "The bulletin does not match its schema",
        .signatureInvalid: "The signature does not verify", .untrustedSigner: "The signer is not trusted",
        .notAuthorized: "Not authorized", .duplicateConflict: "Another bulletin has this issuer and id",
        .duplicateDecision: "This decision was accepted before under another id",
        .tooLarge: "The bulletin is too large", .unsupportedMediaType: "Unsupported media type",
        .rulesInvalid: "The bulletin is not allowed under the rule pack", .notFound: "Not found",
        .methodNotAllowed: "Method not allowed",
        .issuedInFuture: "The bulletin is issued in the future", .rateLimited: "Too many requests", .internal: "The gateway failed",
    ]
}

/// What intake's answer is over HTTP: a status, a content type and a body (the signed receipt, or the
/// problem document).
public struct IntakeResponse: Sendable {
    /// The HTTP status.
    public var status: Int
    /// The media type of `body`.
    public var contentType: String
    /// The signed receipt, or the problem document.
    public var body: [UInt8]

    /// A receipt's media type: `application/xml` or `application/json`; a receipt kept by a log of before the
    /// verifiable log (a signed `Receipt` bulletin) keeps `application/jose+json`.
    public static func receiptMediaType(_ receipt: [UInt8], encoding: BulletinEncoding?) -> String {
        if encoding == .xml { return "application/xml" }
        return receipt.starts(with: Array(#"{"issuer":"#.utf8)) ? "application/json" : "application/jose+json"
    }

    /// The HTTP form of what intake did.
    public init(_ result: IntakeResult) {
        switch result {
        case .receipted(let receipt, let encoding, let resubmission):
            (status, contentType, body) = (resubmission ? 200 : 201, Self.receiptMediaType(receipt, encoding: encoding), receipt)
        case .refused(let error):
            let problem = Problem(error)
            (status, contentType, body) = (problem.status, Problem.mediaType, Array(problem.json.utf8))
        }
    }
}
