import StrictJSON
import Trust

/// The log key document a gateway serves at `GET /v1/log/key`: its verifier key, and a statement binding
/// that key to the gateway's X.509 identity (a compact JWS by the gateway's certificate key, its chain in
/// `x5c`, over `{"origin","vkey","gateway"}`). Whoever trusts the gateway's certificate authority can so
/// learn the log key over any channel, and then check receipts and checkpoints offline.
public enum LogKeyBinding {
    /// The verifier key of `document`, once its binding verifies against `trust` at `now` (seconds since
    /// 1970) and names the same key and origin, signed by the participant it names as the gateway.
    public static func verify(_ document: [UInt8], trust: TrustStore, now: Int) throws(LogError) -> NoteVerifierKey {
        guard let node = try? JSONParser().parse(document), case .object(let members) = node.value,
              case .string(let vkey)? = members.first(where: { $0.key == "vkey" })?.node.value,
              case .string(let binding)? = members.first(where: { $0.key == "binding" })?.node.value,
              let key = NoteVerifierKey(text: vkey), key.type == NoteVerifierKey.ed25519 else {
            throw LogError(.malformed, #"not a log key document ({"origin","vkey","binding"} with an Ed25519 vkey)"#)
        }
        let verified: JWS.Verified
        do {
            verified = try JWS().verify(Array(binding.utf8), trust: trust, at: [now])
        } catch {
            throw LogError(.signatureInvalid, "the log key's binding statement does not verify: \(error)")
        }
        guard let statement = try? JSONParser().parse(verified.payload), case .object(let fields) = statement.value,
              case .string(let boundKey)? = fields.first(where: { $0.key == "vkey" })?.node.value,
              case .string(let gateway)? = fields.first(where: { $0.key == "gateway" })?.node.value else {
            throw LogError(.malformed, "the binding statement names no vkey and gateway")
        }
        guard boundKey == key.text else { throw LogError(.signatureInvalid, "the binding statement binds another key (\(boundKey))") }
        guard verified.participants.contains(gateway) else {
            throw LogError(.signatureInvalid, "the binding statement names gateway \(gateway) but is signed by \(verified.participants.joined(separator: ", "))")
        }
        return key
    }
}
