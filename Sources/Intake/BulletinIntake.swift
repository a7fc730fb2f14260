import Bulletins
import BulletinVerification
import Foundation
import Ledger
import Logging
import Scoring
import StrictJSON
import Synchronization
import Trust

/// What intake did with a submission: receipted it (new or a resubmission), or refused it.
public enum IntakeResult: Sendable {
    /// Accepted, now or before (`resubmission`: the same content was accepted before, and this is its
    /// original receipt, byte for byte): the signed receipt, in the encoding of the first submission.
    case receipted([UInt8], encoding: BulletinEncoding, resubmission: Bool)
    /// Refused, and logged as received.
    case refused(GatewayError)
}

/// Intake, in order: size → media type → signature and trust → schema (of the verified bytes) → sender
/// identity → authorization → rules → the group commit (dedup, derivation, durable append, projection,
/// signed receipt). It turns untrusted bytes into a verified fact or a typed refusal; every refusal is an
/// RFC 9457 problem and is itself logged. It knows nothing of HTTP but the status each refusal carries.
public final class BulletinIntake: Sendable {
    package let configuration: GatewayConfiguration
    /// The one write path: group commits, periodic issuing, and the projection kept in step with the log.
    let committer: Committer
    /// The group commit every append of intake goes through.
    private let commits: GroupCommit<PendingAppend, Result<CommittedAppend, GatewayError>>
    /// The metrics intake and the HTTP layer record.
    public let metrics: GatewayMetrics
    private let verifier: SignedBulletinVerifier
    /// The trust store and participants in force (replaced by a reload).
    public let liveTrust: LiveTrust
    /// Reads what a refused bulletin says about itself, for the refusal record.
    private let reader: BulletinReader
    private let logger: Logger

    /// The scoring facts of every accepted bulletin.
    public var projection: FactProjection { committer.projection }
    /// Why the store refused the last group commit, while no commit has succeeded since (nil: it takes writes).
    public var storeFailure: String? { committer.lastFailure.withLock { $0 } }

    /// The verifiable log as participants and witnesses read it.
    public let log: VerifiableLog

    /// What the accepted bulletins say about persons and institutions (names, workplaces, regions).
    public var directory: Directory { committer.directory }

    /// Creates intake over `ledger`; the projection is empty until ``openLog(signing:)`` (a pre-start step) reads the log.
    public init(configuration: GatewayConfiguration, ledger: any LedgerStore, projection: FactProjection, metrics: GatewayMetrics = GatewayMetrics(),
                logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
        let liveTrust = LiveTrust(LiveTrust.Snapshot(trust: configuration.trust, participants: configuration.participants))
        self.liveTrust = liveTrust
        let committer = try Committer(configuration: configuration, ledger: ledger, projection: projection, liveTrust: liveTrust, logger: logger)
        self.committer = committer
        log = try VerifiableLog(ledger: ledger, configuration: configuration)
        commits = GroupCommit(commit: { items in
            metrics.commit(items: items.count)
            return await withTaskExecutorPreference(Committer.thread) { await committer.commit(items) }
        }, unanswered: { .failure(GatewayError(.internal, "the group commit gave no outcome")) })
        verifier = SignedBulletinVerifier(trust: configuration.trust, reader: try BulletinReader(), allowedClockSkew: configuration.allowedClockSkew)
        reader = try BulletinReader()
        // The bulletins accepted ones cause are signed in the group commit: with an ECDSA key, their nonces
        // are computed ahead, when the cores are idle.
        if configuration.precomputesSigningNonces { configuration.signingKey.precomputeSigningNonces(keeping: Self.precomputedNonces) }
    }

    /// ECDSA signing nonces the gateway keeps ready: about half a second of intake at 2,000 bulletins/s,
    /// computed in ~0.1 s of one idle core.
    static let precomputedNonces = 2048

    /// Opens the log (a pre-start step): verifies the whole log against its Merkle tree and signed
    /// checkpoints while projecting it, and throws `log-integrity` (naming the position) instead of serving
    /// anything from a log that was changed, truncated or lost entries. With `signing`, the tree's
    /// checkpoint is brought up to date (the gateway; the operator commands only read).
    public func openLog(signing: Bool = true) async throws {
        try await committer.open(signing: signing)
    }

    /// Records in the log a trust or configuration change that took effect (gateway.md §7, "Audit"), unless
    /// the last recorded change of the same kind lists the same files: the new entry, or nil.
    @discardableResult
    public func record(_ change: ConfigurationChange, now: Date = Date()) async throws -> LogEntry? {
        try await committer.record(change, now: now)
    }

    /// Reads the log after the projected position and projects what others appended (another node on the
    /// same database, or `tongbao` beside the gateway), and signs a checkpoint of what they appended: periodically.
    public func catchUp() async throws {
        try await committer.catchUp()
        try await committer.checkpointIfGrown()
    }

    /// Runs a submission from `sender` (the participant of the TLS client certificate). Verification and
    /// decoding run on the caller's task; the append waits for a group commit with the bulletins that
    /// arrive meanwhile (one durable write for all), and the answer is sent only after that commit.
    public func submit(_ bytes: [UInt8], mediaType: String?, sender: Participant?, now: Date = Date()) async -> IntakeResult {
        let receivedAt = Timestamps.chinaStandardTime(now)
        let started = ContinuousClock.now
        var known = (issuer: "", id: "", type: "")
        do {
            guard bytes.count <= configuration.maxBodyBytes else {
                throw GatewayError(.tooLarge, "bulletins are at most \(configuration.maxBodyBytes) bytes")
            }
            let encoding = try Self.encoding(mediaType)
            // XML-DSig bodies are XML; JWS bodies (compact or JSON) are not.
            guard (BulletinReader.encoding(of: bytes) == .xml) == (encoding == .xml) else {
                throw GatewayError(.malformed, "the body does not match its media type \(mediaType ?? "")")
            }
            let bulletin = try verify(bytes, now: now)
            known = (bulletin.issuer, bulletin.id, bulletin.type.rawValue)
            guard let sender, sender.code == bulletin.issuer else {
                throw GatewayError(.notAuthorized, "the bulletin is issued and signed by \(bulletin.issuer) but was sent over the TLS identity of \(sender?.code ?? "nobody known")")
            }
            guard sender.role.allowedTypes.contains(bulletin.type) else {
                throw GatewayError(.notAuthorized, "a \(sender.role.rawValue) participant may not submit \(bulletin.type.rawValue)")
            }
            guard RegionCode.contains(sender.region, bulletin.region) else {
                throw GatewayError(.notAuthorized, "\(sender.code) acts for region \(sender.region); the bulletin concerns region \(bulletin.region), which is not within it")
            }
            let fact = try scoringFact(of: bulletin, receivedAt: receivedAt)
            let entry = NewEntry(issuer: bulletin.issuer, id: bulletin.id, type: bulletin.type.rawValue, sender: sender.code,
                                 receivedAt: receivedAt, outcome: .accepted, bytes: bytes)
            let committed = try await commit(PendingAppend(entry: entry, bulletin: bulletin, fact: fact, encoding: encoding, now: now)).get()
            guard let receipt = committed.receipt else {
                throw GatewayError(.internal, "the log returned no receipt for \(bulletin.issuer)/\(bulletin.id)")
            }
            let resubmission: Bool
            switch committed.outcome {
            case .appended(let logged):
                resubmission = false
                logger.info("bulletin accepted", metadata: metadata(logged.content, position: logged.position, started: started))
                metrics.bulletin(type: bulletin.type.rawValue, outcome: "accepted", seconds: Self.milliseconds(since: started) / 1000)
            case .duplicate(let logged):
                resubmission = true
                logger.info("bulletin resubmitted", metadata: metadata(logged.content, position: logged.position, started: started))
                metrics.bulletin(type: bulletin.type.rawValue, outcome: "duplicate", seconds: Self.milliseconds(since: started) / 1000)
            }
            return .receipted(receipt, encoding: BulletinReader.encoding(of: receipt) ?? encoding, resubmission: resubmission)
        } catch {
            let problem = error as? GatewayError ?? GatewayError(.internal, "\(error)")
            if known.issuer.isEmpty, problem.code != .tooLarge, let claimed = claimedIdentity(of: bytes) { known = claimed }
            let refusal = Refusal(receivedAt: receivedAt, issuer: known.issuer, id: known.id, type: known.type, sender: sender?.code ?? "",
                                  code: problem.code.description, reason: problem.reason, sha256: SHA256.hex(bytes), size: bytes.count)
            do {
                try await committer.ledger.recordRefusal(refusal)
            } catch {
                logger.error("the refusal record could not keep a refusal", metadata: ["error": .string("\(error)")])
            }
            logger.info("bulletin rejected", metadata: [
                "participant": .string(refusal.sender), "type": .string(refusal.type), "issuer": .string(refusal.issuer), "id": .string(refusal.id),
                "outcome": .string("rejected"), "code": .string(refusal.code), "reason": .string(problem.reason ?? ""),
                "sha256": .string(refusal.sha256), "latency_ms": .stringConvertible(Self.milliseconds(since: started)),
            ])
            metrics.bulletin(type: known.type, outcome: "rejected", seconds: Self.milliseconds(since: started) / 1000)
            return .refused(problem)
        }
    }

    /// Refuses a body whose declared length is over the limit, before a byte of it is read: recorded in
    /// the refusal record with its declared size (and no digest: the bytes were never read).
    public func refuseOversize(declaredLength: Int, sender: Participant?, now: Date = Date()) async -> IntakeResult {
        let problem = GatewayError(.tooLarge, "bulletins are at most \(configuration.maxBodyBytes) bytes; this one declares \(declaredLength)")
        let refusal = Refusal(receivedAt: Timestamps.chinaStandardTime(now), issuer: "", id: "", type: "", sender: sender?.code ?? "",
                              code: problem.code.description, reason: nil, sha256: "", size: declaredLength)
        do {
            try await committer.ledger.recordRefusal(refusal)
        } catch {
            logger.error("the refusal record could not keep a refusal", metadata: ["error": .string("\(error)")])
        }
        metrics.bulletin(type: "", outcome: "rejected", seconds: 0)
        logger.info("bulletin rejected", metadata: ["participant": .string(refusal.sender), "outcome": .string("rejected"), "code": .string(refusal.code)])
        return .refused(problem)
    }

    /// What an unverified bulletin claims to be (issuer, id, type), for the refusal record only: nothing
    /// else ever reads unverified bytes. Nil when it cannot be read that far.
    private func claimedIdentity(of bytes: [UInt8]) -> (issuer: String, id: String, type: String)? {
        let content = BulletinReader.encoding(of: bytes) == .xml ? bytes : JWS.unverifiedPayload(bytes)
        guard let content, let bulletin = try? reader.read(content).bulletin else { return nil }
        return (bulletin.issuer, bulletin.id, bulletin.type.rawValue)
    }

    /// Waits for `item`'s group commit (which runs on the commit thread).
    private func commit(_ item: PendingAppend) async -> Result<CommittedAppend, GatewayError> {
        await commits.submit(item)
    }

    // MARK: Steps

    static func encoding(_ mediaType: String?) throws(GatewayError) -> BulletinEncoding {
        // The media type's essence: before any parameter, without HTTP's optional whitespace (SP, HTAB).
        var essence = (mediaType ?? "").prefix { $0 != ";" }
        while essence.first == " " || essence.first == "\t" { essence.removeFirst() }
        while essence.last == " " || essence.last == "\t" { essence.removeLast() }
        let type = essence.lowercased()
        switch type {
        case "application/xml", "text/xml": return .xml
        case "application/jose+json", "application/jose": return .json
        default:
            throw GatewayError(.unsupportedMediaType, "send application/xml (XML-DSig) or application/jose+json / application/jose (JWS), not \(type.isEmpty ? "nothing" : type)")
        }
    }

    private func verify(_ bytes: [UInt8], now: Date) throws(GatewayError) -> Bulletin {
        do {
            return try verifier.verify(bytes, trust: liveTrust.snapshot.trust, now: Int(now.timeIntervalSince1970))
        } catch let error as TrustError {
            throw Self.refusal(error)
        } catch let error as SignedBulletinVerifier.IssuedInFuture {
            throw GatewayError(.issuedInFuture, "issuedAt \(error.issuedAt) is more than \(error.allowedClockSkew) s ahead of the gateway's clock")
        } catch let error as BulletinError {
            let code: GatewayError.Code = error.code == .malformed ? .malformed : error.code == .tooLarge ? .tooLarge : .schemaInvalid
            throw GatewayError(code, "\(error.location): \(error.message)", reason: error.code.description)
        } catch {
            throw GatewayError(.internal, "\(error)")
        }
    }

    /// The refusal for what `Trust` found. Its own failures (OpenSSL, an unreadable trust store) are the
    /// gateway's, not the sender's: `internal`, never `untrusted-signer`.
    static func refusal(_ error: TrustError) -> GatewayError {
        let reason = error.code.description
        return switch error.code {
        case .signatureInvalid, .profileViolation: GatewayError(.signatureInvalid, error.message, reason: reason)
        case .malformed: GatewayError(.malformed, error.message)
        case .cryptoFailure, .ioError, .trustStoreUnreadable: GatewayError(.internal, error.message, reason: reason)
        default: GatewayError(.untrustedSigner, error.message, reason: reason)
        }
    }

    private func scoringFact(of bulletin: Bulletin, receivedAt: String) throws(GatewayError) -> Fact? {
        let name = bulletin.rules ?? configuration.defaultPack
        guard let pack = configuration.packs[name] else {
            throw GatewayError(.rulesInvalid, "the gateway has no rule pack \"\(name)\"")
        }
        do {
            return try bulletin.fact(under: pack, receivedAt: receivedAt)
        } catch {
            throw GatewayError(.rulesInvalid, "\(error.location): \(error.message)")
        }
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = (ContinuousClock.now - start).components
        return Double(elapsed.seconds) * 1000 + Double(elapsed.attoseconds) / 1e15
    }

    /// Log metadata: who, what, outcome, latency — never names or identity numbers.
    private func metadata(_ entry: NewEntry, position: Int?, started: ContinuousClock.Instant) -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            "participant": .string(entry.sender), "type": .string(entry.type), "issuer": .string(entry.issuer), "id": .string(entry.id),
            "outcome": .string(entry.outcome.rawValue), "latency_ms": .stringConvertible(Self.milliseconds(since: started)),
        ]
        if let position { metadata["log_position"] = .stringConvertible(position) }
        return metadata
    }
}
