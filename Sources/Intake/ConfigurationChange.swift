import Foundation
import Ledger

/// A trust or configuration change that took effect, as the log records it (gateway.md §7, "Audit"): who
/// made it take effect, what changed, and the SHA-256 of every file now in force, so that the history of
/// whom the gateway trusted, and under which rules, is itself in the tamper-evident log.
///
/// The entry's bytes are the change's manifest, lines of `name value` each ended by a line feed:
///
/// ```
/// tongbao-change 1
/// kind trust
/// what participants
/// cause file-change
/// node gw-1.example
/// file participants.json 5d41…9a2c
/// ```
///
/// with one `file` line per file, by name (relative to the folder the files are read from). The leaf's
/// `sha256` is the manifest's digest; the entry's id is `KIND-WHAT-` and the manifest's first 16 hex digits.
public struct ConfigurationChange: Sendable, Equatable {
    /// A file in force and its digest.
    public struct File: Sendable, Equatable {
        /// Its name, relative to the folder it is read from (no spaces or line feeds: they become `_`).
        public var name: String
        /// SHA-256 of its bytes, lowercase hex.
        public var sha256: String

        /// A file of `name` with `bytes`.
        public init(name: String, bytes: [UInt8]) {
            self.name = name
            self.sha256 = SHA256Digest.hex(bytes)
        }
    }

    /// Trust (participants, roots, intermediates, CRLs) or configuration (rule packs, calendar).
    public var kind: EntryOutcome
    /// What changed: `participants`, `trust-store`, `rules`.
    public var what: String
    /// What made it take effect: `start` (the files in force differ from the last recorded ones when the
    /// gateway starts), `signal` (SIGHUP, as `tongbao reload` sends), `file-change`.
    public var cause: String
    /// The node that put it in force (its host name).
    public var node: String
    /// Every file now in force, by name.
    public var files: [File]

    /// A change of `kind` (`.trust` or `.configuration`).
    public init(kind: EntryOutcome, what: String, cause: String, node: String = ProcessInfo.processInfo.hostName, files: [File]) {
        self.kind = kind
        self.what = what
        self.cause = cause
        self.node = node
        self.files = files.sorted { $0.name < $1.name }
    }

    /// The files `names` under `folder`, read now; a file that cannot be read is absent.
    public static func files(in folder: String, names: [String]) -> [File] {
        names.compactMap { name in
            (try? Data(contentsOf: URL(fileURLWithPath: folder).appendingPathComponent(name))).map { File(name: name, bytes: Array($0)) }
        }
    }

    static let version = "tongbao-change 1"

    /// The manifest (the entry's bytes).
    public var manifest: [UInt8] {
        func word(_ text: String) -> String {
            let cleaned = String(text.map { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" ? "_" : $0 })
            return cleaned.isEmpty ? "-" : cleaned
        }
        var lines = [Self.version, "kind \(kind.rawValue)", "what \(word(what))", "cause \(word(cause))", "node \(word(node))"]
        lines += files.map { "file \(word($0.name)) \($0.sha256)" }
        return Array(lines.map { $0 + "\n" }.joined().utf8)
    }

    /// Whether the manifest `bytes` (a change recorded before) lists the same files with the same digests.
    public func sameFiles(as bytes: [UInt8]) -> Bool {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("file ") }
        let mine = String(decoding: manifest, as: UTF8.self).split(separator: "\n").filter { $0.hasPrefix("file ") }
        return lines == mine
    }

    /// The log entry of the change, recorded by the gateway `code` at `receivedAt`.
    func entry(issuer code: String, receivedAt: String) -> NewEntry {
        let bytes = manifest
        let digest = SHA256Digest.hex(bytes)
        return NewEntry(issuer: code, id: "\(kind.rawValue)-\(what)-\(digest.prefix(16))", type: what, sender: node, receivedAt: receivedAt,
                        outcome: kind, bytes: bytes)
    }
}
