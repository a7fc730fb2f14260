import Foundation
import Testing
import TongbaoTestSupport
import TransparencyLog
import Trust
@testable import Ledger

/// The stores' Merkle tree (gateway.md §4a), and what walking the log against it catches: each kind of
/// tampering an attacker with the database could try.
@Suite("ledger store: the Merkle tree and its audit (SQLite and PostgreSQL)", .serialized)
struct MerkleTreeStoreTests {
    static let signer = NoteSigner(name: "tongbao/test-log", key: try! Ed25519PrivateKey.generate())!

    /// Appends `count` entries in batches of `batch`, signing and keeping a checkpoint after each batch as
    /// the committer does; returns the last checkpoint.
    static func fill(_ log: RunningStore, count: Int, batch: Int, from first: Int = 0) async throws -> SignedCheckpoint? {
        var last: SignedCheckpoint?
        for start in stride(from: first, to: first + count, by: batch) {
            last = try await log.withAppendLock { write in
                let written = try await write.append((start..<min(start + batch, first + count)).map { EntryToAppend(entry("M\($0)", bytes: "<b n=\"\($0)\"/>")) })
                let size = written.last?.position ?? 0
                let tree = MerkleTree(size: size, reader: TreeHashes(try await write.treeHashes(TreeReadRecorder.root(size: size))))
                let checkpoint = try SignedCheckpoint(signing: Checkpoint(origin: signer.verifier.name, size: size, root: try tree.root()), with: signer)
                try await write.storeCheckpoint(StoredCheckpoint(size: size, note: checkpoint.text))
                return checkpoint
            }
        }
        return last
    }

    @Test("every append grows the tree: its root and proofs are RFC 9162's over the entries' leaves, and one checkpoint is kept per batch",
          arguments: Store.allCases)
    func treeGrowsWithTheLog(store: Store) async throws {
        let (open, _) = try store.make()
        let log = try await open()
        let checkpoint = try #require(try await Self.fill(log, count: 37, batch: 5))
        let entries = try await log.entries(after: 0, limit: 100)
        #expect(entries.count == 37)
        // An independent tree over the leaves, in memory.
        var frontier = TreeFrontier()
        var leafHashes: [TreeNodeID: TreeHash] = [:]
        for entry in entries {
            for (node, hash) in frontier.append(leafHash: entry.leaf.hash) { leafHashes[node] = hash }
        }
        #expect(checkpoint.checkpoint.root == frontier.root && checkpoint.checkpoint.size == 37)
        let stored = try await log.treeHashes(Set(leafHashes.keys))
        #expect(stored == leafHashes, "the store keeps exactly the complete subtrees")
        for index in [0, 17, 36] {
            let proof = try MerkleTree(size: 37, reader: TreeHashes(try await log.treeHashes(TreeReadRecorder.inclusion(index: index, size: 37))))
                .inclusionProof(index: index)
            #expect(MerkleProof.verifyInclusion(leafHash: entries[index].leaf.hash, index: index, size: 37, proof: proof, root: frontier.root))
        }
        #expect(try await log.checkpoints(from: 0, limit: 100).map(\.size) == [5, 10, 15, 20, 25, 30, 35, 37])
        #expect(try await log.latestCheckpoint()?.note == checkpoint.text)
        let report = try await TreeAudit.walk(log, logKey: Self.signer.verifier)
        #expect(report.isIntact && report.entries == 37 && report.checkpoints == 8 && report.root == frontier.root, "\(String(describing: report.firstBroken))")
        // A store that restarts (PostgreSQL: no remembered right edge) goes on growing the same tree.
        let reopened = try await open()
        let more = try #require(try await Self.fill(reopened, count: 4, batch: 4, from: 37))
        #expect(try await TreeAudit.walk(reopened, logKey: Self.signer.verifier).isIntact)
        #expect(more.checkpoint.size == 41)
    }

    @Test("a log written before the tree gets its tree when it migrates", arguments: Store.allCases)
    func treeOfAnOlderLog(store: Store) async throws {
        let (open, sql) = try store.make()
        let log = try await open()
        _ = try await Self.fill(log, count: 9, batch: 3)
        let root = try #require(try await log.latestCheckpoint()).note
        try sql("DELETE FROM merkle_nodes")
        if store == .sqlite { try sql("PRAGMA user_version = 4") }
        let migrated = try await open()
        let report = try await TreeAudit.walk(migrated, logKey: Self.signer.verifier)
        #expect(report.isIntact, "\(String(describing: report.firstBroken))")
        #expect(try SignedCheckpoint(text: root, logKey: Self.signer.verifier).checkpoint.root == report.root)
    }

    @Test("tampering is caught at its position: bytes, bytes with their digest and chain, the tree recomputed too, a truncated tail",
          arguments: Store.allCases)
    func tamperingIsCaught(store: Store) async throws {
        // Bytes changed in place: their digest no longer matches.
        do {
            let (open, sql) = try store.make()
            let log = try await open()
            _ = try await Self.fill(log, count: 12, batch: 4)
            try sql("UPDATE log SET bytes = X'00' WHERE position = 6")
            let report = try await TreeAudit.walk(log, logKey: Self.signer.verifier)
            #expect(report.firstBroken?.position == 6 && report.firstBroken?.reason.contains("SHA-256") == true, "\(String(describing: report.firstBroken))")
        }
        // Bytes, digest and every later chain hash rewritten: the leaf no longer hashes to the stored leaf hash.
        do {
            let (open, sql) = try store.make()
            let log = try await open()
            _ = try await Self.fill(log, count: 12, batch: 4)
            let digest = SHA256Digest.hex([0])
            try sql("UPDATE log SET bytes = X'00', sha256 = '\(digest)' WHERE position = 7")
            let report = try await TreeAudit.walk(log, logKey: Self.signer.verifier)
            #expect(report.firstBroken?.position == 7 && report.firstBroken?.reason.contains("leaf hash") == true, "\(String(describing: report.firstBroken))")
        }
        // The tree recomputed as well (all but the log key): the signed checkpoints no longer match.
        do {
            let (open, sql) = try store.make()
            let log = try await open()
            _ = try await Self.fill(log, count: 12, batch: 4)
            try sql("UPDATE log SET bytes = X'00', sha256 = '\(SHA256Digest.hex([0]))' WHERE position = 7")
            try sql("DELETE FROM merkle_nodes")
            if store == .sqlite { try sql("PRAGMA user_version = 4") }
            let rebuilt = try await open()   // the migration recomputes the tree from the rewritten rows
            let report = try await TreeAudit.walk(rebuilt, logKey: Self.signer.verifier)
            #expect(report.firstBroken?.position == 5 && report.firstBroken?.reason.contains("positions 5…8") == true, "\(String(describing: report.firstBroken))")
        }
        // The last entries deleted: the log signed a checkpoint of a larger tree.
        do {
            let (open, sql) = try store.make()
            let log = try await open()
            _ = try await Self.fill(log, count: 12, batch: 4)
            try sql("DELETE FROM receipts WHERE position > 10")
            try sql("DELETE FROM log WHERE position > 10")
            let report = try await TreeAudit.walk(log, logKey: Self.signer.verifier)
            #expect(report.firstBroken?.position == 11 && report.firstBroken?.reason.contains("missing") == true, "\(String(describing: report.firstBroken))")
        }
        // A checkpoint whose signature is not the log key's.
        do {
            let log = try await store.make().open()
            _ = try await Self.fill(log, count: 4, batch: 4)
            let other = try #require(NoteSigner(name: Self.signer.verifier.name, key: try Ed25519PrivateKey.generate()))
            let report = try await TreeAudit.walk(log, logKey: other.verifier)
            #expect(report.firstBroken?.reason.contains("does not verify with the log key") == true, "\(String(describing: report.firstBroken))")
        }
    }
}
