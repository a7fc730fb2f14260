import Foundation
import Testing
import TongbaoTestSupport
@testable import TransparencyLog

/// Complete-subtree hashes in memory, filled by appending leaves as a store does.
final class MemoryTreeHashes: TreeHashReader {
    private(set) var hashes: [Int: [TreeHash]] = [:]
    private(set) var size = 0

    func hash(level: Int, index: Int) throws -> TreeHash {
        guard let found = hashes[level], index < found.count else { throw TreeError("no hash at level \(level) index \(index)") }
        return found[index]
    }

    /// Appends a leaf: at most log₂ n new hashes.
    @discardableResult
    func append(_ leaf: [UInt8]) throws -> Int {
        let completed = try MerkleAppend.completedHashes(appending: MerkleHashing.leaf(leaf), at: size, reader: self)
        for (level, index, hash) in completed {
            precondition(index == hashes[level, default: []].count)
            hashes[level, default: []].append(hash)
        }
        size += 1
        return completed.count
    }
}

@Suite("the Merkle tree (RFC 9162 §2.1)")
struct MerkleTreeTests {
    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    @Test("roots, inclusion and consistency proofs agree with an independent Python implementation of RFC 9162, which verifies them")
    func agreesWithRFC9162() throws {
        var generator = SeededGenerator(seed: 9162)
        var cases: [String] = []
        let store = MemoryTreeHashes()
        var leaves: [[UInt8]] = []
        for size in 1...70 {
            let leaf = (0..<Int.random(in: 0...40, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            leaves.append(leaf)
            let added = try store.append(leaf)
            #expect(added <= 1 + Int(log2(Double(size))), "appending costs O(log n) hashes")
            let tree = MerkleTree(size: size, reader: store)
            let inclusion = try (0..<size).map { try tree.inclusionProof(index: $0).map(Self.hex) }
            let consistency = try (1...size).map { try tree.consistencyProof(from: $0).map(Self.hex) }
            for (index, proof) in inclusion.enumerated() {
                #expect(MerkleProof.verifyInclusion(leafHash: MerkleHashing.leaf(leaves[index]), index: index, size: size,
                                                    proof: try tree.inclusionProof(index: index), root: try tree.root()), "\(proof)")
            }
            func quoted(_ items: [String]) -> String { "[" + items.map { "\"\($0)\"" }.joined(separator: ",") + "]" }
            cases.append(#"{"leaves":\#(quoted(leaves.map(Self.hex))),"root":"\#(Self.hex(try tree.root()))","inclusion":[\#(inclusion.map(quoted).joined(separator: ","))],"consistency":[\#(consistency.map(quoted).joined(separator: ","))]}"#)
        }
        let file = try ExternalCommand.scratchFolder("tongbao-merkle").appendingPathComponent("cases.json")
        try Data(("[" + cases.joined(separator: ",") + "]").utf8).write(to: file)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("rfc9162.py").path
        let result = try ExternalCommand.run("python3", [script, file.path])
        #expect(result.status == 0 && result.output.hasPrefix("ok "), "\(result.output)")
    }

    @Test("RFC 9162's verification refuses a proof for another leaf, size or root, and an old tree that was rewritten")
    func refusesWhatDoesNotHold() throws {
        let store = MemoryTreeHashes()
        for index in 0..<13 { try store.append(Array("leaf \(index)".utf8)) }
        let tree = MerkleTree(size: 13, reader: store)
        let root = try tree.root()
        let proof = try tree.inclusionProof(index: 5)
        #expect(MerkleProof.verifyInclusion(leafHash: MerkleHashing.leaf(Array("leaf 5".utf8)), index: 5, size: 13, proof: proof, root: root))
        #expect(!MerkleProof.verifyInclusion(leafHash: MerkleHashing.leaf(Array("leaf 6".utf8)), index: 5, size: 13, proof: proof, root: root))
        #expect(!MerkleProof.verifyInclusion(leafHash: MerkleHashing.leaf(Array("leaf 5".utf8)), index: 4, size: 13, proof: proof, root: root))
        // (The size is bound to the root by the signed checkpoint: the proof of a 13-leaf tree does not verify against a 14-leaf root.)
        try store.append(Array("leaf 13".utf8))
        #expect(!MerkleProof.verifyInclusion(leafHash: MerkleHashing.leaf(Array("leaf 5".utf8)), index: 5, size: 14, proof: proof,
                                             root: try MerkleTree(size: 14, reader: store).root()))
        #expect(!MerkleProof.verifyInclusion(leafHash: MerkleHashing.leaf(Array("leaf 5".utf8)), index: 5, size: 13, proof: proof, root: MerkleHashing.emptyRoot))
        #expect(throws: TreeError.self) { try tree.inclusionProof(index: 13) }

        let old = try MerkleTree(size: 7, reader: store).root()
        let consistency = try tree.consistencyProof(from: 7)
        #expect(MerkleProof.verifyConsistency(oldSize: 7, newSize: 13, oldRoot: old, newRoot: root, proof: consistency))
        // A log whose first 7 leaves were rewritten is not an extension of the old one.
        let rewritten = MemoryTreeHashes()
        for index in 0..<13 { try rewritten.append(Array((index == 3 ? "changed" : "leaf \(index)").utf8)) }
        let other = MerkleTree(size: 13, reader: rewritten)
        #expect(!MerkleProof.verifyConsistency(oldSize: 7, newSize: 13, oldRoot: old, newRoot: try other.root(), proof: try other.consistencyProof(from: 7)))
        #expect(!MerkleProof.verifyConsistency(oldSize: 7, newSize: 13, oldRoot: old, newRoot: root, proof: []))
        #expect(try MerkleTree(size: 0, reader: store).root() == MerkleHashing.emptyRoot)
    }
}

@Suite("the log's canonical leaf")
struct LogLeafTests {
    @Test("a leaf's bytes are the documented eight lines, read back exactly; anything else is refused")
    func canonicalForm() throws {
        let leaf = LogLeaf(position: 2, time: "2025-05-21T15:00:01+08:00", kind: .accepted, issuer: "440800-HEALTH",
                           id: "440800-HEALTH-2025-0012", type: "LicenceRevocation", sha256: String(repeating: "ab", count: 32))
        let text = String(decoding: leaf.bytes, as: UTF8.self)
        #expect(text == """
            tongbao-leaf 1
            position 2
            time 2025-05-21T15:00:01+08:00
            kind accepted
            issuer 440800-HEALTH
            id 440800-HEALTH-2025-0012
            type LicenceRevocation
            sha256 \(String(repeating: "ab", count: 32))

            """)
        #expect(LogLeaf(bytes: leaf.bytes) == leaf)
        #expect(leaf.hash == MerkleHashing.leaf(leaf.bytes))
        for broken in [text.replacingOccurrences(of: "position 2", with: "position 02"), text.replacingOccurrences(of: "kind accepted", with: "kind other"),
                       text.replacingOccurrences(of: "\n", with: "\r\n"), String(text.dropLast()), text + "extra 1\n",
                       text.replacingOccurrences(of: "issuer 440800-HEALTH", with: "issuer 440800 HEALTH")] {
            #expect(LogLeaf(bytes: Array(broken.utf8)) == nil, "\(broken)")
        }
        let unknown = LogLeaf(position: 9, time: "2025-05-21T15:00:01+08:00", kind: .rejected, issuer: "", id: "", type: "", sha256: String(repeating: "0", count: 64))
        #expect(String(decoding: unknown.bytes, as: UTF8.self).contains("issuer -\nid -\ntype -\n"))
        #expect(LogLeaf(bytes: unknown.bytes) == unknown)
    }
}
