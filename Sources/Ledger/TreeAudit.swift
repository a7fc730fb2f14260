import Foundation
import TransparencyLog

/// What walking the log against its Merkle tree found.
public struct TreeReport: Sendable {
    /// How many entries were checked.
    public var entries: Int
    /// The root recomputed from the entries' leaves.
    public var root: TreeHash
    /// How many stored checkpoints matched the recomputed tree.
    public var checkpoints: Int
    /// The recomputed roots at the sizes asked for (those the log reached).
    public var roots: [Int: TreeHash] = [:]
    /// The first entry (or range of entries) that does not verify, and why; nil when everything does.
    public var firstBroken: (position: Int, reason: String)?

    /// Whether everything verified.
    public var isIntact: Bool { firstBroken == nil }
}

/// Recomputes the log's Merkle tree from the stored entries alone and compares it with what the store
/// keeps and what the log signed (gateway.md §4a): each entry's bytes with its digest, each recomputed leaf
/// with the stored leaf hash, the recomputed root at each stored checkpoint's size with that checkpoint's
/// root (and the latest checkpoint's signature, given the log key), and the recomputed tree with the
/// stored one. What `serve` runs before it projects anything, and what `tongbao log verify` runs.
///
/// An entry changed in place (bytes, digest or fields) fails at its own position, as its leaf no longer
/// hashes to the stored leaf hash. A rewrite that also recomputed the stored hashes fails at the first
/// signed checkpoint after it: the positions between the last checkpoint that matched and that one are named.
public enum TreeAudit {
    /// Walks the whole log in pages, handing each verified page to `verified` before reading the next (the
    /// projection is built from verified entries only). Stops at the first failure.
    /// `rootsAt`: sizes whose recomputed roots the report keeps (those of a participant's checkpoints).
    public static func walk(_ store: some LedgerStore, logKey: NoteVerifierKey?, rootsAt sizes: Set<Int> = [],
                            verified: ([LogEntry]) throws -> Void = { _ in }) async throws -> TreeReport {
        try await walk(store, logKeys: logKey.map { [$0] } ?? [], rootsAt: sizes, verified: verified)
    }

    /// ``walk(_:logKey:rootsAt:verified:)`` accepting a latest checkpoint signed by any of `logKeys` (the
    /// log's key and those it rotated from); none: the signature is not checked.
    public static func walk(_ store: some LedgerStore, logKeys: [NoteVerifierKey], rootsAt sizes: Set<Int> = [],
                            verified: ([LogEntry]) throws -> Void = { _ in }) async throws -> TreeReport {
        var frontier = TreeFrontier()
        var report = TreeReport(entries: 0, root: MerkleHashing.emptyRoot, checkpoints: 0, firstBroken: nil)
        var checkpoints = try await store.checkpoints(from: 0, limit: 1000)
        var lastMatched = 0
        func broken(_ position: Int, _ reason: String) -> TreeReport {
            var failed = report
            failed.firstBroken = (position, reason)
            return failed
        }
        /// Compares the checkpoints of the tree's size so far.
        func checkCheckpoints() async throws -> TreeReport? {
            while let checkpoint = checkpoints.first, checkpoint.size <= frontier.size {
                checkpoints.removeFirst()
                if checkpoints.isEmpty { checkpoints = try await store.checkpoints(from: checkpoint.size + 1, limit: 1000) }
                guard checkpoint.size == frontier.size else { continue }   // not reached: every size is checked as the tree reaches it
                guard let note = SignedNote(text: checkpoint.note), let stated = try? Checkpoint(body: note.body) else {
                    return broken(checkpoint.size, "the stored checkpoint of size \(checkpoint.size) cannot be read")
                }
                guard stated.root == frontier.root else {
                    let first = lastMatched + 1
                    return broken(first, "the entries do not hash to the root the log signed for size \(checkpoint.size): an entry in positions \(first)…\(checkpoint.size) was changed")
                }
                lastMatched = checkpoint.size
                report.checkpoints += 1
            }
            return nil
        }
        if let failure = try await checkCheckpoints() { return failure }
        if sizes.contains(0) { report.roots[0] = MerkleHashing.emptyRoot }
        while true {
            let page = try await store.entries(after: frontier.size, limit: 1000)
            if page.isEmpty { break }
            let stored = try await store.treeHashes(Set(page.map { TreeNodeID(level: 0, index: $0.position - 1) }))
            for entry in page {
                guard entry.position == frontier.size + 1 else { return broken(frontier.size + 1, "entry \(frontier.size + 1) is missing") }
                guard SHA256Digest.hex(entry.content.bytes) == entry.sha256 else {
                    return broken(entry.position, "the stored bytes do not match their SHA-256")
                }
                let leafHash = entry.leaf.hash
                guard stored[TreeNodeID(level: 0, index: entry.position - 1)] == leafHash else {
                    return broken(entry.position, "its recorded fields or digest do not match the leaf hash the tree holds")
                }
                _ = frontier.append(leafHash: leafHash)
                report.entries += 1
                if sizes.contains(frontier.size) { report.roots[frontier.size] = frontier.root }
                // Checkpoints inside the page are compared as the tree reaches them.
                if let next = checkpoints.first, next.size == frontier.size, let failure = try await checkCheckpoints() { return failure }
            }
            try verified(page)
        }
        report.root = frontier.root
        if let beyond = checkpoints.first {
            return broken(frontier.size + 1, "the log has \(frontier.size) entries, but it signed a checkpoint of size \(beyond.size): entries \(frontier.size + 1)…\(beyond.size) are missing")
        }
        let storedEdge = try await store.treeHashes(Set(TreeFrontier.nodes(ofSize: frontier.size)))
        guard storedEdge == frontier.hashes else {
            return broken(frontier.size, "the stored tree's hashes differ from the tree recomputed from the entries")
        }
        if !logKeys.isEmpty, let latest = try await store.latestCheckpoint() {
            do {
                _ = try SignedCheckpoint(text: latest.note, logKeys: logKeys)
            } catch {
                return broken(latest.size, "the latest checkpoint (size \(latest.size)) does not verify with the log key: \(error)")
            }
        }
        return report
    }
}
