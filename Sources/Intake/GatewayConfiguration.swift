import Foundation
import Scoring
import TransparencyLog
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
    /// The log's Ed25519 key, which signs its checkpoints (gateway.md §4a); every node of a cluster holds the same.
    public var logKey: Ed25519PrivateKey
    /// The log's name: the checkpoints' origin line and the log key's name.
    public var logOrigin: String
    /// The log keys rotated from (``LogKeyHistory``), oldest first: listed in the key document, accepted
    /// for the checkpoints they signed, and signing too while their overlap lasts.
    public var previousLogKeys: [PreviousLogKey] = []
    /// The rule packs by name, and the one used when a bulletin names none.
    public var packs: [String: RulePack]
    /// The pack for bulletins that name none.
    public var defaultPack: String
    /// The largest bulletin accepted.
    public var maxBodyBytes: Int
    /// Whether an ECDSA signing key computes its signatures' nonces ahead, on idle cores (``PrivateKey/precomputeSigningNonces(keeping:)``):
    /// on by default; off to measure what the pool is worth (`GatewayBenchmark --no-nonce-pool`).
    public var precomputesSigningNonces = true
    /// How far in the future a bulletin's `issuedAt` may be, in seconds, before it is refused as
    /// `issued-in-future` (the sender's clock may run a little ahead).
    public var allowedClockSkew = 300

    /// Creates a configuration.
    public init(code: String, region: String, participants: [Participant], trust: TrustStore, signingKey: PrivateKey,
                signingCertificate: Trust.Certificate, logKey: Ed25519PrivateKey, logOrigin: String? = nil,
                packs: [String: RulePack], defaultPack: String, maxBodyBytes: Int = 1 << 20) {
        self.logKey = logKey
        self.logOrigin = logOrigin ?? Self.defaultLogOrigin(code: code)
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

    /// The log's name when none is configured: `tongbao/` and the gateway's code.
    public static func defaultLogOrigin(code: String) -> String { "tongbao/\(code)" }

    /// Signs checkpoints as ``logOrigin`` with ``logKey``.
    public var logSigner: NoteSigner {
        get throws(GatewayError) {
            guard let signer = NoteSigner(name: logOrigin, key: logKey) else {
                throw GatewayError(.internal, "the log origin \(logOrigin) is not a valid key name (no spaces, + or line feeds)")
            }
            return signer
        }
    }

    /// The log's verifier key (C2SP vkey).
    public var logVerifierKey: NoteVerifierKey {
        get throws(GatewayError) { try logSigner.verifier }
    }

    /// Every key a checkpoint of this log may be signed with: the current one first, then those rotated
    /// from, newest first.
    public var logVerifierKeys: [NoteVerifierKey] {
        get throws(GatewayError) { [try logVerifierKey] + previousLogKeys.reversed().map(\.verifier) }
    }

    /// Where the log key of the gateway whose signing key is at `signingKeyPath` lives by default: beside it,
    /// as `CODE.log-key.pem`.
    public static func logKeyPath(beside signingKeyPath: String, code: String) -> String {
        URL(fileURLWithPath: signingKeyPath).deletingLastPathComponent().appendingPathComponent("\(code).log-key.pem").path
    }
}
