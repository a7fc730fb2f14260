import Bulletins
import Foundation
import Ledger
import Logging
import Scoring
import StrictJSON
import Synchronization
import Trust

/// A verified bulletin waiting for its group commit (or a refused one, to be logged as received).
struct PendingAppend: Sendable {
    /// What to record.
    let entry: NewEntry
    /// The verified bulletin; nil for a refusal, which derives nothing.
    let bulletin: Bulletin?
    /// Its scoring fact, if it has one.
    let fact: Fact?
    /// The encoding the receipt is made in (the sender's).
    let encoding: BulletinEncoding
    /// The signing time of what the bulletin causes.
    let now: Date
}

/// What the group commit did with one bulletin.
struct CommittedAppend: Sendable {
    /// New or a resubmission.
    let outcome: AppendOutcome
    /// The signed receipt made in the same transaction (new entries only).
    let receipt: [UInt8]?
}

/// Appends bulletins to the log, batch by batch, with what they cause and their signed receipts, and keeps
/// the in-memory projection and directory in step with the log (the log stays the source of truth).
final class BulletinCommitter: Sendable {
    let log: any MessageLog & Outbox
    let projection: FactProjection
    let directory: Directory
    let derivation: DerivedBulletins
    let signer: OutboundSigner
    private let configuration: GatewayConfiguration
    private let reader: BulletinReader
    private let logger: Logger
    /// Derivation, append and projection happen one batch at a time, and within a batch one bulletin at a
    /// time, so that every derived bulletin is computed from a projection that holds every fact logged before it.
    private let sequencing = Mutex(())
    /// The log position up to which every accepted bulletin is in the projection.
    private let projectedPosition = Mutex(0)

    init(configuration: GatewayConfiguration, log: any MessageLog & Outbox, projection: FactProjection, logger: Logger) throws {
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
    }

    /// Reads the log after the projected position and projects what was appended there.
    func catchUp() throws {
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

    /// Commits a batch in one transaction. For each accepted bulletin, in order: what other writers appended
    /// first is projected, what the bulletin causes is derived from every earlier fact (the batch's earlier
    /// bulletins included), and its fact joins the projection; then the batch's derived bulletins and
    /// receipts are signed on every core and everything is written. One outcome per item, in order.
    func commit(_ items: [PendingAppend]) -> [Result<CommittedAppend, GatewayError>] {
        sequencing.withLock { _ in
            let added = ProjectedFacts()
            let batch = items.map { item in batched(item, added: added) }
            do {
                let commit = try log.append(batch: batch, catchingUpFrom: projectedPosition.withLock { $0 })
                projectedPosition.withLock { $0 = max($0, commit.lastPosition) }
                return commit.results.map { result in
                    result.outcome.map { CommittedAppend(outcome: $0, receipt: result.receipt) }.mapError(Self.problem)
                }
            } catch {
                // Nothing of the batch is in the log, so neither may its facts be in the projection.
                projection.remove(added.ids)
                logger.error("the log could not commit a batch", metadata: ["bulletins": .stringConvertible(items.count), "error": .string("\(error)")])
                let failure = GatewayError(code: "internal", status: 500, detail: "the log could not commit: \(error)")
                return items.map { _ in .failure(failure) }
            }
        }
    }

    /// The steps of one item of a batch; `added` collects the facts projected before the commit.
    private func batched(_ item: PendingAppend, added: ProjectedFacts) -> BatchedAppend {
        guard let bulletin = item.bulletin else {
            // A refusal: logged as received, nothing derived.
            return BatchedAppend(entry: item.entry, consequences: { newer in
                try self.project(newer)
                return ([], [])
            })
        }
        let signer = signer
        return BatchedAppend(
            entry: item.entry,
            consequences: { newer in
                try self.project(newer)   // what other writers appended first: derive from every earlier fact
                self.directory.learn(bulletin)
                let consequences = try self.derivation.consequences(of: bulletin, fact: item.fact, issuedAt: item.entry.receivedAt)
                return (consequences.forwardTo, consequences.drafts.map { draft in
                    BulletinToIssue(issuer: signer.code, id: draft.id) { try signer.signAsBuilt(draft, now: item.now) }
                })
            },
            receipt: { [encoding = item.encoding] logged in try self.makeReceipt(for: logged, encoding: encoding) },
            accepted: {
                guard let fact = item.fact else { return }
                self.projection.add(fact)
                added.ids.append(fact.id)
            })
    }

    /// The problem for an item the log refused.
    private static func problem(_ error: any Error) -> GatewayError {
        switch error {
        case let error as LedgerError where error.code == "duplicate-conflict":
            return GatewayError(code: "duplicate-conflict", status: 409, detail: error.message)
        case let error as LedgerError:
            return GatewayError(code: "internal", status: 500, detail: error.message)
        case let error as GatewayError:
            return error
        default:
            return GatewayError(code: "internal", status: 500, detail: "cannot derive the outbound bulletins or the receipt: \(error)")
        }
    }

    /// A signed `Receipt` in the sender's encoding (XML-DSig for XML, flattened JWS for JSON).
    private func makeReceipt(for entry: ReceiptSubject, encoding: BulletinEncoding) throws(GatewayError) -> [UInt8] {
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
            switch encoding {
            case .xml:
                let tree = try JSONParser().parse(envelope)
                return try XMLSignature().sign(Array(try BulletinXML.xml(from: tree).utf8), key: configuration.signingKey,
                                               certificate: configuration.signingCertificate)
            case .json:
                // Signed as written: every field is a verified bulletin's id and issuer, a digest, a time and a
                // number, so the text is a valid Receipt by construction (the tests read receipts back with the
                // strict reader); parsing it again for each receipt would only cost time on the append path.
                return Array(try JWS().sign(Array(envelope.utf8), key: configuration.signingKey,
                                            chain: [configuration.signingCertificate], compact: false).utf8)
            }
        } catch {
            throw GatewayError(code: "internal", status: 500, detail: "cannot make the receipt: \(error)")
        }
    }
}

/// The facts a batch projected before its commit (used on the committing thread only).
private final class ProjectedFacts {
    var ids: [FactID] = []
}
