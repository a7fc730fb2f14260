/// The canonical byte form of one log entry: what the Merkle tree hashes as its leaf, and what a receipt
/// carries so that anyone can recompute its leaf hash. Eight lines of `name value`, each ended by a line
/// feed, in this order:
///
/// ```
/// tongbao-leaf 1
/// position 2
/// time 2025-05-21T15:00:01+08:00
/// kind accepted
/// issuer 440800-HEALTH
/// id 440800-HEALTH-2025-0012
/// type LicenceRevocation
/// sha256 214e…a385
/// ```
///
/// Every value is drawn from an alphabet without spaces or line feeds (codes, ids, RFC 3339 times, type
/// names, lowercase hex), so the form is unambiguous; ``init(bytes:)`` accepts only what ``bytes`` writes.
/// The leaf index in the tree is `position − 1`.
public struct LogLeaf: Sendable, Equatable {
    /// What the entry records.
    public enum Kind: String, Sendable, CaseIterable {
        /// A bulletin received and accepted.
        case accepted
        /// A bulletin the gateway issued.
        case issued
        /// A change of trust (participants, roots, CRLs).
        case trust
        /// A change of configuration (rule packs, calendar, routing).
        case configuration
        /// A refused bulletin in a log written before refusals went to the refusal record.
        case rejected
    }

    /// The log position (1 for the first entry).
    public var position: Int
    /// When the entry was recorded (RFC 3339).
    public var time: String
    /// What the entry records.
    public var kind: Kind
    /// The bulletin's issuer (or the participant making a trust or configuration change).
    public var issuer: String
    /// The bulletin's id (or the change's).
    public var id: String
    /// The bulletin type (or what changed).
    public var type: String
    /// SHA-256 of the exact bytes received or issued, lowercase hex.
    public var sha256: String

    /// Creates a leaf.
    public init(position: Int, time: String, kind: Kind, issuer: String, id: String, type: String, sha256: String) {
        self.position = position
        self.time = time
        self.kind = kind
        self.issuer = issuer
        self.id = id
        self.type = type
        self.sha256 = sha256
    }

    static let version = "tongbao-leaf 1"

    /// The canonical bytes. An empty value (a refusal of an old log whose issuer could not be read) is
    /// written as `-`.
    public var bytes: [UInt8] {
        func value(_ text: String) -> String { text.isEmpty ? "-" : text }
        let lines = [Self.version, "position \(position)", "time \(value(time))", "kind \(kind.rawValue)", "issuer \(value(issuer))",
                     "id \(value(id))", "type \(value(type))", "sha256 \(value(sha256))"]
        return Array(lines.map { $0 + "\n" }.joined().utf8)
    }

    /// The hash the tree keeps for this leaf.
    public var hash: TreeHash { MerkleHashing.leaf(bytes) }

    /// Reads canonical bytes back; nil for anything ``bytes`` would not have written.
    public init?(bytes: [UInt8]) {
        guard bytes.count <= 4096, bytes.last == 0x0A, let text = String(validating: bytes, as: UTF8.self) else { return nil }
        let lines = text.dropLast().split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count == 8, lines[0] == Self.version else { return nil }
        var values: [String] = []
        for (line, name) in zip(lines.dropFirst(), ["position", "time", "kind", "issuer", "id", "type", "sha256"]) {
            guard line.hasPrefix(name + " ") else { return nil }
            let value = line.dropFirst(name.count + 1)
            guard !value.isEmpty, !value.contains(" ") else { return nil }
            values.append(value == "-" ? "" : String(value))
        }
        guard let position = Int(values[0]), position >= 1, String(position) == values[0], let kind = Kind(rawValue: values[2]) else { return nil }
        self.init(position: position, time: values[1], kind: kind, issuer: values[3], id: values[4], type: values[5], sha256: values[6])
        guard self.bytes == bytes else { return nil }
    }
}
