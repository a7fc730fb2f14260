/// Where one outbound bulletin stands for one recipient (gateway.md §5).
public enum DeliveryState: String, Sendable, CaseIterable {
    /// Waiting: for the next push attempt, or for the recipient to pull it.
    case pending
    /// Pushed: the recipient's endpoint answered 2xx.
    case delivered
    /// The recipient acknowledged it (`POST /v1/inbox/ack`).
    case acknowledged
    /// Push attempts reached the limit; an operator must look (`tongbao outbox retry`).
    case dead
}

/// One outbound bulletin addressed to one recipient: a row of the per-recipient outbox.
public struct Delivery: Sendable, Equatable {
    /// The outbox sequence number: the recipient's inbox cursor.
    public var sequence: Int
    /// The bulletin's position in the message log.
    public var position: Int
    /// The recipient's participant code.
    public var recipient: String
    /// The bulletin's issuer.
    public var issuer: String
    /// The bulletin's id.
    public var id: String
    /// The bulletin type.
    public var type: String
    /// Where it stands.
    public var state: DeliveryState
    /// Push attempts so far.
    public var attempts: Int
    /// When the next push attempt is due (Unix milliseconds).
    public var nextAttemptAt: Int64
    /// The last push failure, in words.
    public var lastError: String?
    /// When the state last changed (RFC 3339).
    public var updatedAt: String
}

/// A delivery with the exact bytes to deliver.
public struct OutboundMessage: Sendable, Equatable {
    /// The delivery.
    public var delivery: Delivery
    /// The signed bulletin, exactly as logged.
    public var bytes: [UInt8]
}

/// One line of the delivery log: what one push attempt (or an operator) did.
public struct DeliveryAttempt: Sendable, Equatable {
    /// The delivery.
    public var sequence: Int
    /// The attempt number (0 for an operator's retry).
    public var attempt: Int
    /// When (RFC 3339).
    public var at: String
    /// `delivered`, `failed`, `dead`, `acknowledged` or `retry-requested`.
    public var outcome: String
    /// The answer or error, in words.
    public var detail: String
    /// The backoff chosen before the next attempt, in milliseconds.
    public var retryInMilliseconds: Int?
}

/// What a push attempt came to, for ``Outbox/record(_:for:at:now:)``.
public enum PushResult: Sendable, Equatable {
    /// The endpoint answered 2xx.
    case delivered(detail: String)
    /// It failed; try again after the backoff, in milliseconds.
    case retry(detail: String, afterMilliseconds: Int)
    /// It failed for the last allowed time: dead letter.
    case dead(detail: String)
}

/// An outbound bulletin the gateway issues itself, logged in the same transaction as its cause.
public struct IssuedBulletin: Sendable, Equatable {
    /// The log entry (outcome `issued`, sender the gateway).
    public var entry: NewEntry
    /// Its recipients.
    public var recipients: [String]

    /// Creates an issued bulletin.
    public init(entry: NewEntry, recipients: [String]) {
        self.entry = entry
        self.recipients = recipients
    }
}

/// The per-recipient outbox and its delivery log, kept in the same database as the message log so that a
/// fact and the bulletins it causes are committed together.
public protocol Outbox: Sendable {
    /// The recipient's deliveries after the cursor `sequence`, in order, at most `limit` (pull).
    func inbox(of recipient: String, after sequence: Int, limit: Int) throws(LedgerError) -> [OutboundMessage]
    /// Marks the recipient's deliveries acknowledged; returns how many were its own and not yet acknowledged.
    func acknowledge(_ sequences: [Int], by recipient: String, at timestamp: String) throws(LedgerError) -> Int
    /// Pending deliveries to `recipients` whose next attempt is due at `now` (Unix ms), oldest first.
    func due(to recipients: Set<String>, now: Int64, limit: Int) throws(LedgerError) -> [OutboundMessage]
    /// Records a push attempt and moves the delivery on.
    func record(_ result: PushResult, for sequence: Int, at timestamp: String, now: Int64) throws(LedgerError)
    /// Deliveries, newest first; only those in `state` when given.
    func deliveries(in state: DeliveryState?, limit: Int) throws(LedgerError) -> [Delivery]
    /// Every recipient's delivery of one bulletin (a broadcast's receipt ledger).
    func deliveries(ofBulletin issuer: String, id: String) throws(LedgerError) -> [Delivery]
    /// The delivery log of one delivery, in order.
    func attempts(of sequence: Int) throws(LedgerError) -> [DeliveryAttempt]
    /// The number of deliveries in each state.
    func deliveryCounts() throws(LedgerError) -> [DeliveryState: Int]
    /// Puts dead deliveries back to pending with a fresh attempt count (all dead ones when `sequences` is
    /// nil); returns how many.
    func retry(_ sequences: [Int]?, at timestamp: String, now: Int64) throws(LedgerError) -> Int
}
