import Crypto

/// A SHA-256 hash of the log's Merkle tree (RFC 9162 §2.1): 32 bytes.
public typealias TreeHash = [UInt8]

/// RFC 9162 §2.1.1 hashing: a leaf is `SHA-256(0x00 ‖ leaf)`, an interior node `SHA-256(0x01 ‖ left ‖ right)`,
/// the empty tree `SHA-256()`. The prefixes keep a leaf from ever passing for a node (second preimages).
public enum MerkleHashing {
    /// The hash of the empty tree.
    public static let emptyRoot: TreeHash = Array(SHA256.hash(data: [UInt8]()))

    /// The hash of a leaf's bytes.
    public static func leaf(_ bytes: some Sequence<UInt8>) -> TreeHash {
        var hasher = SHA256()
        hasher.update(data: [0x00])
        hasher.update(data: Array(bytes))
        return Array(hasher.finalize())
    }

    /// The hash of an interior node.
    public static func node(_ left: TreeHash, _ right: TreeHash) -> TreeHash {
        var hasher = SHA256()
        hasher.update(data: [0x01])
        hasher.update(data: left)
        hasher.update(data: right)
        return Array(hasher.finalize())
    }
}

/// Where a tree's hashes are kept: the hash of every *complete* subtree, addressed by its level (0 for
/// leaves) and its index at that level. A complete subtree never changes once its last leaf is appended, so
/// a store only ever adds hashes; appending a leaf adds at most log₂ n of them, and every root and proof
/// reads at most 2·log₂ n.
public protocol TreeHashReader {
    /// The hash of the complete subtree of `2^level` leaves starting at leaf `index · 2^level`.
    func hash(level: Int, index: Int) throws -> TreeHash
}

/// A Merkle tree of `size` leaves over the complete-subtree hashes of a ``TreeHashReader``: its root and
/// the RFC 9162 proofs, each computed from O(log n) stored hashes.
public struct MerkleTree<Reader: TreeHashReader> {
    /// The number of leaves.
    public let size: Int
    let reader: Reader
    /// The hashes of the incomplete subtrees computed so far: the right edge's, which every proof in the same
    /// tree shares, computed once.
    private let partials = PartialHashes()

    /// The tree of the first `size` leaves of `reader`'s hashes.
    public init(size: Int, reader: Reader) {
        self.size = max(0, size)
        self.reader = reader
    }

    /// The tree head (RFC 9162 §2.1.1 `MTH`).
    public func root() throws -> TreeHash {
        size == 0 ? MerkleHashing.emptyRoot : try subtreeHash(0, size)
    }

    /// The hash of leaves `[start, start + count)`, where `start` is a multiple of the largest power of two
    /// not above... any range the recursion of §2.1.1 visits: split at the largest power of two below `count`.
    func subtreeHash(_ start: Int, _ count: Int) throws -> TreeHash {
        if count.nonzeroBitCount == 1, start % count == 0 {
            return try reader.hash(level: count.trailingZeroBitCount, index: start / count)
        }
        let key = PartialHashes.Key(start: start, count: count)
        if let known = partials.hashes[key] { return known }
        let split = Self.largestPowerOfTwo(below: count)
        let hash = MerkleHashing.node(try subtreeHash(start, split), try subtreeHash(start + split, count - split))
        partials.hashes[key] = hash
        return hash
    }

    /// The audit path of leaf `index` (RFC 9162 §2.1.3.1 `PATH`), from the leaf's sibling up.
    public func inclusionProof(index: Int) throws(TreeError) -> [TreeHash] {
        guard index >= 0, index < size else { throw TreeError("leaf \(index) is not in a tree of \(size)") }
        do {
            return try path(index, 0, size)
        } catch let error as TreeError {
            throw error
        } catch {
            throw TreeError("a hash of the tree cannot be read: \(error)")
        }
    }

    private func path(_ index: Int, _ start: Int, _ count: Int) throws -> [TreeHash] {
        guard count > 1 else { return [] }
        let split = Self.largestPowerOfTwo(below: count)
        if index - start < split {
            return try path(index, start, split) + [subtreeHash(start + split, count - split)]
        }
        return try path(index, start + split, count - split) + [subtreeHash(start, split)]
    }

    /// The proof that this tree extends its first `oldSize` leaves (RFC 9162 §2.1.4.1 `PROOF`).
    public func consistencyProof(from oldSize: Int) throws(TreeError) -> [TreeHash] {
        guard oldSize >= 0, oldSize <= size else { throw TreeError("a tree of \(size) does not extend one of \(oldSize)") }
        guard oldSize > 0, oldSize < size else { return [] }
        do {
            return try subproof(oldSize, 0, size, true)
        } catch {
            throw TreeError("a hash of the tree cannot be read: \(error)")
        }
    }

    private func subproof(_ m: Int, _ start: Int, _ count: Int, _ complete: Bool) throws -> [TreeHash] {
        if m == count { return complete ? [] : [try subtreeHash(start, count)] }
        let split = Self.largestPowerOfTwo(below: count)
        if m <= split {
            return try subproof(m, start, split, complete) + [subtreeHash(start + split, count - split)]
        }
        return try subproof(m - split, start + split, count - split, false) + [subtreeHash(start, split)]
    }

    /// The largest power of two strictly below `count` (count ≥ 2).
    static func largestPowerOfTwo(below count: Int) -> Int {
        1 << (Int.bitWidth - 1 - (count - 1).leadingZeroBitCount)
    }
}

/// The incomplete subtrees' hashes one ``MerkleTree`` computed (used by one task at a time, as the tree is).
final class PartialHashes {
    struct Key: Hashable {
        let start: Int
        let count: Int
    }

    var hashes: [Key: TreeHash] = [:]
}

/// A tree that cannot answer: a leaf or size outside it, a proof that does not verify, a hash not stored.
public struct TreeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong.
    public let message: String

    init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// Verifying RFC 9162 proofs with nothing but the hashes (§2.1.3.2, §2.1.4.2): what a participant holding
/// a receipt, a witness or an auditor runs, trusting nothing of the gateway.
public enum MerkleProof {
    /// Whether `proof` shows that `leafHash` is leaf `index` of the tree of `size` leaves with `root`.
    public static func verifyInclusion(leafHash: TreeHash, index: Int, size: Int, proof: [TreeHash], root: TreeHash) -> Bool {
        guard index >= 0, index < size else { return false }
        var fn = index, sn = size - 1
        var r = leafHash
        for p in proof {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                r = MerkleHashing.node(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0, fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = MerkleHashing.node(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && r == root
    }

    /// Whether `proof` shows that the tree of `newSize` leaves with `newRoot` extends the one of `oldSize`
    /// leaves with `oldRoot` (append-only: nothing before `oldSize` changed).
    public static func verifyConsistency(oldSize: Int, newSize: Int, oldRoot: TreeHash, newRoot: TreeHash, proof: [TreeHash]) -> Bool {
        guard oldSize >= 0, oldSize <= newSize else { return false }
        if oldSize == newSize { return proof.isEmpty && oldRoot == newRoot }
        if oldSize == 0 { return proof.isEmpty }
        var path = proof
        if oldSize.nonzeroBitCount == 1 { path.insert(oldRoot, at: 0) }   // the old tree is a complete subtree
        guard let first = path.first else { return false }
        var fn = oldSize - 1, sn = newSize - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = first, sr = first
        for c in path.dropFirst() {
            guard sn != 0 else { return false }
            if fn & 1 == 1 || fn == sn {
                fr = MerkleHashing.node(c, fr)
                sr = MerkleHashing.node(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0, fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                sr = MerkleHashing.node(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        return fr == oldRoot && sr == newRoot && sn == 0
    }
}

/// Appending to a tree kept as complete-subtree hashes: the hashes that one more leaf completes.
public enum MerkleAppend {
    /// The `(level, index, hash)` triples that become complete when leaf `index` (hash `leafHash`) is
    /// appended to a tree of `index` leaves: the leaf itself, then each subtree it closes, up the levels.
    /// `reader` gives the complete subtrees already stored (the left siblings).
    public static func completedHashes(appending leafHash: TreeHash, at index: Int, reader: some TreeHashReader) throws -> [(level: Int, index: Int, hash: TreeHash)] {
        var result: [(level: Int, index: Int, hash: TreeHash)] = [(0, index, leafHash)]
        var level = 0, position = index, hash = leafHash
        while position & 1 == 1 {
            let left = try reader.hash(level: level, index: position - 1)
            hash = MerkleHashing.node(left, hash)
            level += 1
            position >>= 1
            result.append((level, position, hash))
        }
        return result
    }
}
