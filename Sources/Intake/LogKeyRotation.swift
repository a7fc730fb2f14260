import Foundation
import TransparencyLog
import Trust

/// A log key the gateway rotated from (`tongbao pki rotate --what log`). Checkpoints and receipts it
/// signed keep verifying with it, so the gateway goes on listing it in `GET /v1/log/key`; while the
/// rotation's overlap lasts the gateway also signs every checkpoint with it, so that witnesses and
/// participants who know only the previous key go on verifying until they have learnt the new one.
public struct PreviousLogKey: Sendable {
    /// Its verifier key.
    public var verifier: NoteVerifierKey
    /// Its private key while the overlap lasts (nil once it has ended: verify only).
    public var signer: NoteSigner?
    /// When the overlap ends (seconds since 1970).
    public var overlapEnds: Int

    /// A previous key; `signer` signs alongside the current key until `overlapEnds`.
    public init(verifier: NoteVerifierKey, signer: NoteSigner?, overlapEnds: Int) {
        self.verifier = verifier
        self.signer = signer
        self.overlapEnds = overlapEnds
    }
}

/// The log keys a gateway rotated from, kept beside its log key `CODE.log-key.pem`:
/// - `CODE.log-key-history.txt`: one line per previous key, oldest first, `VKEY OVERLAP-ENDS DATE` (the
///   overlap's end in seconds since 1970, then the same as an RFC 3339 UTC time for the reader);
/// - `CODE.log-key-KEYID.pem` (KEYID: the vkey's key ID in hex): the previous private key, owner-only,
///   with which checkpoints are signed too until the overlap ends; `tongbao serve` deletes it after.
public struct LogKeyHistory: Sendable {
    /// The current log key's file.
    public let logKeyPath: String

    /// The history of the log key at `logKeyPath`.
    public init(logKeyPath: String) {
        self.logKeyPath = logKeyPath
    }

    /// The history file.
    public var historyPath: String { URL(fileURLWithPath: logKeyPath).deletingPathExtension().path + "-history.txt" }

    /// The file a previous key with `keyID` is kept in.
    public func previousKeyPath(keyID: [UInt8]) -> String {
        URL(fileURLWithPath: logKeyPath).deletingPathExtension().path + "-" + keyID.map { String(format: "%02x", $0) }.joined() + ".pem"
    }

    /// The previous keys, oldest first: each with its signer while its overlap lasts at `now` and its
    /// private key is still there. No history file: none. A line that does not read is an error naming it.
    public func previousKeys(now: Int) throws(GatewayError) -> [PreviousLogKey] {
        guard let text = try? String(contentsOfFile: historyPath, encoding: .utf8) else { return [] }
        var keys: [PreviousLogKey] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            let fields = line.split(separator: " ")
            guard fields.count >= 2, let verifier = NoteVerifierKey(text: String(fields[0])), let ends = Int(fields[1]) else {
                throw GatewayError(.internal, "\(historyPath) line \(number + 1): not `VKEY OVERLAP-ENDS` (a vkey and seconds since 1970)")
            }
            var signer: NoteSigner?
            if now < ends, let pem = try? Data(contentsOf: URL(fileURLWithPath: previousKeyPath(keyID: verifier.keyID))) {
                do {
                    signer = NoteSigner(name: verifier.name, key: try Ed25519PrivateKey(pem: Array(pem)))
                } catch {
                    throw GatewayError(.internal, "\(previousKeyPath(keyID: verifier.keyID)): not an Ed25519 private key: \(error)")
                }
                guard signer?.verifier == verifier else {
                    throw GatewayError(.internal, "\(previousKeyPath(keyID: verifier.keyID)) is not the key of \(verifier.text)")
                }
            }
            keys.append(PreviousLogKey(verifier: verifier, signer: signer, overlapEnds: ends))
        }
        return keys
    }

    /// What a rotation did.
    public struct Rotation: Sendable {
        /// The key rotated from.
        public var previous: NoteVerifierKey
        /// The key now in `logKeyPath`.
        public var current: NoteVerifierKey
        /// Where the previous private key is kept for the overlap.
        public var previousKeyPath: String
        /// When the overlap ends (seconds since 1970).
        public var overlapEnds: Int
    }

    /// Replaces the log key named `origin` with a new one, keeping the old one as a previous key that
    /// signs too for `overlap` seconds from `now`. Refused while an earlier rotation's overlap lasts (its
    /// key would stop signing early). The steps are ordered so that an interruption never loses a key:
    /// the old key is copied and recorded before the new one replaces it (a rename).
    public func rotate(origin: String, overlap: Int, now: Int) throws(GatewayError) -> Rotation {
        guard let pem = try? Data(contentsOf: URL(fileURLWithPath: logKeyPath)) else {
            throw GatewayError(.notFound, "\(logKeyPath): no log key to rotate (the gateway makes it on its first start)")
        }
        let old: NoteSigner
        do {
            guard let signer = NoteSigner(name: origin, key: try Ed25519PrivateKey(pem: Array(pem))) else {
                throw GatewayError(.internal, "the log origin \(origin) is not a valid key name")
            }
            old = signer
        } catch let error as GatewayError {
            throw error
        } catch {
            throw GatewayError(.internal, "\(logKeyPath): not an Ed25519 private key: \(error)")
        }
        // A rotation interrupted before its new key was in place recorded the current key already: it goes on
        // from there. Any other overlap that lasts refuses.
        let history = try previousKeys(now: now)
        let resuming = history.last?.verifier == old.verifier
        if !resuming, let lasting = history.first(where: { $0.overlapEnds > now }) {
            throw GatewayError(.duplicateConflict, "the previous rotation's overlap lasts until \(Timestamps.chinaStandardTime(Date(timeIntervalSince1970: TimeInterval(lasting.overlapEnds)))) (\(lasting.verifier.text)); rotate again after it")
        }
        let fresh: Ed25519PrivateKey
        let freshPEM: [UInt8]
        do {
            fresh = try Ed25519PrivateKey.generate()
            freshPEM = try fresh.pem()
        } catch {
            throw GatewayError(.internal, "cannot make a new Ed25519 key: \(error)")
        }
        guard let current = NoteSigner(name: origin, key: fresh) else { throw GatewayError(.internal, "the log origin \(origin) is not a valid key name") }
        let kept = previousKeyPath(keyID: old.verifier.keyID)
        let ends = resuming ? (history.last?.overlapEnds ?? now + overlap) : now + overlap
        if (try? Data(contentsOf: URL(fileURLWithPath: kept))) != pem {
            try Self.writeOwnerOnly(Array(pem), to: kept, exclusive: true)
        }
        if !resuming { try Self.append("\(old.verifier.text) \(ends) \(Self.utc(ends))\n", to: historyPath) }
        let staged = logKeyPath + ".new"
        try? FileManager.default.removeItem(atPath: staged)
        try Self.writeOwnerOnly(freshPEM, to: staged, exclusive: true)
        guard rename(staged, logKeyPath) == 0 else {
            throw GatewayError(.internal, "cannot put the new log key in place at \(logKeyPath): \(String(cString: strerror(errno)))")
        }
        Self.syncFolder(of: logKeyPath)
        return Rotation(previous: old.verifier, current: current.verifier, previousKeyPath: kept, overlapEnds: ends)
    }

    /// Deletes the private keys of previous keys whose overlap ended before `now` (their public keys stay in
    /// the history): a key that signs nothing any more should not be there to be stolen. The paths deleted.
    @discardableResult
    public func removeEndedKeys(now: Int) throws(GatewayError) -> [String] {
        var removed: [String] = []
        for key in try previousKeys(now: now) where key.overlapEnds <= now {
            let path = previousKeyPath(keyID: key.verifier.keyID)
            if FileManager.default.fileExists(atPath: path), (try? FileManager.default.removeItem(atPath: path)) != nil { removed.append(path) }
        }
        return removed
    }

    /// Makes a rename in the folder of `path` durable.
    private static func syncFolder(of path: String) {
        let folder = open(URL(fileURLWithPath: path).deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard folder >= 0 else { return }
        _ = fsync(folder)
        close(folder)
    }

    static func utc(_ seconds: Int) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    private static func writeOwnerOnly(_ bytes: [UInt8], to path: String, exclusive: Bool) throws(GatewayError) {
        let descriptor = open(path, O_CREAT | O_WRONLY | O_CLOEXEC | (exclusive ? O_EXCL : O_TRUNC), 0o600)
        guard descriptor >= 0 else { throw GatewayError(.internal, "cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(descriptor) == 0 else { throw GatewayError(.internal, "cannot write \(path): \(String(cString: strerror(errno)))") }
    }

    private static func append(_ line: String, to path: String) throws(GatewayError) {
        let descriptor = open(path, O_CREAT | O_WRONLY | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw GatewayError(.internal, "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        let bytes = Array(line.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(descriptor) == 0 else { throw GatewayError(.internal, "cannot write \(path): \(String(cString: strerror(errno)))") }
    }
}
