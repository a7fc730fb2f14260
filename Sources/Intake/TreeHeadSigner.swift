import Bulletins
import Foundation
import Ledger
import TransparencyLog

/// Signs the log's checkpoints and makes the receipts that prove an entry is in them (gateway.md §4a),
/// inside the transaction that appended: one Ed25519 signature per group commit, however many bulletins it
/// holds, and each receipt an inclusion proof read from the hashes the transaction just grew.
struct TreeHeadSigner: Sendable {
    /// The log's key, under the log's name.
    let signer: NoteSigner
    /// The keys rotated from that sign too until their overlap ends (seconds since 1970).
    let overlapping: [(signer: NoteSigner, until: Int)]
    /// Every key the log's checkpoints may carry: the current one first.
    let verifiers: [NoteVerifierKey]

    init(signer: NoteSigner, previous: [PreviousLogKey] = []) {
        self.signer = signer
        overlapping = previous.compactMap { key in key.signer.map { ($0, key.overlapEnds) } }
        verifiers = [signer.verifier] + previous.reversed().map(\.verifier)
    }

    /// The previous keys whose overlap lasts now.
    private var overlappingNow: [NoteSigner] {
        guard !overlapping.isEmpty else { return [] }
        let now = Int(Date().timeIntervalSince1970)
        return overlapping.filter { $0.until > now }.map(\.signer)
    }

    /// Signs and keeps the checkpoint of the tree of `size` leaves as `write`'s transaction has grown it, and
    /// returns a receipt for each of `receipted` (entries of that tree), in the encoding given with it.
    func checkpoint(size: Int, receipting receipted: [(entry: LogEntry, encoding: BulletinEncoding)],
                    write: any LedgerWriter) async throws -> (checkpoint: SignedCheckpoint, receipts: [[UInt8]]) {
        // Which stored hashes the root and the proofs read depends on the sizes and indexes alone: they are
        // listed first and fetched at once (from memory when the transaction grew them, as it always has here).
        let recorder = TreeReadRecorder()
        let plan = MerkleTree(size: size, reader: recorder)
        _ = try plan.root()
        for (entry, _) in receipted { _ = try plan.inclusionProof(index: entry.position - 1) }
        let tree = MerkleTree(size: size, reader: TreeHashes(try await write.treeHashes(recorder.read)))
        let checkpoint = try SignedCheckpoint(signing: Checkpoint(origin: signer.verifier.name, size: size, root: try tree.root()), with: signer,
                                              overlapping: overlappingNow)
        try await write.storeCheckpoint(StoredCheckpoint(size: size, note: checkpoint.text))
        let receipts = try receipted.map { entry, encoding in
            let receipt = LogReceipt(issuer: entry.content.issuer, id: entry.content.id, sha256: entry.sha256, receivedAt: entry.content.receivedAt,
                                     position: entry.position, leaf: entry.leaf.bytes,
                                     inclusionProof: try tree.inclusionProof(index: entry.position - 1), checkpoint: checkpoint.text)
            return encoding == .xml ? receipt.xml : receipt.json
        }
        return (checkpoint, receipts)
    }

    /// Signs and keeps the checkpoint of the tree of `size` leaves, with no receipt.
    func sign(size: Int, write: any LedgerWriter) async throws -> SignedCheckpoint {
        try await checkpoint(size: size, receipting: [], write: write).checkpoint
    }
}
