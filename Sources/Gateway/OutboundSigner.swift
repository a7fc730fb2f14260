import Bulletins
import Foundation
import Ledger
import StrictJSON
import Trust

/// A bulletin the gateway is about to issue, before signing: its envelope and body, and who receives it.
public struct OutboundDraft: Sendable, Equatable {
    /// The bulletin id (deterministic: the same cause gives the same id).
    public var id: String
    /// The bulletin type.
    public var type: BulletinType
    /// The region it concerns.
    public var region: String
    /// The rule pack it follows from.
    public var rules: String?
    /// The envelope's `issuedAt`.
    public var issuedAt: String
    /// The body as JSON text.
    public var body: String
    /// The recipients' participant codes.
    public var recipients: [String]

    /// Creates a draft.
    public init(id: String, type: BulletinType, region: String, rules: String?, issuedAt: String, body: String, recipients: [String]) {
        self.id = id
        self.type = type
        self.region = region
        self.rules = rules
        self.issuedAt = issuedAt
        self.body = body
        self.recipients = recipients
    }
}

/// Turns drafts into signed bulletins: checked against the schema like any received bulletin (a
/// gateway that sends what it would refuse is a bug), then signed as flattened JWS with the gateway's key.
public struct OutboundSigner: Sendable {
    let code: String
    let key: PrivateKey
    let certificate: Trust.Certificate

    /// Creates a signer for the gateway `code`.
    public init(code: String, key: PrivateKey, certificate: Trust.Certificate) {
        self.code = code
        self.key = key
        self.certificate = certificate
    }

    /// The unsigned bulletin, pretty-printed: what is signed (the same draft always gives the same bytes).
    public func unsigned(_ draft: OutboundDraft) throws -> String {
        var members = [("id", JSONText.quoted(draft.id)), ("type", JSONText.quoted(draft.type.rawValue)),
                       ("issuer", JSONText.quoted(code)), ("issuedAt", JSONText.quoted(draft.issuedAt)),
                       ("region", JSONText.quoted(draft.region))]
        if let rules = draft.rules { members.append(("rules", JSONText.quoted(rules))) }
        members.append(("body", draft.body))
        let tree = try JSONParser().parse(JSONText.object(members))
        _ = try BulletinJSONDecoder.bulletin(fromTree: tree)
        return JSONWriter.pretty(tree)
    }

    /// The signed bulletin as the log entry and deliveries to append.
    public func sign(_ draft: OutboundDraft, now: Date = Date()) throws -> IssuedBulletin {
        let signed = try JWS().sign(Array(try unsigned(draft).utf8), key: key, chain: [certificate], compact: false)
        let entry = NewEntry(issuer: code, id: draft.id, type: draft.type.rawValue, sender: code,
                             receivedAt: Timestamps.chinaStandardTime(now), outcome: "issued", bytes: Array(signed.utf8))
        return IssuedBulletin(entry: entry, recipients: draft.recipients)
    }
}
