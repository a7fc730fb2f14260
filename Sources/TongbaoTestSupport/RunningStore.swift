import Ledger
import TransparencyLog

/// A store that is running (its ``LedgerStore/run()`` on a task of its own) and migrated, for as long as the
/// test holds it (the tests use stores outside a service group); it stops the store when released.
public final class RunningStore: LedgerStore {
    /// The store.
    public let store: any LedgerStore
    private let running: Task<Void, any Error>

    /// Runs and migrates `store`.
    public init(_ store: any LedgerStore) async throws {
        self.store = store
        running = Task { try await store.run() }
        try await store.migrate()
    }

    deinit {
        running.cancel()
    }

    /// The store at `address`, opened, running and migrated.
    public static func open(_ address: LedgerAddress) async throws -> RunningStore {
        try await RunningStore(try await address.open())
    }

    public func withAppendLock<Result: Sendable>(_ body: (any LedgerWriter) async throws -> Result) async throws -> Result { try await store.withAppendLock(body) }
    public func migrate() async throws(LedgerError) { try await store.migrate() }
    public var ownsCurrentThread: Bool { store.ownsCurrentThread }
    public func run() async throws { try await store.run() }
    public func accepted(issuer: String, id: String) async throws(LedgerError) -> LogEntry? { try await store.accepted(issuer: issuer, id: id) }
    public func issued(issuer: String, id: String) async throws(LedgerError) -> LogEntry? { try await store.issued(issuer: issuer, id: id) }
    public func entries(after position: Int, limit: Int) async throws(LedgerError) -> [LogEntry] { try await store.entries(after: position, limit: limit) }
    public func receipt(for position: Int) async throws(LedgerError) -> [UInt8]? { try await store.receipt(for: position) }
    public func count() async throws(LedgerError) -> Int { try await store.count() }
    public func treeHashes(_ nodes: Set<TreeNodeID>) async throws(LedgerError) -> [TreeNodeID: TreeHash] { try await store.treeHashes(nodes) }
    public func checkpoints(from size: Int, limit: Int) async throws(LedgerError) -> [StoredCheckpoint] { try await store.checkpoints(from: size, limit: limit) }
    public func latestCheckpoint() async throws(LedgerError) -> StoredCheckpoint? { try await store.latestCheckpoint() }
    public func replaceCheckpointNote(_ checkpoint: StoredCheckpoint) async throws(LedgerError) { try await store.replaceCheckpointNote(checkpoint) }
    public func recordRefusal(_ refusal: Refusal, keeping kept: Int) async throws(LedgerError) { try await store.recordRefusal(refusal, keeping: kept) }
    public func refusals(since: String?, limit: Int) async throws(LedgerError) -> [Refusal] { try await store.refusals(since: since, limit: limit) }
    public func inbox(of recipient: String, after sequence: Int, limit: Int) async throws(LedgerError) -> [OutboundMessage] {
        try await store.inbox(of: recipient, after: sequence, limit: limit)
    }
    public func acknowledge(_ sequences: [Int], by recipient: String, at timestamp: String) async throws(LedgerError) -> Int {
        try await store.acknowledge(sequences, by: recipient, at: timestamp)
    }
    public func due(to recipients: Set<String>, now: Int64, limit: Int) async throws(LedgerError) -> [OutboundMessage] {
        try await store.due(to: recipients, now: now, limit: limit)
    }
    public func record(_ result: PushResult, for sequence: Int, at timestamp: String, now: Int64) async throws(LedgerError) {
        try await store.record(result, for: sequence, at: timestamp, now: now)
    }
    public func deliveries(in state: DeliveryState?, limit: Int) async throws(LedgerError) -> [Delivery] { try await store.deliveries(in: state, limit: limit) }
    public func deliveries(ofBulletin issuer: String, id: String) async throws(LedgerError) -> [Delivery] { try await store.deliveries(ofBulletin: issuer, id: id) }
    public func attempts(of sequence: Int) async throws(LedgerError) -> [DeliveryAttempt] { try await store.attempts(of: sequence) }
    public func deliveryCounts() async throws(LedgerError) -> [DeliveryState: Int] { try await store.deliveryCounts() }
    public func retry(_ sequences: [Int]?, at timestamp: String, now: Int64) async throws(LedgerError) -> Int {
        try await store.retry(sequences, at: timestamp, now: now)
    }
}
