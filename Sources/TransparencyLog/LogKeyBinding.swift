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
        let (vkey, binding, _) = try members(of: document)
        return try verify(vkey: vkey, binding: binding, trust: trust, now: now)
    }

    /// Every log key `document` binds, each binding verified as ``verify(_:trust:now:)`` does: its `vkey`
    /// first, then those of `previous` (the keys the log rotated from, newest first), whose checkpoints and
    /// receipts still verify.
    /// Each previous key must be bound by the same gateway and named as the same log as the current one: a
    /// relayed document cannot add a key bound by another participant's certificate.
    public static func verifyAll(_ document: [UInt8], trust: TrustStore, now: Int) throws(LogError) -> [NoteVerifierKey] {
        let (vkey, binding, previous) = try members(of: document)
        let (current, gateway) = try verifyBinding(vkey: vkey, binding: binding, trust: trust, now: now)
        var keys = [current]
        for item in previous {
            guard case .object(let fields) = item.value,
                  case .string(let vkey)? = fields.first(where: { $0.key == "vkey" })?.node.value,
                  case .string(let binding)? = fields.first(where: { $0.key == "binding" })?.node.value else {
                throw LogError(.malformed, #"a previous log key is not {"vkey","binding"}"#)
            }
            let (key, boundBy) = try verifyBinding(vkey: vkey, binding: binding, trust: trust, now: now)
            guard boundBy == gateway, key.name == current.name else {
                throw LogError(.signatureInvalid, "a previous log key (\(key.name), bound by \(boundBy)) is not of the same log and gateway as \(current.name) (\(gateway))")
            }
            keys.append(key)
        }
        return keys
    }

    private static func members(of document: [UInt8]) throws(LogError) -> (vkey: String, binding: String, previous: [JSONNode]) {
        guard let node = try? JSONParser().parse(document), case .object(let members) = node.value,
              case .string(let vkey)? = members.first(where: { $0.key == "vkey" })?.node.value,
              case .string(let binding)? = members.first(where: { $0.key == "binding" })?.node.value else {
            throw LogError(.malformed, #"not a log key document ({"origin","vkey","binding"} with an Ed25519 vkey)"#)
        }
        var previous: [JSONNode] = []
        if let listed = members.first(where: { $0.key == "previous" })?.node {
            guard case .array(let items) = listed.value else { throw LogError(.malformed, "the log key document's previous is not an array") }
            previous = items
        }
        return (vkey, binding, previous)
    }

    private static func verify(vkey: String, binding: String, trust: TrustStore, now: Int) throws(LogError) -> NoteVerifierKey {
        try verifyBinding(vkey: vkey, binding: binding, trust: trust, now: now).key
    }

    /// The key of a binding statement and the gateway it names (the participant that signed it).
    private static func verifyBinding(vkey: String, binding: String, trust: TrustStore, now: Int) throws(LogError) -> (key: NoteVerifierKey, gateway: String) {
        guard let key = NoteVerifierKey(text: vkey), key.type == NoteVerifierKey.ed25519 else {
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
        return (key, gateway)
    }
}
