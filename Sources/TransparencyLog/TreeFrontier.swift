/// The address of a complete subtree: its level (0 for a leaf) and its index at that level. The subtree
/// covers leaves `[index · 2^level, (index + 1) · 2^level)`.
public struct TreeNodeID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The height: 0 for a leaf.
    public let level: Int
    /// The index among the subtrees of that height.
    public let index: Int

    /// Creates an address.
    public init(level: Int, index: Int) {
        self.level = level
        self.index = index
    }

    public static func < (lhs: TreeNodeID, rhs: TreeNodeID) -> Bool {
        (lhs.level, lhs.index) < (rhs.level, rhs.index)
    }

    public var description: String { "\(level)/\(index)" }
}

/// The complete subtrees along the right edge of a tree of `size` leaves (one per bit set in `size`, the
/// largest first): all that appending needs, and all that a root needs. Kept by a writer between batches so
/// that an append reads nothing but its own leaves.
public struct TreeFrontier: Sendable, Equatable {
    /// The number of leaves.
    public private(set) var size: Int
    /// The hash of each right-edge subtree.
    public private(set) var hashes: [TreeNodeID: TreeHash]

    /// The frontier of an empty tree.
    public init() {
        size = 0
        hashes = [:]
    }

    /// The frontier of a tree of `size` leaves from its subtrees' hashes (``nodes(ofSize:)``); nil when one is missing.
    public init?(size: Int, hashes: [TreeNodeID: TreeHash]) {
        let nodes = Self.nodes(ofSize: size)
        guard nodes.allSatisfy({ hashes[$0]?.count == 32 }) else { return nil }
        self.size = size
        self.hashes = Dictionary(uniqueKeysWithValues: nodes.compactMap { node in hashes[node].map { (node, $0) } })
    }

    /// The right-edge subtrees of a tree of `size` leaves, the largest first.
    public static func nodes(ofSize size: Int) -> [TreeNodeID] {
        var nodes: [TreeNodeID] = []
        var start = 0
        for level in stride(from: Int.bitWidth - 2, through: 0, by: -1) where size & (1 << level) != 0 {
            nodes.append(TreeNodeID(level: level, index: start >> level))
            start += 1 << level
        }
        return nodes
    }

    /// Appends a leaf; returns every subtree it completes (the leaf itself first), to be stored.
    public mutating func append(leafHash: TreeHash) -> [(TreeNodeID, TreeHash)] {
        var completed: [(TreeNodeID, TreeHash)] = [(TreeNodeID(level: 0, index: size), leafHash)]
        var level = 0, position = size, hash = leafHash
        while position & 1 == 1, let left = hashes[TreeNodeID(level: level, index: position - 1)] {
            hash = MerkleHashing.node(left, hash)
            level += 1
            position >>= 1
            completed.append((TreeNodeID(level: level, index: position), hash))
        }
        size += 1
        var next: [TreeNodeID: TreeHash] = [:]
        for node in Self.nodes(ofSize: size) { next[node] = hashes[node] ?? completed.first { $0.0 == node }?.1 }
        hashes = next
        return completed
    }

    /// The root hash (RFC 9162 `MTH`) of the tree.
    public var root: TreeHash {
        // The right-edge subtrees, smallest first, folded right to left: exactly §2.1.1's split at the largest power of two.
        let ordered = Self.nodes(ofSize: size).compactMap { hashes[$0] }
        guard var hash = ordered.last else { return MerkleHashing.emptyRoot }
        for left in ordered.dropLast().reversed() { hash = MerkleHashing.node(left, hash) }
        return hash
    }
}

/// Complete-subtree hashes held in a dictionary: a batch's, or those fetched for one proof.
public struct TreeHashes: TreeHashReader, Sendable {
    /// The hashes held.
    public var hashes: [TreeNodeID: TreeHash]

    /// Holds `hashes`.
    public init(_ hashes: [TreeNodeID: TreeHash] = [:]) {
        self.hashes = hashes
    }

    public func hash(level: Int, index: Int) throws -> TreeHash {
        guard let hash = hashes[TreeNodeID(level: level, index: index)] else { throw TreeError("no hash of subtree \(level)/\(index) is held") }
        return hash
    }
}

/// Which stored hashes a computation reads: runs it over placeholder hashes and notes each address (which
/// hashes a root or proof reads depends on the sizes and indexes only, never on the hashes). A store then
/// fetches exactly those in one query.
public final class TreeReadRecorder: TreeHashReader {
    /// The addresses read.
    public private(set) var read: Set<TreeNodeID> = []

    /// A recorder.
    public init() {}

    public func hash(level: Int, index: Int) throws -> TreeHash {
        read.insert(TreeNodeID(level: level, index: index))
        return MerkleHashing.emptyRoot
    }

    /// The subtrees the inclusion proof of `index` in a tree of `size` reads.
    public static func inclusion(index: Int, size: Int) -> Set<TreeNodeID> {
        let recorder = TreeReadRecorder()
        _ = try? MerkleTree(size: size, reader: recorder).inclusionProof(index: index)
        return recorder.read
    }

    /// The subtrees the consistency proof from `oldSize` to `size` reads.
    public static func consistency(from oldSize: Int, to size: Int) -> Set<TreeNodeID> {
        let recorder = TreeReadRecorder()
        _ = try? MerkleTree(size: size, reader: recorder).consistencyProof(from: oldSize)
        return recorder.read
    }

    /// The subtrees the root of a tree of `size` reads (its right edge).
    public static func root(size: Int) -> Set<TreeNodeID> {
        Set(TreeFrontier.nodes(ofSize: size))
    }
}
