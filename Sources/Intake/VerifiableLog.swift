import Foundation
import Ledger
import StrictJSON
import TransparencyLog
import Trust

/// The log as participants, witnesses, mirrors and auditors read it (gateway.md §4a, §6): the latest signed
/// checkpoint with its cosignatures, the log key and its binding to the gateway's certificate, leaves,
/// inclusion and consistency proofs, C2SP `tlog-tiles`, and witnesses' cosignatures. Everything it serves
/// can be checked with the log key alone; it reveals digests, never personal data.
public struct VerifiableLog: Sendable {
    let ledger: any LedgerStore
    /// The log's verifier key (C2SP vkey).
    public let verifierKey: NoteVerifierKey
    /// The statement binding the log key to the gateway's X.509 identity: a compact JWS by the gateway's
    /// certificate key (its chain in `x5c`) over `{"origin","vkey","gateway"}`.
    public let keyBinding: String
    /// The keys the log rotated from, newest first, each with its own binding statement: checkpoints and
    /// receipts they signed still verify (gateway.md §7, `pki rotate`).
    public let previousKeys: [(key: NoteVerifierKey, binding: String)]
    /// Every key the log's checkpoints may carry: the current one first.
    public var verifierKeys: [NoteVerifierKey] { [verifierKey] + previousKeys.map(\.key) }

    /// The largest proof or tile request answered: sizes beyond the tree are refused, and so are tiles
    /// wider than C2SP's 256.
    public static let tileWidth = 256

    init(ledger: any LedgerStore, configuration: GatewayConfiguration) throws {
        self.ledger = ledger
        verifierKey = try configuration.logVerifierKey
        func binding(_ key: NoteVerifierKey) throws -> String {
            let statement = JSONText.object([("origin", JSONText.quoted(key.name)), ("vkey", JSONText.quoted(key.text)),
                                             ("gateway", JSONText.quoted(configuration.code))])
            return try JWS().sign(Array(statement.utf8), key: configuration.signingKey, chain: [configuration.signingCertificate])
        }
        keyBinding = try binding(verifierKey)
        previousKeys = try configuration.previousLogKeys.reversed().map { ($0.verifier, try binding($0.verifier)) }
    }

    /// `GET /v1/log/key`: the vkey and the binding statement, and (after a rotation) `previous`, the keys
    /// rotated from with theirs.
    public var keyDocument: String {
        var members = [("origin", JSONText.quoted(verifierKey.name)), ("vkey", JSONText.quoted(verifierKey.text)),
                       ("binding", JSONText.quoted(keyBinding))]
        if !previousKeys.isEmpty {
            members.append(("previous", JSONText.list(previousKeys.map { key, binding in
                JSONText.object([("vkey", JSONText.quoted(key.text)), ("binding", JSONText.quoted(binding))])
            })))
        }
        return JSONText.object(members)
    }

    /// The latest signed checkpoint, with the cosignatures it has gathered.
    public func latestCheckpoint() async throws(GatewayError) -> String {
        guard let latest = try await read({ try await ledger.latestCheckpoint() }) else {
            throw GatewayError(.notFound, "the log has signed no checkpoint yet")
        }
        return latest.note
    }

    /// The tree size proofs may be asked for: every committed entry's leaf is in the stored tree.
    public func treeSize() async throws(GatewayError) -> Int {
        try await read { try await ledger.count() }
    }

    /// The leaf bytes of entry `index` (position − 1).
    public func leaf(index: Int) async throws(GatewayError) -> [UInt8] {
        guard index >= 0, let entry = try await read({ try await ledger.entries(after: index, limit: 1).first }), entry.position == index + 1 else {
            throw GatewayError(.notFound, "the log has no entry \(index)")
        }
        return entry.leaf.bytes
    }

    /// The RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves.
    public func inclusionProof(index: Int, size: Int) async throws(GatewayError) -> [TreeHash] {
        let current = try await treeSize()
        guard size >= 1, size <= current, index >= 0, index < size else {
            throw GatewayError(.notFound, "the log has no leaf \(index) in a tree of \(size) (index= must be below size=, and size= between 1 and the tree's size, \(current))")
        }
        return try await proof(reading: TreeReadRecorder.inclusion(index: index, size: size)) { tree throws(TreeError) in
            try MerkleTree(size: size, reader: tree).inclusionProof(index: index)
        }
    }

    /// The RFC 9162 consistency proof between the trees of `from` and `to` leaves.
    public func consistencyProof(from: Int, to: Int) async throws(GatewayError) -> [TreeHash] {
        let current = try await treeSize()
        guard from >= 1, from <= to, to <= current else {
            throw GatewayError(.notFound, "the log has no trees of \(from) and \(to) leaves to prove consistent (from= must be between 1 and to=, and to= at most the tree's size, \(current))")
        }
        return try await proof(reading: TreeReadRecorder.consistency(from: from, to: to)) { tree throws(TreeError) in
            try MerkleTree(size: to, reader: tree).consistencyProof(from: from)
        }
    }

    private func proof(reading nodes: Set<TreeNodeID>, _ make: (TreeHashes) throws(TreeError) -> [TreeHash]) async throws(GatewayError) -> [TreeHash] {
        let hashes = try await read { try await ledger.treeHashes(nodes) }
        do {
            return try make(TreeHashes(hashes))
        } catch {
            throw GatewayError(.internal, "the stored tree lacks a hash: \(error)")
        }
    }

    // MARK: Tiles (C2SP tlog-tiles)

    /// A hash tile: the hashes of the subtrees of height `8 · level`, from index `index · 256`, `width` of them.
    public func tile(level: Int, index: Int, width: Int) async throws(GatewayError) -> [UInt8] {
        guard (0...7).contains(level), (1...Self.tileWidth).contains(width), index >= 0, index <= Int.max / Self.tileWidth - 1 else {
            throw GatewayError(.notFound, "no such tile")
        }
        let first = index * Self.tileWidth
        let nodes = (first..<(first + width)).map { TreeNodeID(level: 8 * level, index: $0) }
        let hashes = try await read { try await ledger.treeHashes(Set(nodes)) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32 * width)
        for node in nodes {
            guard let hash = hashes[node] else { throw GatewayError(.notFound, "the tree has no \(width == Self.tileWidth ? "full" : "partial \(width)-wide") tile \(level)/\(index) yet") }
            bytes += hash
        }
        return bytes
    }

    /// An entry bundle: the leaves of entries `index · 256 …`, `width` of them, each as a big-endian 16-bit
    /// length and the leaf bytes (whose tlog leaf hash is the tree's).
    public func entryBundle(index: Int, width: Int) async throws(GatewayError) -> [UInt8] {
        guard (1...Self.tileWidth).contains(width), index >= 0, index <= Int.max / Self.tileWidth - 1 else { throw GatewayError(.notFound, "no such tile") }
        let entries = try await read { try await ledger.entries(after: index * Self.tileWidth, limit: width) }
        guard entries.count == width else { throw GatewayError(.notFound, "the log has no \(width)-entry bundle \(index) yet") }
        var bytes: [UInt8] = []
        for entry in entries {
            let leaf = entry.leaf.bytes
            bytes += [UInt8(leaf.count >> 8), UInt8(leaf.count & 0xFF)] + leaf
        }
        return bytes
    }

    // MARK: Cosignatures (C2SP tlog-cosignature)

    /// Adds a witness's cosignature to the checkpoint of `size`: `vkey` is the witness's cosignature key
    /// (type 0x04) named after the posting participant (`CODE/…`), `line` its signature line. Returns the
    /// checkpoint with the cosignature.
    public func addCosignature(vkey: String, line: String, size: Int, by participant: String) async throws(GatewayError) -> String {
        guard let key = NoteVerifierKey(text: vkey), key.type == NoteVerifierKey.cosignatureV1 else {
            throw GatewayError(.signatureInvalid, "vkey: not a C2SP Ed25519 cosignature verifier key whose key ID matches its name and key (NAME+KEYID+BASE64 of 0x04 and the key)")
        }
        guard key.name == participant || key.name.hasPrefix(participant + "/") else {
            throw GatewayError(.notAuthorized, "a witness key posted by \(participant) is named \(participant) or \(participant)/…, not \(key.name)")
        }
        guard let stored = try await read({ try await ledger.checkpoints(from: size, limit: 1).first }), stored.size == size,
              let checkpoint = try? SignedCheckpoint(text: stored.note, logKeys: verifierKeys) else {
            throw GatewayError(.notFound, "the log signed no checkpoint of size \(size)")
        }
        guard let signature = SignedNote(text: checkpoint.note.body + "\n" + line.trimmingCharacters(in: .newlines) + "\n")?.signatures.first,
              Cosignature.time(of: key, on: SignedNote(body: checkpoint.note.body, signatures: [signature])) != nil else {
            throw GatewayError(.signatureInvalid, "the cosignature does not verify with \(key.name)'s key over the checkpoint of size \(size)")
        }
        let cosigned = checkpoint.adding(signature)
        try await read { try await ledger.replaceCheckpointNote(StoredCheckpoint(size: size, note: cosigned.text)) }
        return cosigned.text
    }

    private func read<Value>(_ body: () async throws -> Value) async throws(GatewayError) -> Value {
        do {
            return try await body()
        } catch let error as GatewayError {
            throw error
        } catch {
            throw GatewayError(.internal, "the log cannot be read: \(error)")
        }
    }
}
