/// The result of folding facts up to an as-of date.
public struct Evaluation: Sendable, Equatable {
    /// The as-of date.
    public var asOf: CalendarDate
    /// Every person known from the facts, sorted by person code.
    public var persons: [PersonState]
    /// Indicators of every institution named in acts or registrations, for the as-of year, sorted by code.
    public var institutions: [InstitutionIndicators]
    /// Facts that were not applied, or applied with a remark, with the reason; sorted by fact.
    public var diagnostics: [Diagnostic]
}

/// A person's state on the as-of date.
public struct PersonState: Sendable, Equatable {
    /// The personnel code.
    public var person: String
    /// The calendar year of the as-of date.
    public var year: Int
    /// The yearly total on the as-of date.
    public var points: Int
    /// The status on the as-of date.
    public var status: RegistrationStatus
    /// Suspended: the first day the suspension no longer applies (nil when open-ended or awaiting
    /// restoration); terminated: the first day re-registration is allowed; normal: nil.
    public var until: CalendarDate?
    /// The notices of the latest act on or before the as-of date, sorted.
    public var actions: [Notice]
    /// Open items: `overdue-restoration`, `pending-final-decision`.
    public var items: [String]
    /// What happened, in the order applied (filled when explanations are asked for).
    public var history: [HistoryEntry]
    /// With an `overdue-restoration` item: the day the suspension ended (the restoration was due by then).
    public var suspensionEnded: CalendarDate?
    /// The practice notices on the person's file (decided on or before the as-of date, not withdrawn), by
    /// decision date and id; each says whether it bars billing on the as-of date.
    public var practice: [PracticeRecord] = []
    /// The blocking practice event in force on the as-of date that decides the reason when the status does
    /// not (the first of the pack's `practice.blockingEvents` in force); nil when none is.
    public var practiceBar: PracticeEvent?
    /// The referrals of the person issued by the as-of date, with their replies and where each stands.
    public var referrals: [ReferralRecord] = []

    /// Creates a state.
    public init(person: String, year: Int, points: Int, status: RegistrationStatus, until: CalendarDate?,
                actions: [Notice], items: [String], history: [HistoryEntry], suspensionEnded: CalendarDate? = nil) {
        self.suspensionEnded = suspensionEnded
        self.person = person
        self.year = year
        self.points = points
        self.status = status
        self.until = until
        self.actions = actions
        self.items = items
        self.history = history
    }
}

extension PersonState {
    /// Whether the person may bill the fund on the as-of date, and why: the status decides first
    /// (`terminated`, `suspended`, `suspended-open-ended`), then a blocking practice notice
    /// (`practice-suspended`, `registration-cancelled`), else `normal` (exchange-flows.md §8 precedence).
    /// `status`, `until` and `points` are never changed by a practice notice.
    public var eligibility: Eligibility {
        switch status {
        case .terminated: Eligibility(eligible: false, reason: "terminated")
        case .suspended: Eligibility(eligible: false, reason: until == nil ? "suspended-open-ended" : "suspended")
        case .normal: practiceBar.map { Eligibility(eligible: false, reason: $0.rawValue) } ?? Eligibility(eligible: true, reason: "normal")
        }
    }
}

/// What a settlement system asks: may this person bill the fund on a date, and the reason.
public struct Eligibility: Sendable, Equatable {
    /// Whether the person may bill the fund.
    public var eligible: Bool
    /// `normal`, a status reason or a practice reason (``PersonState/eligibility``).
    public var reason: String

    /// Creates an answer.
    public init(eligible: Bool, reason: String) {
        self.eligible = eligible
        self.reason = reason
    }
}

/// A practice notice on a person's file, and whether it bars billing on the as-of date.
public struct PracticeRecord: Sendable, Equatable {
    /// The notice.
    public var notice: PracticeNoticeFact
    /// Whether its event is one of the pack's blocking events and it is in force on the as-of date.
    public var blocking: Bool
}

/// One person's state with a new fact, and without it when the fold could give both at once
/// (``Scorer/change(of:adding:to:asOf:history:)``).
public struct PersonChange: Sendable, Equatable {
    /// The state without the fact; nil when it was not folded alongside (fold the facts alone for it).
    public var before: PersonState?
    /// The state with the fact.
    public var after: PersonState
}

/// Which applied facts a fold records in each person's history (``PersonState/history``). Recording
/// builds texts for every fact, so a fold that records nothing, or one fact, costs much less.
public enum HistoryScope: Sendable, Hashable {
    /// No history: the state alone (eligibility, replay without `--explain`).
    case none
    /// Every applied fact (`--explain`, a person's file).
    case all
    /// Only this fact: what intake needs to tell a person what one act did, whatever their file holds.
    case only(FactID)

    /// Whether `fact` is recorded.
    @inline(__always)
    func includes(_ fact: FactID) -> Bool {
        switch self {
        case .none: false
        case .all: true
        case .only(let recorded): recorded == fact
        }
    }
}

extension PersonState {
    /// The state of a person no fact names: normal, with 0 points in the year of `asOf`.
    public static func unknown(_ person: String, asOf: CalendarDate) -> PersonState {
        PersonState(person: person, year: asOf.year, points: 0, status: .normal, until: nil, actions: [], items: [], history: [])
    }
}

/// What kind of fact an event of a person's timeline is; the order is also the order of one day's events
/// in the fold (registration, act, agreement resumption, repair, restoration).
public enum FactKind: UInt8, Sendable, Comparable, CaseIterable {
    case registration = 0
    case act
    case agreementResumed
    case repair
    case restoration
    /// A practice notice: on the person's file, never a scoring event.
    case practice
    /// A referral or a reply to one: on the person's file, never a scoring event.
    case referral

    /// The name in `--explain` and the person file (`act`, `agreement-resumed`, …).
    public var name: String {
        switch self {
        case .registration: "registration"
        case .act: "act"
        case .agreementResumed: "agreement-resumed"
        case .repair: "repair"
        case .restoration: "restoration"
        case .practice: "practice"
        case .referral: "referral"
        }
    }

    public static func < (lhs: FactKind, rhs: FactKind) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One applied fact in a person's history, for `--explain`.
public struct HistoryEntry: Sendable, Equatable {
    /// The fact.
    public var fact: FactID
    /// The kind of fact.
    public var kind: FactKind
    /// The date it took effect in the fold (the score date for acts).
    public var date: CalendarDate
    /// For acts: the per-finding arithmetic.
    public var points: ActPoints?
    /// Points added (acts) or removed (repairs, negative).
    public var change: Int
    /// The yearly total after the fact.
    public var total: Int
    /// What happened to the status, in words, with the pack keys used.
    public var outcome: String
    /// The pack keys used.
    public var keys: [String]
}

/// A remark about a fact: not applied, or applied with a note (a late restoration application…).
public struct Diagnostic: Sendable, Equatable {
    /// The fact.
    public var fact: FactID
    /// A stable code.
    public var code: String
    /// What happened, in words.
    public var message: String
    /// Whether the fact was applied despite the remark.
    public var applied: Bool
}

/// An institution's indicators for a year (scoring.md §7).
public struct InstitutionIndicators: Sendable, Equatable {
    /// The institution code.
    public var institution: String
    /// The year.
    public var year: Int
    /// Person-times (人次) that became suspended or terminated through acts at the institution.
    public var sanctionedPersonTimes: Int
    /// Persons registered at the institution during the year (or named in its acts).
    public var registeredPersons: Int
    /// Whether sanctioned person-times exceed the pack's share of registered persons.
    public var overThreshold: Bool
    /// Whether the institution had a fraud-flagged act in the year (key supervision, 重点监管).
    public var keySupervision: Bool
    /// The fraud-flagged acts.
    public var fraudActs: [FactID]

    /// Creates indicators.
    public init(institution: String, year: Int, sanctionedPersonTimes: Int, registeredPersons: Int, overThreshold: Bool,
                keySupervision: Bool, fraudActs: [FactID]) {
        self.institution = institution
        self.year = year
        self.sanctionedPersonTimes = sanctionedPersonTimes
        self.registeredPersons = registeredPersons
        self.overThreshold = overThreshold
        self.keySupervision = keySupervision
        self.fraudActs = fraudActs
    }
}
