import Bulletins
import BulletinVerification
import Foundation
import Ledger
import Logging
import Scoring
import StrictJSON
import Synchronization
import Trust

/// The gateway's configuration: who it is, whom it trusts, and how it scores.
public struct GatewayConfiguration: Sendable {
    /// The gateway's participant code (the issuer of its receipts).
    public var code: String
    /// The gateway's region.
    public var region: String
    /// The participants.
    public var participants: [Participant]
    /// The trust store for signatures and client certificates.
    public var trust: TrustStore
    /// The gateway's signing key and certificate (for receipts).
    public var signingKey: PrivateKey
    /// The certificate that goes with `signingKey`.
    public var signingCertificate: Trust.Certificate
    /// The rule packs by name, and the one used when a bulletin names none.
    public var packs: [String: RulePack]
    /// The pack for bulletins that name none.
    public var defaultPack: String
    /// The largest bulletin accepted.
    public var maxBodyBytes: Int
    /// Working days a sector regulator is asked to answer a `Referral` in.
    public var referralResponseWorkingDays = 20

    /// Creates a configuration.
    public init(code: String, region: String, participants: [Participant], trust: TrustStore, signingKey: PrivateKey,
                signingCertificate: Trust.Certificate, packs: [String: RulePack], defaultPack: String, maxBodyBytes: Int = 1 << 20) {
        self.code = code
        self.region = region
        self.participants = participants
        self.trust = trust
        self.signingKey = signingKey
        self.signingCertificate = signingCertificate
        self.packs = packs
        self.defaultPack = defaultPack
        self.maxBodyBytes = maxBodyBytes
    }
}

/// What intake answers: a status, a content type and a body.
public struct IntakeResponse: Sendable {
    /// The HTTP status.
    public var status: Int
    /// The media type of `body`.
    public var contentType: String
    /// The signed receipt, or the problem document.
    public var body: [UInt8]
}

/// The intake pipeline of architecture.md, in order: size → media type → signature and trust → schema
/// (of the verified bytes) → sender identity → authorization → rules → dedup and durable append →
/// projection → signed receipt. Every refusal is an RFC 9457 problem and is itself logged.
public final class IntakePipeline: Sendable {
    let configuration: GatewayConfiguration
    let log: any MessageLog & Outbox
    /// The scoring facts of every accepted bulletin.
    public let projection: FactProjection
    /// Names, kinds and workplaces from the accepted bulletins.
    public let directory: Directory
    let derivation: DerivedBulletins
    let signer: OutboundSigner
    /// Derivation, append and projection happen one bulletin at a time, so that every derived bulletin is
    /// computed from a projection that holds every fact logged before it.
    private let sequencing = Mutex(())
    /// The log position up to which every accepted bulletin is in the projection.
    private let projectedPosition = Mutex(0)
    private let reader: BulletinReader
    /// The metrics intake and the HTTP layer record.
    public let metrics = GatewayMetrics()
    private let verifier: SignedBulletinVerifier
    private let logger: Logger

    /// Creates the pipeline and rebuilds the projection from the log.
    public init(configuration: GatewayConfiguration, log: any MessageLog & Outbox, projection: FactProjection, logger: Logger) throws {
        self.configuration = configuration
        self.log = log
        self.projection = projection
        self.logger = logger
        directory = Directory()
        derivation = DerivedBulletins(
            routing: OutboundRouting(participants: configuration.participants, homeRegion: configuration.region),
            projection: projection, directory: directory, referralResponseWorkingDays: configuration.referralResponseWorkingDays)
        signer = OutboundSigner(code: configuration.code, key: configuration.signingKey, certificate: configuration.signingCertificate)
        reader = try BulletinReader()
        verifier = SignedBulletinVerifier(trust: configuration.trust, reader: try BulletinReader())
        try rebuildProjection()
    }

    /// Folds every accepted bulletin of the log into the projection (the log is the source of truth).
    func rebuildProjection() throws {
        try catchUp()
    }

    /// Reads the log after the projected position and projects what others appended (another node on the
    /// same database, or `tongbao` beside the gateway). `serve` calls it periodically; reading twice is harmless.
    public func catchUp() throws {
        while true {
            let batch = try log.entries(after: projectedPosition.withLock { $0 }, limit: 1000)
            try project(batch)
            if batch.count < 1000 { return }
        }
    }

    /// Projects accepted entries (idempotent) and advances the projected position past them.
    private func project(_ entries: [LogEntry]) throws {
        for entry in entries {
            if let (bulletin, fact) = try ProjectionBuilder.read(entry, reader: reader, packs: configuration.packs, defaultPack: configuration.defaultPack) {
                directory.learn(bulletin)
                if let fact { projection.add(fact) }
            }
        }
        if let last = entries.last?.position { projectedPosition.withLock { $0 = max($0, last) } }
    }

    /// Runs a submission from `sender` (the participant of the TLS client certificate).
    public func submit(_ bytes: [UInt8], mediaType: String?, sender: Participant?, now: Date = Date()) -> IntakeResponse {
        let receivedAt = Timestamps.chinaStandardTime(now)
        let started = ContinuousClock.now
        var known = (issuer: "", id: "", type: "")
        do {
            guard bytes.count <= configuration.maxBodyBytes else {
                throw GatewayError(code: "too-large", status: 413, detail: "bulletins are at most \(configuration.maxBodyBytes) bytes")
            }
            let encoding = try Self.encoding(mediaType)
            // XML-DSig bodies are XML; JWS bodies (compact or JSON) are not.
            guard (BulletinReader.encoding(of: bytes) == .xml) == (encoding == .xml) else {
                throw GatewayError(code: "malformed", status: 400, detail: "the body does not match its media type \(mediaType ?? "")")
            }
            let bulletin = try verify(bytes, now: now)
            known = (bulletin.issuer, bulletin.id, bulletin.type.rawValue)
            guard let sender, sender.code == bulletin.issuer else {
                throw GatewayError(code: "not-authorized", status: 403,
                                   detail: "the bulletin is issued and signed by \(bulletin.issuer) but was sent over the TLS identity of \(sender?.code ?? "nobody known")")
            }
            guard sender.role.allowedTypes.contains(bulletin.type) else {
                throw GatewayError(code: "not-authorized", status: 403, detail: "a \(sender.role.rawValue) participant may not submit \(bulletin.type.rawValue)")
            }
            let fact = try scoringFact(of: bulletin)
            let entry = NewEntry(issuer: bulletin.issuer, id: bulletin.id, type: bulletin.type.rawValue, sender: sender.code,
                                 receivedAt: receivedAt, outcome: "accepted", bytes: bytes)
            let receipt: [UInt8]
            switch try appendWithConsequences(entry, bulletin: bulletin, fact: fact, now: now) {
            case .appended(let logged):
                receipt = try makeReceipt(for: logged, encoding: encoding)
                try log.storeReceipt(receipt, for: logged.position)
                logger.info("bulletin accepted", metadata: metadata(logged.content, position: logged.position, started: started))
                metrics.bulletin(type: bulletin.type.rawValue, outcome: "accepted", seconds: Self.milliseconds(since: started) / 1000)
            case .duplicate(let logged):
                if let stored = try log.receipt(for: logged.position) {
                    receipt = stored
                } else {
                    receipt = try makeReceipt(for: logged, encoding: encoding)
                    try log.storeReceipt(receipt, for: logged.position)
                }
                logger.info("bulletin resubmitted", metadata: metadata(logged.content, position: logged.position, started: started))
                metrics.bulletin(type: bulletin.type.rawValue, outcome: "duplicate", seconds: Self.milliseconds(since: started) / 1000)
            }
            return IntakeResponse(status: 201, contentType: encoding == .xml ? "application/xml" : "application/jose+json", body: receipt)
        } catch {
            let problem = error as? GatewayError ?? GatewayError(code: "internal", status: 500, detail: "\(error)")
            let rejected = NewEntry(issuer: known.issuer, id: known.id, type: known.type, sender: sender?.code ?? "",
                                    receivedAt: receivedAt, outcome: "rejected", errorCode: problem.code, bytes: bytes)
            _ = try? log.append(rejected)
            logger.info("bulletin rejected", metadata: metadata(rejected, position: nil, started: started).merging(
                ["code": .string(problem.code), "reason": .string(problem.reason ?? "")]) { $1 })
            metrics.bulletin(type: known.type, outcome: "rejected", seconds: Self.milliseconds(since: started) / 1000)
            return IntakeResponse(status: problem.status, contentType: "application/problem+json", body: Array(problem.problemJSON.utf8))
        }
    }

    // MARK: Steps

    static func encoding(_ mediaType: String?) throws(GatewayError) -> BulletinEncoding {
        let type = (mediaType ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        switch type {
        case "application/xml", "text/xml": return .xml
        case "application/jose+json", "application/jose": return .json
        default:
            throw GatewayError(code: "unsupported-media-type", status: 415,
                               detail: "send application/xml (XML-DSig) or application/jose+json / application/jose (JWS), not \(type.isEmpty ? "nothing" : type)")
        }
    }

    private func verify(_ bytes: [UInt8], now: Date) throws(GatewayError) -> Bulletin {
        do {
            return try verifier.verify(bytes, now: Int(now.timeIntervalSince1970))
        } catch let error as TrustError {
            switch error.code {
            case "signature-invalid", "profile-violation":
                throw GatewayError(code: "signature-invalid", status: 401, detail: error.message, reason: error.code)
            case "malformed":
                throw GatewayError(code: "malformed", status: 400, detail: error.message)
            default:
                throw GatewayError(code: "untrusted-signer", status: 403, detail: error.message, reason: error.code)
            }
        } catch let error as BulletinError {
            let status = error.code == "malformed" ? 400 : error.code == "too-large" ? 413 : 422
            throw GatewayError(code: error.code == "malformed" || error.code == "too-large" ? error.code : "schema-invalid",
                               status: status, detail: "\(error.location): \(error.message)", reason: error.code)
        } catch {
            throw GatewayError(code: "internal", status: 500, detail: "\(error)")
        }
    }

    private func scoringFact(of bulletin: Bulletin) throws(GatewayError) -> Fact? {
        let name = bulletin.rules ?? configuration.defaultPack
        guard let pack = configuration.packs[name] else {
            throw GatewayError(code: "rules-invalid", status: 422, detail: "the gateway has no rule pack \"\(name)\"")
        }
        do {
            return try bulletin.fact(under: pack)
        } catch {
            throw GatewayError(code: "rules-invalid", status: 422, detail: "\(error.location): \(error.message)")
        }
    }

    /// Derives what the bulletin causes, signs it, and appends both in one transaction; then projects.
    private func appendWithConsequences(_ entry: NewEntry, bulletin: Bulletin, fact: Fact?, now: Date) throws(GatewayError) -> AppendOutcome {
        do {
            return try sequencing.withLock { _ throws -> AppendOutcome in
                // A resubmission (or a conflict) is answered before the closure runs: it causes nothing new.
                let outcome = try log.append(entry, catchingUpFrom: projectedPosition.withLock { $0 }) { newer in
                    try project(newer)   // what other writers appended first: derive from every earlier fact
                    directory.learn(bulletin)
                    let consequences = try derivation.consequences(of: bulletin, fact: fact, issuedAt: entry.receivedAt)
                    return (consequences.forwardTo, try consequences.drafts.map { try signer.sign($0, now: now) })
                }
                if case .appended(let logged) = outcome {
                    if let fact { projection.add(fact) }
                    projectedPosition.withLock { $0 = max($0, logged.position) }
                }
                return outcome
            }
        } catch let error as LedgerError {
            if error.code == "duplicate-conflict" { throw GatewayError(code: "duplicate-conflict", status: 409, detail: error.message) }
            throw GatewayError(code: "internal", status: 500, detail: error.message)
        } catch {
            throw GatewayError(code: "internal", status: 500, detail: "cannot derive the outbound bulletins: \(error)")
        }
    }

    /// A signed `Receipt` in the sender's encoding (XML-DSig for XML, flattened JWS for JSON).
    private func makeReceipt(for entry: LogEntry, encoding: BulletinEncoding) throws(GatewayError) -> [UInt8] {
        let body = JSONText.object([
            ("bulletin", JSONText.object([("issuer", JSONText.quoted(entry.content.issuer)), ("id", JSONText.quoted(entry.content.id))])),
            ("sha256", JSONText.quoted(entry.sha256)), ("receivedAt", JSONText.quoted(entry.content.receivedAt)),
            ("outcome", JSONText.quoted("accepted")), ("logPosition", String(entry.position)),
        ])
        let envelope = JSONText.object([
            ("id", JSONText.quoted("RCPT-\(entry.position)")), ("type", JSONText.quoted("Receipt")),
            ("issuer", JSONText.quoted(configuration.code)), ("issuedAt", JSONText.quoted(entry.content.receivedAt)),
            ("region", JSONText.quoted(configuration.region)), ("body", body),
        ])
        do {
            let tree = try JSONParser().parse(envelope)
            _ = try BulletinJSONDecoder.bulletin(fromTree: tree)   // a receipt is a valid bulletin, always
            switch encoding {
            case .xml:
                return try XMLSignature().sign(Array(try BulletinXML.xml(from: tree).utf8), key: configuration.signingKey,
                                               certificate: configuration.signingCertificate)
            case .json:
                return Array(try JWS().sign(Array(JSONWriter.pretty(tree).utf8), key: configuration.signingKey,
                                            chain: [configuration.signingCertificate], compact: false).utf8)
            }
        } catch {
            throw GatewayError(code: "internal", status: 500, detail: "cannot make the receipt: \(error)")
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
            "outcome": .string(entry.outcome), "latency_ms": .stringConvertible(Self.milliseconds(since: started)),
        ]
        if let position { metadata["log_position"] = .stringConvertible(position) }
        return metadata
    }
}
