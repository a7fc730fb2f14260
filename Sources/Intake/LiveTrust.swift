import Synchronization
import Trust

/// The trust store and the participants in force, replaced whole when their files change (a reload): every
/// request reads the snapshot of the moment, so a certificate revoked by a new CRL is refused from the next
/// request on, on connections opened before too, and a request never sees half of a reload.
public final class LiveTrust: Sendable {
    /// What is in force.
    public struct Snapshot: Sendable {
        /// Roots, intermediates and CRLs.
        public let trust: TrustStore
        /// The participants, by code.
        public let participants: [String: Participant]
        /// The participants in the file's order (the order recipients are routed in).
        public let listed: [Participant]

        /// Creates a snapshot.
        public init(trust: TrustStore, participants: [Participant]) {
            self.trust = trust
            self.participants = Dictionary(participants.map { ($0.code, $0) }, uniquingKeysWith: { first, _ in first })
            listed = participants
        }
    }

    private let current: Mutex<Snapshot>

    /// The trust and participants of the configuration the gateway started with.
    public init(_ snapshot: Snapshot) {
        current = Mutex(snapshot)
    }

    /// What is in force now.
    public var snapshot: Snapshot { current.withLock { $0 } }

    /// Puts `snapshot` in force, at once for every later request.
    public func replace(with snapshot: Snapshot) {
        current.withLock { $0 = snapshot }
    }
}
