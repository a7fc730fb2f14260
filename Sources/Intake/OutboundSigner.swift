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

/// Turns drafts into signed bulletins, flattened JWS with the gateway's key. Two ways, one signature:
/// - ``sign(_:now:)`` reads the text back with the strict reader first (a gateway that sends what it would
///   refuse is a bug) and signs it pretty-printed: for periodic bulletins and `tongbao bulletin`, where the
///   text is read by people and made rarely.
/// - ``signAsBuilt(_:now:)`` signs the text exactly as built, one line: for the `ScoreNotice`s and
///   `Referral`s derived on the append path, where reading each back was a fifth of the serial commit's
///   time. Their bodies are built from typed values by ``DerivedBulletins`` (every string a verified
///   bulletin's, quoted by `JSONText`), and debug builds — every test run — still read each one back
///   with the strict reader as it is signed.
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

    /// The bulletin as built from the draft, one line.
    public func text(_ draft: OutboundDraft) -> String {
        var members = [("id", JSONText.quoted(draft.id)), ("type", JSONText.quoted(draft.type.rawValue)),
                       ("issuer", JSONText.quoted(code)), ("issuedAt", JSONText.quoted(draft.issuedAt)),
                       ("region", JSONText.quoted(draft.region))]
        if let rules = draft.rules { members.append(("rules", JSONText.quoted(rules))) }
        members.append(("body", draft.body))
        return JSONText.object(members)
    }

    /// The unsigned bulletin, read back with the strict reader and pretty-printed: what ``sign(_:now:)``
    /// signs (the same draft always gives the same bytes).
    public func unsigned(_ draft: OutboundDraft) throws -> String {
        let tree = try JSONParser().parse(text(draft))
        _ = try BulletinJSONDecoder.bulletin(fromTree: tree)
        return JSONWriter.pretty(tree)
    }

    /// The draft checked and signed pretty-printed, as the log entry and deliveries to append.
    public func sign(_ draft: OutboundDraft, now: Date = Date()) throws -> IssuedBulletin {
        try issued(draft, payload: Array(try unsigned(draft).utf8), now: now)
    }

    /// The draft signed exactly as built (see the type's documentation for when), as the log entry and
    /// deliveries to append.
    public func signAsBuilt(_ draft: OutboundDraft, now: Date = Date()) throws -> IssuedBulletin {
        let payload = Array(text(draft).utf8)
        assert(Self.isValid(payload), "the gateway built a \(draft.type.rawValue) its own reader refuses: \(draft.id)")
        return try issued(draft, payload: payload, now: now)
    }

    private func issued(_ draft: OutboundDraft, payload: [UInt8], now: Date) throws -> IssuedBulletin {
        let signed = try JWS().sign(payload, key: key, chain: [certificate], compact: false)
        let entry = NewEntry(issuer: code, id: draft.id, type: draft.type.rawValue, sender: code,
                             receivedAt: Timestamps.chinaStandardTime(now), outcome: .issued, bytes: Array(signed.utf8))
        return IssuedBulletin(entry: entry, recipients: draft.recipients)
    }

    /// Whether the strict reader accepts `payload` (for the debug-build check).
    private static func isValid(_ payload: [UInt8]) -> Bool {
        (try? BulletinJSONDecoder().decodeWithoutFastPath(payload[...])) != nil
    }
}
