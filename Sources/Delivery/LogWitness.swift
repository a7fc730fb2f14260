import AsyncHTTPClient
import Foundation
import NIOCore
import StrictJSON
import TransparencyLog
import Trust

/// A participant's witness of a gateway's log (C2SP witnessing, over the gateway's own endpoints): it learns
/// the log key from `GET /v1/log/key` (each binding checked against its trust store), takes the latest
/// checkpoint, accepts it only when the gateway proves it consistent with the one kept from before, and
/// cosigns it (C2SP `tlog-cosignature`). What `tongbao witness` runs, and what the test receiver runs as a
/// department's witness in the end-to-end tests.
public struct LogWitness: Sendable {
    /// Why a round could not be completed.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// Whether the gateway could not be reached (rather than answering something that does not verify).
        public let unreachable: Bool
        /// What went wrong.
        public let description: String
    }

    /// What a round found.
    public enum Verdict: Sendable {
        /// The latest checkpoint, verified, and consistent with the kept one (or the first one seen).
        case consistent(SignedCheckpoint)
        /// The log shrank, changed or cannot prove it extends the kept checkpoint: a rewrite or a split view.
        case inconsistent(kept: Checkpoint, offered: Checkpoint, reason: String)
    }

    let url: String
    let client: HTTPClient
    let trust: TrustStore

    /// A witness of the gateway at `url` (`https://HOST:PORT`), over `client` (mutual TLS as a participant),
    /// trusting the log key bindings that verify against `trust`.
    public init(url: String, client: HTTPClient, trust: TrustStore) {
        self.url = url
        self.client = client
        self.trust = trust
    }

    /// The gateway's log keys, the current one first, each binding verified against the trust store.
    public func logKeys() async throws(Failure) -> [NoteVerifierKey] {
        let document = try await fetch("/v1/log/key")
        do {
            return try LogKeyBinding.verifyAll(document, trust: trust, now: Int(Date().timeIntervalSince1970))
        } catch {
            throw Failure(unreachable: false, description: "the gateway's log key does not verify: \(error)")
        }
    }

    /// One round: the latest checkpoint against `kept` (the signed note kept from the last round; nil the
    /// first time). The caller keeps the new checkpoint when the verdict is consistent.
    public func check(kept: String?) async throws(Failure) -> Verdict {
        let keys = try await logKeys()
        let latest = try await fetch("/v1/log/checkpoint")
        let new: SignedCheckpoint
        do {
            new = try SignedCheckpoint(text: String(decoding: latest, as: UTF8.self), logKeys: keys)
        } catch {
            throw Failure(unreachable: false, description: "the gateway's checkpoint does not verify: \(error)")
        }
        guard let kept else { return .consistent(new) }
        let old: SignedCheckpoint
        do {
            old = try SignedCheckpoint(text: kept, logKeys: keys)
        } catch {
            throw Failure(unreachable: false, description: "the kept checkpoint does not verify with the log key: \(error)")
        }
        if let reason = try await inconsistency(from: old.checkpoint, to: new.checkpoint) {
            return .inconsistent(kept: old.checkpoint, offered: new.checkpoint, reason: reason)
        }
        return .consistent(new)
    }

    /// Posts `signer`'s cosignature of `checkpoint` (a key named after the posting participant, `CODE/…`).
    public func cosign(_ checkpoint: Checkpoint, as signer: NoteSigner, at time: Date = Date()) async throws(Failure) {
        let cosignature: SignedNote.Signature
        do {
            cosignature = try Cosignature.sign(checkpoint, time: UInt64(time.timeIntervalSince1970), with: signer)
        } catch {
            throw Failure(unreachable: false, description: "cannot cosign: \(error)")
        }
        var request = HTTPClientRequest(url: url + "/v1/log/cosignature")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: JSONText.object([
            ("size", String(checkpoint.size)), ("vkey", JSONText.quoted(signer.verifier.text)), ("cosignature", JSONText.quoted(cosignature.line)),
        ])))
        let response = try await answer(request)
        guard response.status == 200 else {
            throw Failure(unreachable: false, description: "the gateway refused the cosignature (\(response.status)): \(String(decoding: response.body.prefix(500), as: UTF8.self))")
        }
    }

    /// Why `new` cannot be the same log as `old` grown, or nil when the gateway proves that it is.
    private func inconsistency(from old: Checkpoint, to new: Checkpoint) async throws(Failure) -> String? {
        if new.size < old.size { return "the log shrank from \(old.size) to \(new.size) entries" }
        if new.size == old.size { return new.root == old.root ? nil : "the same size with another root" }
        if old.size == 0 { return nil }
        let proof = try await fetch("/v1/log/proof/consistency?from=\(old.size)&to=\(new.size)")
        guard let node = try? JSONParser().parse(proof), case .object(let members) = node.value,
              case .array(let items)? = members.first(where: { $0.key == "hashes" })?.node.value else {
            return "the gateway gave no consistency proof"
        }
        let hashes = items.compactMap { item -> TreeHash? in
            guard case .string(let text) = item.value, let bytes = Data(base64Encoded: text), bytes.count == 32 else { return nil }
            return Array(bytes)
        }
        guard hashes.count == items.count,
              MerkleProof.verifyConsistency(oldSize: old.size, newSize: new.size, oldRoot: old.root, newRoot: new.root, proof: hashes) else {
            return "the consistency proof from \(old.size) to \(new.size) does not verify"
        }
        return nil
    }

    private func fetch(_ path: String) async throws(Failure) -> [UInt8] {
        let response = try await answer(HTTPClientRequest(url: url + path))
        guard response.status == 200 else { throw Failure(unreachable: false, description: "GET \(path) answered \(response.status)") }
        return response.body
    }

    private func answer(_ request: HTTPClientRequest) async throws(Failure) -> (status: UInt, body: [UInt8]) {
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            return (response.status.code, Array(buffer: try await response.body.collect(upTo: 1 << 20)))
        } catch {
            throw Failure(unreachable: true, description: "the gateway at \(url) could not be reached: \(error)")
        }
    }
}
