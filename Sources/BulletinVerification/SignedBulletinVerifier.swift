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

    /// Creates a verifier over a trust store.
    public init(trust: TrustStore, reader: BulletinReader) {
        self.trust = trust
        self.reader = reader
    }

    /// The verified bulletin, or the first failure as a `TrustError`/`BulletinError`.
    public func verify(_ bytes: [UInt8], now: Int) throws -> Bulletin {
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
        // The chain and revocation were checked at receipt with the current CRLs; at issuedAt the
        // certificate itself must have been valid.
        guard let issuedAt = bulletin.issuedAtSeconds, signer.notBefore <= issuedAt, issuedAt <= signer.notAfter else {
            throw TrustError(code: .certificateExpired, message: "the signer's certificate was not valid at issuedAt \(bulletin.issuedAt)")
        }
        return bulletin
    }
}
