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
    /// What happened (the core's vocabulary: whether it bars eligibility is a pack setting).
    public typealias Event = PracticeEvent

    /// The decision's document number (文号).
    public var decisionNo: String
    /// The decision date.
    public var decidedOn: CalendarDate
    /// The person concerned.
    public var person: PersonRef
    /// The institutions where the person is registered (all of them, for multi-site practice).
    public var institutions: [String]
    /// What happened.
    public var event: Event
    /// The first day the event applies.
    public var effectiveFrom: CalendarDate
    /// The first day it no longer applies, when it ends.
    public var effectiveUntil: CalendarDate?
    /// The certificate concerned, if any.
    public var certificate: Certificate?
    /// Further detail in words.
    public var detail: String?
}

/// The body of a `SuspectedViolation`: found by a sector regulator, queued for the insurance agency.
public struct SuspectedViolationBody: Sendable, Equatable {
    /// The regulator's case number.
    public var caseNo: String
    /// The date the suspected violation was found.
    public var foundOn: CalendarDate
    /// The institution.
    public var institution: InstitutionRef
    /// The persons concerned.
    public var persons: [PersonRef]
    /// The suspected situations (scoring.md §3).
    public var situations: [SituationCode]
    /// What was found, in words.
    public var description: String
    /// References to the evidence held.
    public var evidence: [String]
    /// The date the regulator asks for an answer by.
    public var replyBy: CalendarDate?
}

/// The body of a `Referral` (移送): a sanction sent to the sector regulator for follow-up.
public struct ReferralBody: Sendable, Equatable {
    /// The sanction referred: a new or changed suspension or termination, or `lifted` when a correction
    /// withdrew the decision a referral was made for (the follow-up ends).
    public typealias Sanction = ReferralFact.Sanction

    /// The person concerned.
    public var person: PersonRef
    /// The institutions where the person is registered (all of them, for multi-site practice).
    public var institutions: [String]
    /// The sanction referred.
    public var sanction: Sanction
    /// The first day of the sanction.
    public var from: CalendarDate
    /// Suspended: the first day it no longer applies; terminated: the first day re-registration is allowed.
    public var until: CalendarDate?
    /// The points.
    public var points: Int
    /// The calendar year of the points.
    public var year: Int
    /// The rule pack the sanction follows from.
    public var rules: String
    /// The decision that caused it.
    public var cause: DecisionRef
    /// What the recipient is asked to do.
    public var followUp: String?
    /// The date a response is due by.
    public var respondBy: CalendarDate?
    /// True when `respondBy` was counted through a year the working-day calendar did not hold yet
    /// (weekdays only): the day may move once the State Council's arrangement for that year is loaded.
    public var respondByProvisional: Bool?
}

/// The body of a `ReferralReply`: a sector regulator's answer to a referral (移送处理反馈, GD 第六条, JN 三).
public struct ReferralReplyBody: Sendable, Equatable {
    /// Interim (handling under way) or final.
    public typealias Stage = ReferralReplyFact.Stage
    /// What the regulator did.
    public typealias Result = ReferralReplyFact.Result

    /// The referral answered (its issuer is the gateway).
    public var referral: BulletinRef
    /// Interim or final.
    public var stage: Stage
    /// The date of the result or of the interim report.
    public var decidedOn: CalendarDate
    /// The regulator's handling document.
    public var decisionNo: String?
    /// The result (`investigating` with an interim reply only).
    public var result: Result
    /// With an interim reply: when the final one will come (after `decidedOn`).
    public var expectedBy: CalendarDate?
    /// Bulletins carrying the result as facts (a `LicenceRevocation`, a `PracticeNotice`).
    public var related: [BulletinRef]
    /// Further detail in words.
    public var detail: String?
}

/// One person in a `ScoreBulletin`.
public struct ScoredPerson: Sendable, Equatable {
    /// The person concerned.
    public var person: PersonRef
    /// The points.
    public var points: Int
    /// Points scored in the period.
    public var scoredInPeriod: Int?
    /// Points repaired in the period.
    public var repairedInPeriod: Int?
    /// The registration status.
    public var status: RegistrationStatus
    /// Suspended: the first day it no longer applies; terminated: the first day re-registration is allowed.
    public var until: CalendarDate?
}

/// One institution's entry in a `ScoreBulletin`.
public struct ScoreBulletinEntry: Sendable, Equatable {
    /// The institution.
    public var institution: InstitutionRef
    /// Persons registered at the institution.
    public var registeredPersons: Int
    /// Person-times (人次) suspended or terminated at the institution.
    public var sanctionedPersonTimes: Int
    /// The persons concerned.
    public var persons: [ScoredPerson]
}

/// The body of a `ScoreBulletin` (定期通报): persons scored and sanctioned in a period, per institution.
public struct ScoreBulletinBody: Sendable, Equatable {
    /// The first day of the period.
    public var periodFrom: CalendarDate
    /// The last day of the period.
    public var periodTo: CalendarDate
    /// The rule pack the sanction follows from.
    public var rules: String
    /// The institutions where the person is registered (all of them, for multi-site practice).
    public var institutions: [ScoreBulletinEntry]
}

/// The body of a `CreditRating`: an institution's credit inputs from personnel scores.
public struct CreditRatingBody: Sendable, Equatable {
    /// A credit grade, when the credit system derives one.
    public enum Grade: String, Sendable, Hashable, CaseIterable {
        case a = "A", b = "B", c = "C", d = "D", e = "E"
    }

    /// The institution.
    public var institution: InstitutionRef
    /// The calendar year of the points.
    public var year: Int
    /// The date the inputs are computed for.
    public var asOf: CalendarDate
    /// Persons registered at the institution.
    public var registeredPersons: Int
    /// Persons scored in the year.
    public var scoredPersons: Int
    /// Person-times (人次) suspended or terminated at the institution.
    public var sanctionedPersonTimes: Int
    /// Whether sanctioned person-times exceed the pack's share of registered persons.
    public var overThreshold: Bool
    /// Whether the institution had a fraud-flagged act in the year (重点监管).
    public var keySupervision: Bool
    /// The sum of the year's points of the institution's scored persons.
    public var points: Int?
    /// Persons suspended on `asOf`.
    public var suspendedPersons: Int?
    /// Persons terminated on `asOf`.
    public var terminatedPersons: Int?
    /// Sanctioned person-times per thousand registered persons (the over-threshold ratio).
    public var sanctionedPerMille: Int?
    /// The fraud-flagged acts.
    public var fraudActs: [BulletinRef]
    /// The score on the credit model's 100-point scale.
    public var score: Int?
    /// The credit model that gave `score` and `grade`.
    public var model: String?
    /// The credit grade, when the credit system derives one.
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
        /// An institution's first fraud-flagged act of a year: it is now under key supervision (重点监管, D41).
        case keySupervision = "key-supervision"
        /// A second agreement suspension within the pack's window: a ground for ending the agreement (D34).
        case terminationGround = "termination-ground"
    }

    /// A workflow deadline.
    public struct Deadline: Sendable, Equatable {
        /// The workflow step (a deadline name of the rule pack).
        public var step: String
        /// The day the step was due.
        public var due: CalendarDate
        /// True when `due` was counted through a year the working-day calendar did not hold yet.
        public var provisional: Bool?
    }

    /// What the notice is about.
    public var notice: Kind
    /// The person concerned.
    public var person: PersonRef?
    /// The institutions where the person is registered (all of them, for multi-site practice).
    public var institutions: [String]
    /// The scoring act concerned.
    public var act: DecisionRef?
    /// The points.
    public var points: Int?
    /// The person's yearly total after the act.
    public var yearTotal: Int?
    /// The registration status.
    public var status: RegistrationStatus?
    /// Suspended: the first day it no longer applies; terminated: the first day re-registration is allowed.
    public var until: CalendarDate?
    /// The notices of the act (scoring.md §7).
    public var actions: [Notice]
    /// The deadline concerned (an overdue-deadline notice).
    public var deadline: Deadline?
    /// The workflow deadlines of the act (a score notice).
    public var deadlines: [Deadline]
    /// Further detail in words.
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
        /// A stable error code.
        public var code: String
        /// The problem in words.
        public var message: String
    }

    /// The bulletin acknowledged.
    public var bulletin: BulletinRef
    /// SHA-256 of the exact bytes received, in lower-case hex.
    public var sha256: String
    /// When the gateway received it.
    public var receivedAt: String
    /// Accepted or rejected.
    public var outcome: Outcome
    /// Why it was rejected.
    public var error: Rejection?
    /// Its position in the gateway's message log.
    public var logPosition: Int?
}
