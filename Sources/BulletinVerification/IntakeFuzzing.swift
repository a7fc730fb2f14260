import Bulletins
import Trust

/// What the intake fuzzer feeds every input to: the untrusted-input path of intake — signature
/// verification with the trust store (XML-DSig or JWS, which parses, canonicalizes and checks the profile),
/// and, for the signed content and the raw bytes alike, parsing, the schema and decoding. It must return
/// for any bytes: an error is fine, a crash or a hang is a bug. The regression test replays the committed
/// corpus through it.
public struct IntakeFuzzing: Sendable {
    let verifier: SignedBulletinVerifier
    let reader: BulletinReader
    let now: Int

    /// A harness over the trust store in `trustDirectory` (the repository's `certs/test-trust`), checking
    /// signatures as at `now` (Unix seconds; the store's CRLs must be current then).
    public init(trustDirectory: String, now: Int) throws {
        self.now = now
        reader = try BulletinReader()
        verifier = SignedBulletinVerifier(trust: try TrustStore(directory: trustDirectory), reader: reader)
    }

    /// Runs one input through the intake checks; returns the outcome in words (for the corpus replay).
    @discardableResult
    public func check(_ bytes: [UInt8]) -> String {
        let verified: String
        do {
            verified = "verified \(try verifier.verify(bytes, now: now).type.rawValue)"
        } catch {
            verified = "refused"
        }
        let parsed: String
        do {
            parsed = "parsed \(try reader.read(bytes).bulletin.type.rawValue)"
        } catch {
            parsed = "unparsed"
        }
        return verified + ", " + parsed
    }

    /// Whether the one-pass JSON reader agrees with the full path on `bytes`: whatever it accepts, the
    /// full path must accept as the same bulletin. The fuzz target stops on a disagreement.
    public func fastPathAgrees(_ bytes: [UInt8]) -> Bool {
        guard let fast = BulletinJSONDecoder.fastPath(bytes[...]) else { return true }
        return (try? BulletinJSONDecoder().decodeWithoutFastPath(bytes[...])) == fast
    }
}
