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

/// What one line of the delivery log records.
public enum DeliveryOutcome: String, Sendable, CaseIterable {
    /// A push the endpoint answered 2xx.
    case delivered
    /// A push that failed; another follows after the backoff.
    case failed
    /// The last allowed push failed: a dead letter.
    case dead
    /// The recipient acknowledged the delivery.
    case acknowledged
    /// An operator put the dead letter back in the outbox.
    case retryRequested = "retry-requested"
}

/// One line of the delivery log: what one push attempt (or an operator) did.
public struct DeliveryAttempt: Sendable, Equatable {
    /// The delivery.
    public var sequence: Int
    /// The attempt number (0 for an operator's retry).
    public var attempt: Int
    /// When (RFC 3339).
    public var at: String
    /// What happened.
    public var outcome: DeliveryOutcome
    /// The answer or error, in words.
    public var detail: String
    /// The backoff chosen before the next attempt, in milliseconds.
    public var retryInMilliseconds: Int?
}

/// What a push attempt came to, for ``LedgerStore/record(_:for:at:now:)``.
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

extension PushResult {
    /// The state the delivery moves to, the delivery-log outcome, the error kept, the detail logged and the
    /// backoff, for an attempt at `now` (Unix ms): one mapping for every store.
    func transition(now: Int64) -> (state: DeliveryState, outcome: DeliveryOutcome, nextAttemptAt: Int64, lastError: String?, detail: String, retryIn: Int?) {
        switch self {
        case .delivered(let detail): (.delivered, .delivered, now, nil, detail, nil)
        case .retry(let detail, let delay): (.pending, .failed, now + Int64(delay), detail, detail, delay)
        case .dead(let detail): (.dead, .dead, now, detail, detail, nil)
        }
    }
}
