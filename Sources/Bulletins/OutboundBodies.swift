import Scoring

/// A reference to a decision bulletin, with its document number for a human reader.
public struct DecisionRef: Sendable, Equatable {
    /// The issuer.
    public var issuer: String
    /// The bulletin id.
    public var id: String
    /// The decision's document number (文号).
    public var decisionNo: String?
}

/// The body of a `PracticeNotice`: a practice event about a person from the health or drug regulator.
public struct PracticeNoticeBody: Sendable, Equatable {
    /// What happened.
    public enum Event: String, Sendable, Hashable, CaseIterable {
        case practiceSuspended = "practice-suspended"
        case assessmentFailed = "assessment-failed"
        case registrationChanged = "registration-changed"
        case registrationCancelled = "registration-cancelled"
    }

    public var decisionNo: String
    public var decidedOn: CalendarDate
    public var person: PersonRef
    public var institutions: [String]
    public var event: Event
    public var effectiveFrom: CalendarDate
    public var effectiveUntil: CalendarDate?
    public var certificate: Certificate?
    public var detail: String?
}

/// The body of a `SuspectedViolation`: found by a sector regulator, queued for the insurance agency.
public struct SuspectedViolationBody: Sendable, Equatable {
    public var caseNo: String
    public var foundOn: CalendarDate
    public var institution: InstitutionRef
    public var persons: [PersonRef]
    public var situations: [SituationCode]
    public var description: String
    public var evidence: [String]
    public var replyBy: CalendarDate?
}

/// The body of a `Referral` (移送): a sanction sent to the sector regulator for follow-up.
public struct ReferralBody: Sendable, Equatable {
    /// The sanction referred.
    public enum Sanction: String, Sendable, Hashable, CaseIterable {
        case suspended, terminated
    }

    public var person: PersonRef
    public var institutions: [String]
    public var sanction: Sanction
    public var from: CalendarDate
    /// Suspended: the first day it no longer applies; terminated: the first day re-registration is allowed.
    public var until: CalendarDate?
    public var points: Int
    public var year: Int
    public var rules: String
    public var cause: DecisionRef
    public var followUp: String?
    public var respondBy: CalendarDate?
}

/// One person in a `ScoreBulletin`.
public struct ScoredPerson: Sendable, Equatable {
    public var person: PersonRef
    public var points: Int
    public var status: RegistrationStatus
    public var until: CalendarDate?
}

/// One institution's entry in a `ScoreBulletin`.
public struct ScoreBulletinEntry: Sendable, Equatable {
    public var institution: InstitutionRef
    public var registeredPersons: Int
    public var sanctionedPersonTimes: Int
    public var persons: [ScoredPerson]
}

/// The body of a `ScoreBulletin` (定期通报): persons scored and sanctioned in a period, per institution.
public struct ScoreBulletinBody: Sendable, Equatable {
    public var periodFrom: CalendarDate
    public var periodTo: CalendarDate
    public var rules: String
    public var institutions: [ScoreBulletinEntry]
}

/// The body of a `CreditRating`: an institution's credit inputs from personnel scores.
public struct CreditRatingBody: Sendable, Equatable {
    /// A credit grade, when the credit system derives one.
    public enum Grade: String, Sendable, Hashable, CaseIterable {
        case a = "A", b = "B", c = "C", d = "D", e = "E"
    }

    public var institution: InstitutionRef
    public var year: Int
    public var asOf: CalendarDate
    public var registeredPersons: Int
    public var scoredPersons: Int
    public var sanctionedPersonTimes: Int
    public var overThreshold: Bool
    public var keySupervision: Bool
    public var fraudActs: [BulletinRef]
    public var grade: Grade?
}

/// The body of a `ScoreNotice` to the insurance agency.
public struct ScoreNoticeBody: Sendable, Equatable {
    /// What the notice is about.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case score
        case overdueDeadline = "overdue-deadline"
        case overdueRestoration = "overdue-restoration"
        case overThreshold = "over-threshold"
    }

    /// A workflow deadline.
    public struct Deadline: Sendable, Equatable {
        public var step: String
        public var due: CalendarDate
    }

    public var notice: Kind
    public var person: PersonRef?
    public var institutions: [String]
    public var act: DecisionRef?
    public var points: Int?
    public var yearTotal: Int?
    public var status: RegistrationStatus?
    public var until: CalendarDate?
    public var actions: [Notice]
    public var deadline: Deadline?
    public var detail: String?
}

/// The body of a `Receipt`: the gateway's acknowledgement of one submitted bulletin.
public struct ReceiptBody: Sendable, Equatable {
    /// Accepted or rejected.
    public enum Outcome: String, Sendable, Hashable, CaseIterable {
        case accepted, rejected
    }

    /// Why a bulletin was rejected.
    public struct Rejection: Sendable, Equatable {
        public var code: String
        public var message: String
    }

    public var bulletin: BulletinRef
    public var sha256: String
    public var receivedAt: String
    public var outcome: Outcome
    public var error: Rejection?
    public var logPosition: Int?
}
