import Bulletins
import Trust

/// Verifying a signed bulletin end to end: signature and profile, trust at receipt and at `issuedAt`,
/// the bulletin decoded from the verified bytes only, and the issuer bound to the signer.
/// `tongbao verify` and the gateway's intake use exactly these steps.
public struct SignedBulletinVerifier: Sendable {
    let trust: TrustStore
    let reader: BulletinReader
    let xml = XMLSignature()
    let jws = JWS()
    /// How far in the future `issuedAt` may be, in seconds (clocks drift); nil: not checked.
    let allowedClockSkew: Int?

    /// Creates a verifier over a trust store; with `allowedClockSkew`, a bulletin issued further in the
    /// future than that is refused (``IssuedInFuture``) before its certificate is checked at `issuedAt`.
    public init(trust: TrustStore, reader: BulletinReader, allowedClockSkew: Int? = nil) {
        self.trust = trust
        self.reader = reader
        self.allowedClockSkew = allowedClockSkew
    }

    /// A bulletin whose `issuedAt` is later than now plus the allowed clock skew.
    public struct IssuedInFuture: Error, Sendable {
        /// The bulletin's `issuedAt`, as written.
        public let issuedAt: String
        /// The allowed skew, in seconds.
        public let allowedClockSkew: Int
    }

    /// The verified bulletin, or the first failure as a `TrustError`/`BulletinError`.
    public func verify(_ bytes: [UInt8], now: Int) throws -> Bulletin {
        try verify(bytes, trust: trust, now: now)
    }

    /// ``verify(_:now:)`` against `trust` instead of the verifier's own (the one in force after a reload).
    public func verify(_ bytes: [UInt8], trust: TrustStore, now: Int) throws -> Bulletin {
        let verifiedBytes: [UInt8]
        let signer: Trust.Certificate
        let participants: [String]
        if BulletinReader.encoding(of: bytes) == .xml {
            let verified = try xml.verify(bytes, trust: trust, at: [now])
            (verifiedBytes, signer, participants) = (verified.canonical, verified.signer, verified.participants)
        } else {
            let verified = try jws.verify(bytes, trust: trust, at: [now])
            (verifiedBytes, signer, participants) = (verified.payload, verified.signer, verified.participants)
        }
        // Only the verified bytes are read; penalty decisions and agreement handlings in one pass when
        // they can be (the same bulletin the full reader gives; anything else goes the full way).
        let bulletin = try BulletinJSONDecoder.fastPath(verifiedBytes[...]) ?? reader.read(verifiedBytes).bulletin
        guard participants.contains(bulletin.issuer) else {
            throw TrustError(code: .issuerMismatch, message: "signed by \(participants.joined(separator: ", ")), but the bulletin's issuer is \(bulletin.issuer)")
        }
        if let allowedClockSkew, let issuedAt = bulletin.issuedAtSeconds, issuedAt > now + allowedClockSkew {
            throw IssuedInFuture(issuedAt: bulletin.issuedAt, allowedClockSkew: allowedClockSkew)
        }
        // The chain and revocation were checked at receipt with the current CRLs; at issuedAt the
        // certificate itself must have been valid.
        guard let issuedAt = bulletin.issuedAtSeconds, signer.notBefore <= issuedAt, issuedAt <= signer.notAfter else {
            throw TrustError(code: .certificateExpired, message: "the signer's certificate was not valid at issuedAt \(bulletin.issuedAt)")
        }
        return bulletin
    }
}
