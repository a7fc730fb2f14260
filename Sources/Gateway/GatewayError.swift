import StrictJSON

/// A refusal of the gateway, as an RFC 9457 problem: a stable code (gateway.md §6), the HTTP status, and
/// what went wrong. `reason` carries the finer code of the layer that refused (`certificate-revoked`, …).
public struct GatewayError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The gateway code: `malformed`, `schema-invalid`, `signature-invalid`, `untrusted-signer`,
    /// `not-authorized`, `duplicate-conflict`, `too-large`, `unsupported-media-type`, `rules-invalid`,
    /// `not-found`, `method-not-allowed`, `internal`.
    public let code: String
    /// The HTTP status.
    public let status: Int
    /// What went wrong.
    public let detail: String
    /// The finer code, when the layer that refused has one.
    public let reason: String?

    /// Creates an error.
    public init(code: String, status: Int, detail: String, reason: String? = nil) {
        self.code = code
        self.status = status
        self.detail = detail
        self.reason = reason
    }

    public var description: String { "\(code) (\(status)): \(detail)" }

    /// The problem as a plain HTTP answer: status, media type and body (the internal listener's form).
    var plainAnswer: (status: Int, contentType: String, body: String) {
        (status, "application/problem+json", problemJSON)
    }

    /// The `application/problem+json` body.
    public var problemJSON: String {
        var members: [(String, String)] = [
            ("type", JSONText.quoted("urn:tongbao:problem:\(code)")), ("title", JSONText.quoted(Self.titles[code] ?? code)),
            ("status", String(status)), ("code", JSONText.quoted(code)), ("detail", JSONText.quoted(detail)),
        ]
        if let reason { members.append(("reason", JSONText.quoted(reason))) }
        return JSONText.object(members)
    }

    static let titles = [
        "malformed": "The bulletin cannot be read", "schema-invalid": "The bulletin does not match its schema",
        "signature-invalid": "The signature does not verify", "untrusted-signer": "The signer is not trusted",
        "not-authorized": "The sender may not submit this", "duplicate-conflict": "Another bulletin has this issuer and id",
        "too-large": "The bulletin is too large", "unsupported-media-type": "Unsupported media type",
        "rules-invalid": "The bulletin is not allowed under the rule pack", "not-found": "Not found",
        "method-not-allowed": "Method not allowed", "internal": "The gateway failed",
    ]

    public static func == (lhs: GatewayError, rhs: GatewayError) -> Bool { lhs.code == rhs.code }
}
