import TransparencyLog

extension LogEntry {
    /// The entry's canonical leaf (gateway.md §4a): what the Merkle tree hashes, computed from the entry's
    /// recorded fields alone, so that anyone can recompute it from a stored row.
    public var leaf: LogLeaf {
        let kind: LogLeaf.Kind = switch content.outcome {
        case .accepted: .accepted
        case .issued: .issued
        case .rejected: .rejected
        case .trust: .trust
        case .configuration: .configuration
        }
        return LogLeaf(position: position, time: content.receivedAt, kind: kind, issuer: content.issuer, id: content.id,
                       type: content.type, sha256: sha256)
    }
}

/// A signed checkpoint as the store keeps it: the tree size it states and the signed note's text (with
/// whatever cosignatures it has gathered).
public struct StoredCheckpoint: Sendable, Equatable {
    /// The tree size.
    public var size: Int
    /// The signed note.
    public var note: String

    /// Creates a row.
    public init(size: Int, note: String) {
        self.size = size
        self.note = note
    }
}

/// How a store grows its Merkle tree: every append extends the frontier by the appended entries' leaves and
/// stores each subtree they complete (O(log n) hashes per entry, amortized about two).
enum TreeGrowth {
    /// The subtrees that `entries` (appended after a tree of `frontier.size` leaves, in order) complete.
    static func completed(by entries: [LogEntry], extending frontier: inout TreeFrontier) throws(LedgerError) -> [(TreeNodeID, TreeHash)] {
        var completed: [(TreeNodeID, TreeHash)] = []
        completed.reserveCapacity(entries.count * 2)
        for entry in entries {
            guard entry.position == frontier.size + 1 else {
                throw LedgerError.storageFailure("the Merkle tree holds \(frontier.size) leaves, but entry \(entry.position) comes next")
            }
            completed += frontier.append(leafHash: entry.leaf.hash)
        }
        return completed
    }

    /// The frontier of a tree of `size` leaves from the hashes a store found for ``TreeFrontier/nodes(ofSize:)``.
    static func frontier(size: Int, from hashes: [TreeNodeID: TreeHash]) throws(LedgerError) -> TreeFrontier {
        guard let frontier = TreeFrontier(size: size, hashes: hashes) else {
            let missing = TreeFrontier.nodes(ofSize: size).filter { hashes[$0] == nil }.map(\.description).joined(separator: ", ")
            throw LedgerError.storageFailure("the Merkle tree of \(size) leaves lacks the stored subtrees \(missing)")
        }
        return frontier
    }
}
