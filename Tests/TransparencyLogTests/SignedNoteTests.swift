import Foundation
import Testing
@testable import TransparencyLog
import Trust

@Suite("checkpoints, signed notes, cosignatures and receipts (C2SP)")
struct SignedNoteTests {
    @Test("a published Ed25519 verifier key (the Go checksum database's) reads, and its key ID is recomputed from its name and key")
    func publishedVerifierKey() throws {
        let text = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
        let key = try #require(NoteVerifierKey(text: text))
        #expect(key.name == "sum.golang.org" && key.text == text)
        #expect(NoteVerifierKey(text: "sum.golang.org+033de0af+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8") == nil, "a wrong key ID")
        #expect(NoteVerifierKey(text: "sum golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8") == nil)
    }

    @Test("a signed checkpoint verifies with its log key only; a changed body, another key or another origin is refused")
    func checkpointSignature() throws {
        let signer = try #require(NoteSigner(name: "tongbao/440800-GATEWAY", key: try Ed25519PrivateKey.generate()))
        let checkpoint = Checkpoint(origin: "tongbao/440800-GATEWAY", size: 12, root: Array(repeating: 7, count: 32))
        let signed = try SignedCheckpoint(signing: checkpoint, with: signer)
        #expect(signed.text.hasPrefix("tongbao/440800-GATEWAY\n12\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n\n— tongbao/440800-GATEWAY "))
        #expect(try SignedCheckpoint(text: signed.text, logKey: signer.verifier).checkpoint == checkpoint)
        let changed = signed.text.replacingOccurrences(of: "\n12\n", with: "\n13\n")
        #expect(throws: LogError.self) { try SignedCheckpoint(text: changed, logKey: signer.verifier) }
        let other = try #require(NoteSigner(name: "tongbao/440800-GATEWAY", key: try Ed25519PrivateKey.generate()))
        #expect(throws: LogError.self) { try SignedCheckpoint(text: signed.text, logKey: other.verifier) }
        let elsewhere = try #require(NoteSigner(name: "tongbao/elsewhere", key: signer.key))
        #expect(throws: LogError.self) { try SignedCheckpoint(text: signed.text, logKey: elsewhere.verifier) }
        #expect(throws: LogError.self) { try SignedCheckpoint(text: "not a note", logKey: signer.verifier) }
        // The key survives PEM.
        let reread = try Ed25519PrivateKey(pem: try signer.key.pem())
        #expect(reread.publicKey == signer.key.publicKey)
    }

    @Test("with several keys: a checkpoint signed by both of a rotation's keys verifies with either; one of log A signed only by log B's key is refused even when both keys are given")
    func severalKeys() throws {
        let old = try #require(NoteSigner(name: "tongbao/440800-GATEWAY", key: try Ed25519PrivateKey.generate()))
        let new = try #require(NoteSigner(name: "tongbao/440800-GATEWAY", key: try Ed25519PrivateKey.generate()))
        let checkpoint = Checkpoint(origin: "tongbao/440800-GATEWAY", size: 3, root: Array(repeating: 1, count: 32))
        let both = try SignedCheckpoint(signing: checkpoint, with: new, overlapping: [old])
        #expect(both.note.signatures.count == 2)
        #expect(try SignedCheckpoint(text: both.text, logKey: old.verifier).checkpoint == checkpoint)
        #expect(try SignedCheckpoint(text: both.text, logKey: new.verifier).checkpoint == checkpoint)
        // Log A's checkpoint carrying only a signature by log B's key: B's key is in the list, but it is not A's.
        let other = try #require(NoteSigner(name: "tongbao/440900-GATEWAY", key: try Ed25519PrivateKey.generate()))
        let forged = SignedNote(body: checkpoint.body, signatures: try SignedCheckpoint(signing: Checkpoint(origin: other.verifier.name, size: 3,
            root: Array(repeating: 1, count: 32)), with: other).note.signatures).text
        let forgedBody = forged.replacingOccurrences(of: "tongbao/440900-GATEWAY\n3\n", with: "tongbao/440800-GATEWAY\n3\n")
        #expect(throws: LogError.self) { try SignedCheckpoint(text: forgedBody, logKeys: [new.verifier, other.verifier]) }
    }

    @Test("a witness's cosignature verifies with its key over the checkpoint, and a newer one replaces the older")
    func cosignatures() throws {
        let log = try #require(NoteSigner(name: "tongbao/440800-GATEWAY", key: try Ed25519PrivateKey.generate()))
        let witness = try #require(NoteSigner(name: "440800-HEALTH/witness", type: NoteVerifierKey.cosignatureV1, key: try Ed25519PrivateKey.generate()))
        let signed = try SignedCheckpoint(signing: Checkpoint(origin: log.verifier.name, size: 3, root: Array(repeating: 1, count: 32)), with: log)
        let first = signed.adding(try Cosignature.sign(signed.checkpoint, time: 1_700_000_000, with: witness))
        #expect(Cosignature.time(of: witness.verifier, on: first.note) == 1_700_000_000)
        #expect(try SignedCheckpoint(text: first.text, logKey: log.verifier).checkpoint == signed.checkpoint, "the log's signature still verifies")
        let second = first.adding(try Cosignature.sign(signed.checkpoint, time: 1_700_000_100, with: witness))
        #expect(second.note.signatures.count == 2 && Cosignature.time(of: witness.verifier, on: second.note) == 1_700_000_100)
        let impostor = try #require(NoteSigner(name: "440800-HEALTH/witness", type: NoteVerifierKey.cosignatureV1, key: try Ed25519PrivateKey.generate()))
        #expect(Cosignature.time(of: impostor.verifier, on: second.note) == nil)
    }

    @Test("a receipt verifies offline in JSON and XML; another leaf, a wrong proof or another key is refused, each with its code")
    func receipts() throws {
        let log = try #require(NoteSigner(name: "tongbao/440800-GATEWAY", key: try Ed25519PrivateKey.generate()))
        let leaves = (1...5).map { LogLeaf(position: $0, time: "2025-05-21T15:00:0\($0)+08:00", kind: .accepted, issuer: "440800-HEALTH",
                                           id: "ID-\($0)", type: "LicenceRevocation", sha256: String(repeating: "\($0)", count: 64)) }
        var frontier = TreeFrontier()
        var hashes = TreeHashes()
        for leaf in leaves { for (node, hash) in frontier.append(leafHash: leaf.hash) { hashes.hashes[node] = hash } }
        let signed = try SignedCheckpoint(signing: Checkpoint(origin: log.verifier.name, size: 5, root: frontier.root), with: log)
        let tree = MerkleTree(size: 5, reader: hashes)
        let receipt = LogReceipt(issuer: "440800-HEALTH", id: "ID-3", sha256: leaves[2].sha256, receivedAt: leaves[2].time, position: 3,
                                 leaf: leaves[2].bytes, inclusionProof: try tree.inclusionProof(index: 2), checkpoint: signed.text)
        for bytes in [receipt.json, receipt.xml] {
            let read = try LogReceipt(bytes: bytes)
            #expect(read == receipt)
            #expect(try read.verify(logKey: log.verifier).checkpoint.size == 5)
        }
        var otherLeaf = receipt
        otherLeaf.leaf = leaves[3].bytes
        #expect(throws: LogError(.leafMismatch, "")) { try otherLeaf.verify(logKey: log.verifier) }
        var wrongProof = receipt
        wrongProof.inclusionProof = try tree.inclusionProof(index: 3)
        #expect(throws: LogError(.proofInvalid, "")) { try wrongProof.verify(logKey: log.verifier) }
        let other = try #require(NoteSigner(name: log.verifier.name, key: try Ed25519PrivateKey.generate()))
        #expect(throws: LogError(.signatureInvalid, "")) { try receipt.verify(logKey: other.verifier) }
        #expect(throws: LogError.self) { try LogReceipt(json: Array(#"{"issuer":"x"}"#.utf8)) }
        #expect(throws: LogError.self) { try LogReceipt(xml: Array("<Receipt/>".utf8)) }
    }

    @Test("the frontier's root is RFC 9162's root for every size")
    func frontierRoot() throws {
        var frontier = TreeFrontier()
        var hashes = TreeHashes()
        for size in 1...40 {
            for (node, hash) in frontier.append(leafHash: MerkleHashing.leaf(Array("leaf \(size)".utf8))) { hashes.hashes[node] = hash }
            #expect(frontier.root == (try MerkleTree(size: size, reader: hashes).root()), "size \(size)")
            #expect(TreeFrontier(size: size, hashes: hashes.hashes) == frontier)
        }
    }
}
