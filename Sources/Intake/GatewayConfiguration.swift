import Scoring
import Trust

/// The gateway's configuration: who it is, whom it trusts, and how it scores.
public struct GatewayConfiguration: Sendable {
    /// The gateway's participant code (the issuer of its receipts).
    public var code: String
    /// The gateway's region.
    public var region: String
    /// The participants.
    public var participants: [Participant]
    /// The trust store for signatures and client certificates.
    public var trust: TrustStore
    /// The gateway's signing key and certificate (for receipts).
    public var signingKey: PrivateKey
    /// The certificate that goes with `signingKey`.
    public var signingCertificate: Trust.Certificate
    /// The rule packs by name, and the one used when a bulletin names none.
    public var packs: [String: RulePack]
    /// The pack for bulletins that name none.
    public var defaultPack: String
    /// The largest bulletin accepted.
    public var maxBodyBytes: Int
    /// Working days a sector regulator is asked to answer a `Referral` in.
    public var referralResponseWorkingDays = 20
    /// How far in the future a bulletin's `issuedAt` may be, in seconds, before it is refused as
    /// `issued-in-future` (the sender's clock may run a little ahead).
    public var allowedClockSkew = 300

    /// Creates a configuration.
    public init(code: String, region: String, participants: [Participant], trust: TrustStore, signingKey: PrivateKey,
                signingCertificate: Trust.Certificate, packs: [String: RulePack], defaultPack: String, maxBodyBytes: Int = 1 << 20) {
        self.code = code
        self.region = region
        self.participants = participants
        self.trust = trust
        self.signingKey = signingKey
        self.signingCertificate = signingCertificate
        self.packs = packs
        self.defaultPack = defaultPack
        self.maxBodyBytes = maxBodyBytes
    }
}
