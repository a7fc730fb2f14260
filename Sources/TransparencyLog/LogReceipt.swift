import Foundation
import StrictJSON
import XMLSupport

/// The gateway's receipt for an accepted bulletin (gateway.md §4a): what was received, where it is in the
/// log, its leaf, and the proof that the leaf is in the tree of a signed checkpoint. It carries no
/// signature of its own: the checkpoint's is enough, and anyone holding the log's verifier key can check a
/// receipt offline (``verify(logKey:)``).
///
/// JSON receipts are one object with the members below; XML receipts are a `Receipt` element in
/// ``xmlNamespace`` with one child element per member (`inclusionProof` holding one `hash` per hash).
public struct LogReceipt: Sendable, Equatable {
    /// The bulletin's issuer.
    public var issuer: String
    /// The bulletin's id.
    public var id: String
    /// SHA-256 of the exact bytes received, lowercase hex.
    public var sha256: String
    /// Always `accepted`: a refusal is answered with a problem document.
    public var outcome: String
    /// When the gateway received it (RFC 3339).
    public var receivedAt: String
    /// Its log position (leaf index + 1).
    public var position: Int
    /// The leaf bytes (``LogLeaf``).
    public var leaf: [UInt8]
    /// The audit path of the leaf in the checkpoint's tree (RFC 9162 §2.1.3).
    public var inclusionProof: [TreeHash]
    /// The signed checkpoint (note text).
    public var checkpoint: String

    /// The XML namespace of XML receipts.
    public static let xmlNamespace = "urn:tongbao:receipt:1"

    /// Creates a receipt.
    public init(issuer: String, id: String, sha256: String, outcome: String = "accepted", receivedAt: String, position: Int,
                leaf: [UInt8], inclusionProof: [TreeHash], checkpoint: String) {
        self.issuer = issuer
        self.id = id
        self.sha256 = sha256
        self.outcome = outcome
        self.receivedAt = receivedAt
        self.position = position
        self.leaf = leaf
        self.inclusionProof = inclusionProof
        self.checkpoint = checkpoint
    }

    // MARK: Verifying

    /// Checks the receipt with nothing but the log's key: the checkpoint's signature, the leaf's inclusion
    /// in the checkpoint's tree, and that the leaf names this receipt's position, issuer, id and digest.
    /// Returns the verified checkpoint.
    @discardableResult
    public func verify(logKey: NoteVerifierKey) throws(LogError) -> SignedCheckpoint {
        try verify(logKeys: [logKey])
    }

    /// ``verify(logKey:)`` with any of `logKeys` (the log's key and those it rotated from: a receipt of
    /// before a rotation carries a checkpoint only the previous key signed).
    @discardableResult
    public func verify(logKeys: [NoteVerifierKey]) throws(LogError) -> SignedCheckpoint {
        let signed = try SignedCheckpoint(text: checkpoint, logKeys: logKeys)
        guard let leaf = LogLeaf(bytes: leaf) else { throw LogError(.malformed, "the receipt's leaf is not a canonical log leaf") }
        guard leaf.position == position, leaf.issuer == issuer, leaf.id == id, leaf.sha256 == sha256, leaf.kind == .accepted else {
            throw LogError(.leafMismatch, "the leaf names \(leaf.kind.rawValue) \(leaf.issuer)/\(leaf.id) sha256 \(leaf.sha256) at position \(leaf.position), the receipt \(issuer)/\(id) sha256 \(sha256) at position \(position)")
        }
        guard MerkleProof.verifyInclusion(leafHash: leaf.hash, index: position - 1, size: signed.checkpoint.size, proof: inclusionProof,
                                          root: signed.checkpoint.root) else {
            throw LogError(.proofInvalid, "the inclusion proof of position \(position) does not lead to the root of the checkpoint of size \(signed.checkpoint.size)")
        }
        return signed
    }

    // MARK: JSON

    /// The JSON form, members in the documented order.
    public var json: [UInt8] {
        Array(JSONText.object([
            ("issuer", JSONText.quoted(issuer)), ("id", JSONText.quoted(id)), ("sha256", JSONText.quoted(sha256)),
            ("outcome", JSONText.quoted(outcome)), ("receivedAt", JSONText.quoted(receivedAt)), ("position", String(position)),
            ("leaf", JSONText.quoted(Data(leaf).base64EncodedString())),
            ("inclusionProof", JSONText.array(inclusionProof.map { Data($0).base64EncodedString() })),
            ("checkpoint", JSONText.quoted(checkpoint)),
        ]).utf8)
    }

    static let members: Set<String> = ["issuer", "id", "sha256", "outcome", "receivedAt", "position", "leaf", "inclusionProof", "checkpoint"]

    /// Reads a JSON receipt (every member required, no others).
    public init(json bytes: [UInt8]) throws(LogError) {
        do {
            let object = try JSONObject(try JSONParser(limits: JSONLimits(maxDepth: 4, maxStringBytes: SignedNote.maximumSize, maxContainerCount: 128)).parse(bytes),
                                        pointer: "", allowedKeys: Self.members)
            guard case .array(let hashes)? = object.node("inclusionProof")?.value else {
                throw LogError(.malformed, "/inclusionProof: expected an array of base64 hashes")
            }
            try self.init(issuer: object.string("issuer", maxLength: 64), id: object.string("id", maxLength: 64),
                          sha256: object.string("sha256", maxLength: 64), outcome: object.string("outcome", maxLength: 16),
                          receivedAt: object.string("receivedAt", maxLength: 64), position: object.int("position", in: 1...Int.max),
                          leaf: Self.base64(object.string("leaf"), "/leaf"),
                          inclusionProof: hashes.enumerated().map { index, node throws(LogError) in
                              guard case .string(let text) = node.value else { throw LogError(.malformed, "/inclusionProof/\(index): expected a string") }
                              return try Self.hash(text, "/inclusionProof/\(index)")
                          },
                          checkpoint: object.string("checkpoint", maxLength: SignedNote.maximumSize))
        } catch let error as LogError {
            throw error
        } catch {
            throw LogError(.malformed, "not a receipt: \(error)")
        }
    }

    // MARK: XML

    /// The XML form.
    public var xml: [UInt8] {
        func element(_ name: String, _ value: String) -> String { "<\(name)>\(Self.escaped(value))</\(name)>" }
        let proof = inclusionProof.map { element("hash", Data($0).base64EncodedString()) }.joined()
        return Array(("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Receipt xmlns=\"\(Self.xmlNamespace)\">"
            + element("issuer", issuer) + element("id", id) + element("sha256", sha256) + element("outcome", outcome)
            + element("receivedAt", receivedAt) + element("position", String(position))
            + element("leaf", Data(leaf).base64EncodedString()) + "<inclusionProof>\(proof)</inclusionProof>"
            + element("checkpoint", checkpoint) + "</Receipt>\n").utf8)
    }

    /// Reads an XML receipt.
    public init(xml bytes: [UInt8]) throws(LogError) {
        let document: XMLDocument
        do {
            document = try XMLDocument(parsing: bytes)
        } catch {
            throw LogError(.malformed, "not a receipt: \(error)")
        }
        let root = document.root
        guard root.name == "Receipt", root.namespace == Self.xmlNamespace else {
            throw LogError(.malformed, "not a receipt: the root is not {\(Self.xmlNamespace)}Receipt")
        }
        var values: [String: XMLElement] = [:]
        for child in root.children {
            guard Self.members.contains(child.name), child.namespace == Self.xmlNamespace, values[child.name] == nil else {
                throw LogError(.malformed, "\(child.path): not a receipt member, or a second one")
            }
            values[child.name] = child
        }
        func text(_ name: String) throws(LogError) -> String {
            guard let element = values[name] else { throw LogError(.malformed, "the receipt has no \(name)") }
            return element.text
        }
        guard let position = Int(try text("position")), position >= 1 else { throw LogError(.malformed, "position: expected a positive integer") }
        let hashes = values["inclusionProof"]?.children ?? []
        try self.init(issuer: text("issuer"), id: text("id"), sha256: text("sha256"), outcome: text("outcome"), receivedAt: text("receivedAt"),
                      position: position, leaf: Self.base64(text("leaf"), "leaf"),
                      inclusionProof: hashes.enumerated().map { index, element throws(LogError) in
                          guard element.name == "hash" else { throw LogError(.malformed, "inclusionProof/\(element.name): expected hash") }
                          return try Self.hash(element.text, "inclusionProof/hash[\(index + 1)]")
                      },
                      checkpoint: text("checkpoint"))
        guard values["inclusionProof"] != nil else { throw LogError(.malformed, "the receipt has no inclusionProof") }
    }

    /// Reads a receipt in either form (XML when it starts with `<`, after any white space).
    public init(bytes: [UInt8]) throws(LogError) {
        if bytes.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) == UInt8(ascii: "<") {
            try self.init(xml: bytes)
        } else {
            try self.init(json: bytes)
        }
    }

    private static func base64(_ text: String, _ field: String) throws(LogError) -> [UInt8] {
        guard let bytes = Data(base64Encoded: text) else { throw LogError(.malformed, "\(field): not base64") }
        return Array(bytes)
    }

    private static func hash(_ text: String, _ field: String) throws(LogError) -> TreeHash {
        let bytes = try base64(text, field)
        guard bytes.count == 32 else { throw LogError(.malformed, "\(field): a hash is 32 bytes, this one \(bytes.count)") }
        return bytes
    }

    private static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
