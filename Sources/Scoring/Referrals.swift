/// A referral the gateway issued (移送, GD 第六条): a sanction the sector regulator is asked to follow up.
/// It is a fact of the person's file and of the deadline report; it never scores.
public struct ReferralFact: Sendable, Hashable {
    /// The sanction referred.
    public enum Sanction: String, Sendable, Hashable, CaseIterable {
        case suspended, terminated, lifted
    }

    /// The referral's identity (the gateway's code and the `REF-` id).
    public var id: FactID
    /// The person.
    public var person: String
    /// The sanction, or `lifted` when an earlier one ended.
    public var sanction: Sanction
    /// The first day of the sanction (or of its end).
    public var from: CalendarDate
    /// The sanction's end, when it has one.
    public var until: CalendarDate?
    /// The referral's issue date: the China date of its `issuedAt`. The reply period counts from it (D13).
    public var issuedOn: CalendarDate
    /// Its `issuedAt` in seconds since 1970: which of a person's referrals came later, also within a day.
    public var issuedAt: Int
    /// Its log position, when it was read from the log: the order of two referrals issued in one second.
    public var position: Int?
    /// The respond-by date the referral carries, as issued.
    public var respondBy: CalendarDate?
    /// The region it was issued for.
    public var region: String
    /// The bulletin that caused it.
    public var cause: FactID

    /// Creates a referral.
    /// Without `issuedAt`, the start of `issuedOn` in China.
    public init(id: FactID, person: String, sanction: Sanction, from: CalendarDate, until: CalendarDate? = nil, issuedOn: CalendarDate,
                issuedAt: Int? = nil, position: Int? = nil, respondBy: CalendarDate? = nil, region: String, cause: FactID) {
        self.position = position
        self.id = id
        self.person = person
        self.sanction = sanction
        self.from = from
        self.until = until
        self.issuedOn = issuedOn
        self.issuedAt = issuedAt ?? issuedOn.dayNumber * 86_400 - 8 * 3600
        self.respondBy = respondBy
        self.region = region
        self.cause = cause
    }
}

extension ReferralFact {
    /// Whether this referral, issued after `earlier` for the same person, replaces it (D14): it was issued
    /// while the earlier sanction still ran (before its `until`, or at any time for an open-ended one), so it
    /// states the person's current sanction, lifted or changed. A new case after the earlier sanction ended
    /// leaves the earlier referral's follow-up as it is.
    public func replaces(_ earlier: ReferralFact) -> Bool {
        person == earlier.person && id != earlier.id && earlier.sanction != .lifted && earlier.until.map { issuedOn < $0 } ?? true
    }
}

/// A regulator's reply to a referral (`ReferralReply`, 移送处理反馈). It never scores and never changes a
/// status (D11): a result that is a scoring fact arrives as its own bulletin, named in `related`.
public struct ReferralReplyFact: Sendable, Hashable {
    /// Whether handling is still under way.
    public enum Stage: String, Sendable, Hashable, CaseIterable {
        case interim, final
    }

    /// What the regulator did.
    public enum Result: String, Sendable, Hashable, CaseIterable {
        case noAction = "no-action"
        case education
        case orderedCorrection = "ordered-correction"
        case warning
        case fined
        case practiceSuspended = "practice-suspended"
        case licenceRevoked = "licence-revoked"
        case transferred
        case investigating
    }

    /// The reply's identity.
    public var id: FactID
    /// The referral answered.
    public var referral: FactID
    /// Interim or final.
    public var stage: Stage
    /// The result.
    public var result: Result
    /// The date of the result or interim report.
    public var decidedOn: CalendarDate
    /// The regulator's handling document.
    public var decisionNo: String?
    /// With an interim reply: when the final one will come.
    public var expectedBy: CalendarDate?
    /// The day the gateway accepted it (China date): what meets a reply deadline.
    public var acceptedOn: CalendarDate
    /// The bulletins carrying the result as facts.
    public var related: [FactID]

    /// Creates a reply.
    public init(id: FactID, referral: FactID, stage: Stage, result: Result, decidedOn: CalendarDate, decisionNo: String? = nil,
                expectedBy: CalendarDate? = nil, acceptedOn: CalendarDate, related: [FactID] = []) {
        self.id = id
        self.referral = referral
        self.stage = stage
        self.result = result
        self.decidedOn = decidedOn
        self.decisionNo = decisionNo
        self.expectedBy = expectedBy
        self.acceptedOn = acceptedOn
        self.related = related
    }
}

/// A referral on the person's file with its replies, where it stands on the as-of date, and its deadlines.
public struct ReferralRecord: Sendable, Equatable {
    /// Where a referral stands.
    public enum State: String, Sendable, CaseIterable {
        /// Waiting for a reply, not yet due.
        case open
        /// An interim reply came; the final one is not due yet.
        case answeredInterim = "answered-interim"
        /// A final reply came, or the referral needs none (a `lifted` one).
        case closed
        /// A reply (or the final one) is due and has not come.
        case overdue
        /// A later referral of the person replaced it before it was answered (D14).
        case cancelled
    }

    /// The referral.
    public var referral: ReferralFact
    /// Its replies accepted by the as-of date, in the order accepted.
    public var replies: [ReferralReplyFact]
    /// The reply due date (`referral-reply`), counted from the issue date; nil for a `lifted` referral.
    public var respondBy: CalendarDate?
    /// Whether `respondBy` was counted through a year the calendar does not hold.
    public var respondByProvisional: Bool
    /// Where it stands.
    public var state: State
    /// Its deadline steps (`referral-reply`, `referral-final`) and where each stands.
    public var deadlines: [ReferralDeadline]
}

/// One step of a referral's follow-up and where it stands.
public struct ReferralDeadline: Sendable, Equatable {
    /// `referral-reply` or `referral-final`.
    public var step: String
    /// The due date.
    public var due: CalendarDate
    /// Where it stands (``DeadlineItem/State``).
    public var state: DeadlineItem.State
    /// Whether the due date was counted through a year the calendar does not hold.
    public var provisional: Bool
}

/// The follow-up of a person's referrals (exchange-flows.md §2): the reply period of each, which later
/// referral replaced which, and where each stands on a date. Pure: the same facts and date give the same
/// records, whatever order the facts came in.
public enum ReferralFollowUp {
    /// The records of `referrals` with `replies` (each reply's referral among them), on `asOf`, in the order
    /// issued. A referral is replaced by a later one of the same person issued while its sanction still
    /// ran (a lifted or changed sanction): its steps still open then are `cancelled` (D14).
    public static func records(_ referrals: [ReferralFact], replies: [ReferralReplyFact], asOf: CalendarDate, pack: RulePack,
                               calendar: WorkingDayCalendar?) -> [ReferralRecord] {
        let ordered = inOrder(referrals.filter { $0.issuedOn <= asOf })
        var byReferral: [FactID: [ReferralReplyFact]] = [:]
        for reply in replies where reply.acceptedOn <= asOf { byReferral[reply.referral, default: []].append(reply) }
        return ordered.enumerated().map { index, referral in
            let answers = (byReferral[referral.id] ?? []).sorted { ($0.acceptedOn, $0.id) < ($1.acceptedOn, $1.id) }
            let replacedOn = ordered[(index + 1)...].first { $0.replaces(referral) }?.issuedOn
            return record(referral, replies: answers, replacedOn: replacedOn, asOf: asOf, pack: pack, calendar: calendar)
        }
    }

    /// A person's referrals in the order the gateway issued them (by `issuedAt`, then log position when
    /// both are known, then id).
    public static func inOrder(_ referrals: [ReferralFact]) -> [ReferralFact] {
        referrals.sorted(by: isBefore)
    }

    static func isBefore(_ lhs: ReferralFact, _ rhs: ReferralFact) -> Bool {
        if lhs.issuedAt != rhs.issuedAt { return lhs.issuedAt < rhs.issuedAt }
        if let left = lhs.position, let right = rhs.position, left != right { return left < right }
        return lhs.id < rhs.id
    }

    /// The first referral of `referrals` issued after `referral` that replaces it, if any.
    public static func replacement(of referral: ReferralFact, among referrals: [ReferralFact]) -> ReferralFact? {
        inOrder(referrals).first { isBefore(referral, $0) && $0.replaces(referral) }
    }

    /// The reply due date of a referral issued on `issuedOn`: `referral.replyWorkingDays` working days later
    /// (D12, D13), or nil without a calendar.
    public static func replyDue(issuedOn: CalendarDate, pack: RulePack, calendar: WorkingDayCalendar?) -> WorkingDayCalendar.CountedDate? {
        calendar?.countWorkingDays(pack.referral.replyWorkingDays, from: issuedOn)
    }

    private static func record(_ referral: ReferralFact, replies: [ReferralReplyFact], replacedOn: CalendarDate?, asOf: CalendarDate,
                               pack: RulePack, calendar: WorkingDayCalendar?) -> ReferralRecord {
        guard referral.sanction != .lifted else {
            return ReferralRecord(referral: referral, replies: replies, respondBy: nil, respondByProvisional: false, state: .closed, deadlines: [])
        }
        var deadlines: [ReferralDeadline] = []
        let due = replyDue(issuedOn: referral.issuedOn, pack: pack, calendar: calendar)
        if let due {
            deadlines.append(ReferralDeadline(step: "referral-reply", due: due.date,
                                              state: state(doneOn: replies.first?.acceptedOn, due: due.date, replacedOn: replacedOn, asOf: asOf),
                                              provisional: due.provisional))
        }
        let final = replies.first { $0.stage == .final }
        // The final reply is due when the last interim reply before it said it would come.
        let interim = replies.last { reply in reply.stage == .interim && final.map { reply.acceptedOn <= $0.acceptedOn } ?? true }
        if let expected = interim?.expectedBy {
            deadlines.append(ReferralDeadline(step: "referral-final", due: expected,
                                              state: state(doneOn: final?.acceptedOn, due: expected, replacedOn: replacedOn, asOf: asOf),
                                              provisional: false))
        }
        let recordState: ReferralRecord.State
        if final != nil {
            recordState = .closed
        } else if deadlines.contains(where: { $0.state == .overdue }) {
            recordState = .overdue
        } else if let replacedOn, replacedOn <= asOf {
            recordState = .cancelled
        } else if replies.isEmpty {
            recordState = .open
        } else {
            recordState = .answeredInterim
        }
        return ReferralRecord(referral: referral, replies: replies, respondBy: due?.date, respondByProvisional: due?.provisional ?? false,
                              state: recordState, deadlines: deadlines)
    }

    /// A step done on `doneOn` (nil: not yet), due on `due`: met or late once done before any replacement;
    /// cancelled when a later referral replaced it while it was still open (by its due date); else overdue
    /// after the due date, open until then. An overdue step stays overdue: its notice has gone out.
    private static func state(doneOn: CalendarDate?, due: CalendarDate, replacedOn: CalendarDate?, asOf: CalendarDate) -> DeadlineItem.State {
        if let doneOn, replacedOn.map({ doneOn <= $0 }) ?? true { return doneOn <= due ? .met : .late }
        if let replacedOn, replacedOn <= asOf, replacedOn <= due { return .cancelled }
        return due < asOf ? .overdue : .open
    }
}
