import Foundation
import Trust

/// Why a checkpoint, receipt or proof does not verify: a stable code and the problem in words.
///
/// Codes: `malformed` (not a checkpoint, receipt or proof), `signature-invalid` (no valid signature of the
/// expected key), `proof-invalid` (an inclusion or consistency proof that does not verify), `leaf-mismatch`
/// (the leaf does not say what the receipt says), `inconsistent` (two views of the log that cannot both be
/// true: a rewrite or a split view).
public struct LogError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable code (a struct over a private enum, so that codes can be added without breaking a `switch`).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String {
            case malformed
            case signatureInvalid = "signature-invalid"
            case proofInvalid = "proof-invalid"
            case leafMismatch = "leaf-mismatch"
            case inconsistent
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// Not a checkpoint, receipt or proof.
        public static let malformed = Code(.malformed)
        /// No valid signature by the expected key.
        public static let signatureInvalid = Code(.signatureInvalid)
        /// A proof that does not verify against its checkpoint.
        public static let proofInvalid = Code(.proofInvalid)
        /// The leaf does not name what the receipt states.
        public static let leafMismatch = Code(.leafMismatch)
        /// Two views of the log that cannot both be true.
        public static let inconsistent = Code(.inconsistent)

        /// The code as written in messages.
        public var description: String { base.rawValue }
    }

    /// A stable code.
    public let code: Code
    /// What is wrong.
    public let message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(message) [\(code)]" }

    /// Errors are equal when their codes are: the message is for people.
    public static func == (lhs: LogError, rhs: LogError) -> Bool { lhs.code == rhs.code }
}

/// A C2SP `tlog-checkpoint`: the log's origin, its size and its root hash, the body of a signed note.
public struct Checkpoint: Sendable, Equatable {
    /// The log's name (a schema-less URL by convention), the first line.
    public var origin: String
    /// The number of leaves.
    public var size: Int
    /// The root hash of the tree of `size` leaves.
    public var root: TreeHash

    /// Creates a checkpoint.
    public init(origin: String, size: Int, root: TreeHash) {
        self.origin = origin
        self.size = size
        self.root = root
    }

    /// The note body: three lines.
    public var body: String { "\(origin)\n\(size)\n\(Data(root).base64EncodedString())\n" }

    /// Reads a note body; extension lines after the third are allowed and ignored, as C2SP says.
    public init(body: String) throws(LogError) {
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false)
        guard body.hasSuffix("\n"), lines.count >= 4, !lines[0].isEmpty, let size = Int(lines[1]), size >= 0, String(size) == lines[1],
              let root = Data(base64Encoded: String(lines[2])), root.count == 32 else {
            throw LogError(.malformed, "not a checkpoint (origin, size and base64 root hash, each on a line)")
        }
        self.init(origin: String(lines[0]), size: size, root: Array(root))
    }
}

/// A checkpoint as a signed note, with its log signature and any cosignatures.
public struct SignedCheckpoint: Sendable, Equatable {
    /// What it states.
    public let checkpoint: Checkpoint
    /// The note (body and every signature line).
    public private(set) var note: SignedNote

    /// The note text, as served and as receipts carry it.
    public var text: String { note.text }

    /// Signs `checkpoint` with the log's key, and with each of `overlapping` (the previous log key while a
    /// rotation's overlap lasts: verifiers holding either key accept the checkpoint).
    public init(signing checkpoint: Checkpoint, with signer: NoteSigner, overlapping: [NoteSigner] = []) throws(TrustError) {
        self.checkpoint = checkpoint
        let body = checkpoint.body
        var signatures = [try signer.signature(of: Array(body.utf8))]
        for other in overlapping { signatures.append(try other.signature(of: Array(body.utf8))) }
        note = SignedNote(body: body, signatures: signatures)
    }

    /// Reads a signed checkpoint and checks the log's signature and origin.
    public init(text: String, logKey: NoteVerifierKey) throws(LogError) {
        try self.init(text: text, logKeys: [logKey])
    }

    /// Reads a signed checkpoint and checks that one of `logKeys` (the log's key and those it rotated from)
    /// signed it, under the log's origin.
    public init(text: String, logKeys: [NoteVerifierKey]) throws(LogError) {
        guard let note = SignedNote(text: text) else { throw LogError(.malformed, "not a signed note") }
        let checkpoint = try Checkpoint(body: note.body)
        guard let first = logKeys.first else { throw LogError(.signatureInvalid, "no log key to check the checkpoint with") }
        let ofThisLog = logKeys.filter { $0.name == checkpoint.origin }
        guard !ofThisLog.isEmpty else {
            throw LogError(.signatureInvalid, "the checkpoint is of log \(checkpoint.origin), not \(first.name)")
        }
        // The signature must be by a key of the checkpoint's own origin: a key of another log in the list
        // vouches for nothing here.
        guard ofThisLog.contains(where: { note.isSigned(by: $0) }) else {
            throw LogError(.signatureInvalid, "the checkpoint carries no valid signature of \(first.name) by \(logKeys.count == 1 ? "its key" : "any of its \(logKeys.count) keys")")
        }
        self.checkpoint = checkpoint
        self.note = note
    }

    /// The checkpoint with one more cosignature line (one per cosigner name: a newer one replaces an older).
    public func adding(_ cosignature: SignedNote.Signature) -> SignedCheckpoint {
        var copy = self
        let logSignature = note.signatures.first
        copy.note.signatures.removeAll { $0.name == cosignature.name && $0 != logSignature }
        copy.note.signatures.append(cosignature)
        return copy
    }
}

/// C2SP `tlog-cosignature/v1`: a witness's timestamped Ed25519 statement that the checkpoint is the largest
/// consistent one it has seen of the log.
public enum Cosignature {
    /// The message a cosigner signs: `cosignature/v1`, `time T`, then the checkpoint's note body.
    public static func message(body: String, time: UInt64) -> [UInt8] {
        Array("cosignature/v1\ntime \(time)\n\(body)".utf8)
    }

    /// The cosignature line of `checkpoint` at `time` (seconds since the epoch) by `signer` (a cosignature key).
    public static func sign(_ checkpoint: Checkpoint, time: UInt64, with signer: NoteSigner) throws(TrustError) -> SignedNote.Signature {
        var timestamp: [UInt8] = []
        withUnsafeBytes(of: time.bigEndian) { timestamp += $0 }
        return try signer.signature(of: message(body: checkpoint.body, time: time), prefix: timestamp)
    }

    /// The time of `key`'s valid cosignature on `note`, or nil when it carries none.
    public static func time(of key: NoteVerifierKey, on note: SignedNote) -> UInt64? {
        for line in note.signatures where line.name == key.name && Array(line.keyIDAndSignature.prefix(4)) == key.keyID {
            let rest = Array(line.keyIDAndSignature.dropFirst(4))
            guard rest.count == 72 else { continue }
            let time = rest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard time <= UInt64(Int64.max) else { continue }
            if key.key.verify(Array(rest.dropFirst(8)), of: message(body: note.body, time: time)) { return time }
        }
        return nil
    }
}
