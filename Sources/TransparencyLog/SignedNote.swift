import Crypto
import Foundation
import Trust

/// A C2SP `signed-note` verifier key for Ed25519 (`c2sp.org/signed-note`): a name, the 4-byte key ID that
/// signature lines carry, and the public key. Its text form (`vkey`) is `NAME+KEYID+BASE64(type ‖ key)`,
/// the form witnesses and note verifiers are configured with.
public struct NoteVerifierKey: Sendable, Equatable {
    /// What the key signs as, and what a signature line names.
    public let name: String
    /// The signature type byte the key ID commits to: 0x01 for a note signature (the log's checkpoints),
    /// 0x04 for a `tlog-cosignature/v1` (a witness's).
    public let type: UInt8
    /// The Ed25519 public key.
    public let key: Ed25519PublicKey

    /// Ed25519 note signatures (`signed-note` §Ed25519).
    public static let ed25519: UInt8 = 0x01
    /// Timestamped Ed25519 cosignatures (`tlog-cosignature`).
    public static let cosignatureV1: UInt8 = 0x04

    /// A verifier key; nil when the name is not a valid key name (empty, or holding a space, `+` or a line feed).
    public init?(name: String, type: UInt8 = NoteVerifierKey.ed25519, key: Ed25519PublicKey) {
        guard Self.isValidName(name) else { return nil }
        self.name = name
        self.type = type
        self.key = key
    }

    /// `SHA-256(name ‖ "\n" ‖ type ‖ key)[:4]`.
    public var keyID: [UInt8] {
        Array(SHA256.hash(data: Array(name.utf8) + [0x0A, type] + key.bytes).prefix(4))
    }

    /// The `vkey` text.
    public var text: String {
        "\(name)+\(keyID.map { String(format: "%02x", $0) }.joined())+\(Data([type] + key.bytes).base64EncodedString())"
    }

    /// Reads a `vkey` text; nil for anything malformed, of another algorithm, or whose key ID does not match.
    public init?(text: String) {
        let parts = text.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1].count == 8, let material = Data(base64Encoded: String(parts[2])), material.count == 33,
              let type = material.first, type == Self.ed25519 || type == Self.cosignatureV1,
              let key = Ed25519PublicKey(bytes: Array(material.dropFirst())),
              let verifier = NoteVerifierKey(name: String(parts[0]), type: type, key: key),
              verifier.keyID.map({ String(format: "%02x", $0) }).joined() == parts[1]
        else { return nil }
        self = verifier
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 256 && !name.unicodeScalars.contains { $0 == " " || $0 == "+" || $0 == "\n" || $0.value < 0x20 }
    }
}

/// A C2SP signed note: a text body (UTF-8, every line ended by a line feed) and the signature lines after a
/// blank line, each `— NAME BASE64(keyID ‖ signature)`.
public struct SignedNote: Sendable, Equatable {
    /// One signature line.
    public struct Signature: Sendable, Equatable {
        /// The signer's key name.
        public var name: String
        /// The key ID (4 bytes) and the signature bytes after it.
        public var keyIDAndSignature: [UInt8]

        /// Creates a line.
        public init(name: String, keyIDAndSignature: [UInt8]) {
            self.name = name
            self.keyIDAndSignature = keyIDAndSignature
        }

        /// The line as a note carries it: `— NAME BASE64(keyID ‖ signature)` and a line feed.
        public var line: String { "— \(name) \(Data(keyIDAndSignature).base64EncodedString())\n" }
    }

    /// The body, ended by a line feed.
    public var body: String
    /// The signatures, in order.
    public var signatures: [Signature]

    /// Creates a note.
    public init(body: String, signatures: [Signature]) {
        self.body = body
        self.signatures = signatures
    }

    /// The note as text: the body, a blank line, the signature lines.
    public var text: String { body + "\n" + signatures.map(\.line).joined() }

    /// The largest note read (a checkpoint with a few dozen cosignatures is well under it).
    public static let maximumSize = 64 * 1024

    /// Reads a note; nil when it is not one (no blank line before the signatures, a malformed line, or
    /// no signature at all).
    public init?(text: String) {
        guard text.utf8.count <= Self.maximumSize, text.hasSuffix("\n"), let split = text.range(of: "\n\n", options: .backwards) else { return nil }
        let body = String(text[..<split.lowerBound]) + "\n"
        var signatures: [Signature] = []
        for line in text[split.upperBound...].split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            guard line.hasPrefix("— ") else { return nil }
            let fields = line.dropFirst(2).split(separator: " ", omittingEmptySubsequences: false)
            guard fields.count == 2, NoteVerifierKey.isValidName(String(fields[0])), let bytes = Data(base64Encoded: String(fields[1])),
                  bytes.count > 4 else { return nil }
            signatures.append(Signature(name: String(fields[0]), keyIDAndSignature: Array(bytes)))
        }
        guard !signatures.isEmpty, !body.contains("\n\n") else { return nil }
        self.init(body: body, signatures: signatures)
    }

    /// Whether the note carries a valid Ed25519 note signature by `key`.
    public func isSigned(by key: NoteVerifierKey) -> Bool {
        signatures.contains { signature in
            signature.name == key.name && Array(signature.keyIDAndSignature.prefix(4)) == key.keyID
                && key.key.verify(Array(signature.keyIDAndSignature.dropFirst(4)), of: Array(body.utf8))
        }
    }
}

/// The signing half of a ``NoteVerifierKey``.
public struct NoteSigner: Sendable {
    /// The private key.
    public let key: Ed25519PrivateKey
    /// Its verifier key (name and key ID).
    public let verifier: NoteVerifierKey

    /// A signer named `name`; nil when the name is not a valid key name.
    public init?(name: String, type: UInt8 = NoteVerifierKey.ed25519, key: Ed25519PrivateKey) {
        guard let verifier = NoteVerifierKey(name: name, type: type, key: key.publicKey) else { return nil }
        self.key = key
        self.verifier = verifier
    }

    /// The signature line for `message`.
    func signature(of message: [UInt8], prefix: [UInt8] = []) throws(TrustError) -> SignedNote.Signature {
        SignedNote.Signature(name: verifier.name, keyIDAndSignature: verifier.keyID + prefix + (try key.sign(message)))
    }
}
