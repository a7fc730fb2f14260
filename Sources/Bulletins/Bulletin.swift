import Scoring

/// A bulletin: the envelope every message carries, and its typed body (bulletins.md).
public struct Bulletin: Sendable, Equatable {
    /// The bulletin id, unique per issuer.
    public var id: String
    /// The body type.
    public var type: BulletinType
    /// The issuing participant's code.
    public var issuer: String
    /// When the issuer issued it (RFC 3339 with offset), as written.
    public var issuedAt: String
    /// The region code (6 digits).
    public var region: String
    /// The rule pack the issuer scored under, when stated.
    public var rules: String?
    /// The body.
    public var body: BulletinBody

    /// The identity of the fact this bulletin carries.
    public var factID: FactID { FactID(issuer: issuer, id: id) }
}

/// The body types this model knows.
public enum BulletinType: String, Sendable, Hashable, CaseIterable {
    case penaltyDecision = "PenaltyDecision"
    case agreementHandling = "AgreementHandling"
    case licenceRevocation = "LicenceRevocation"
    case repairDecision = "RepairDecision"
    case restorationDecision = "RestorationDecision"
    case finalScoreDecision = "FinalScoreDecision"
    case correction = "Correction"
    case registration = "Registration"
    case practiceNotice = "PracticeNotice"
    case suspectedViolation = "SuspectedViolation"
    case referral = "Referral"
    case referralReply = "ReferralReply"
    case scoreBulletin = "ScoreBulletin"
    case creditRating = "CreditRating"
    case scoreNotice = "ScoreNotice"
    case receipt = "Receipt"

    /// Whether bulletins of this type are facts the core folds (`replay` applies them). A `PracticeNotice`,
    /// a `Referral` and a `ReferralReply` are facts although they never score: they are on the person's
    /// file, and a practice notice bars eligibility while in force.
    public var isScoringFact: Bool {
        switch self {
        case .penaltyDecision, .agreementHandling, .licenceRevocation, .repairDecision, .restorationDecision,
             .finalScoreDecision, .correction, .registration, .practiceNotice, .referral, .referralReply: true
        case .suspectedViolation, .scoreBulletin, .creditRating, .scoreNotice, .receipt: false
        }
    }
}

/// A bulletin body, one case per type.
public enum BulletinBody: Sendable, Equatable {
    case penaltyDecision(ScoringDecisionBody)
    case agreementHandling(ScoringDecisionBody)
    case licenceRevocation(LicenceRevocationBody)
    case repairDecision(RepairDecisionBody)
    case restorationDecision(RestorationDecisionBody)
    case finalScoreDecision(FinalScoreDecisionBody)
    case correction(CorrectionBody)
    case registration(RegistrationBody)
    case practiceNotice(PracticeNoticeBody)
    case suspectedViolation(SuspectedViolationBody)
    case referral(ReferralBody)
    case referralReply(ReferralReplyBody)
    case scoreBulletin(ScoreBulletinBody)
    case creditRating(CreditRatingBody)
    case scoreNotice(ScoreNoticeBody)
    case receipt(ReceiptBody)
}

/// An institution as named in a bulletin.
public struct InstitutionRef: Sendable, Equatable {
    /// The national institution code (`H…` medical, `P…` pharmacy).
    public var code: String
    /// The institution's name.
    public var name: String?
    /// Medical or pharmacy.
    public var kind: InstitutionKind?

    /// Creates a reference.
    public init(code: String, name: String? = nil, kind: InstitutionKind? = nil) {
        self.code = code
        self.name = name
        self.kind = kind
    }
}

/// A person as named in a bulletin. The name is carried for the receiving department's records and is
/// never logged.
public struct PersonRef: Sendable, Equatable {
    /// The national personnel code.
    public var code: String
    /// The person's name.
    public var name: String?
    /// The category.
    public var category: PersonCategory?

    /// Creates a reference.
    public init(code: String, name: String? = nil, category: PersonCategory? = nil) {
        self.code = code
        self.name = name
        self.category = category
    }
}

/// A person responsible in a finding.
public struct FindingPerson: Sendable, Equatable {
    /// Who.
    public var person: PersonRef
    /// The degree of responsibility.
    public var responsibility: Responsibility
    /// The adjustment.
    public var adjustment: Adjustment
}

/// One violation of a decision.
public struct FindingBody: Sendable, Equatable {
    /// The violation id, unique within the bulletin.
    public var violation: String
    /// The situations met.
    public var situations: [SituationCode]
    /// The responsible persons.
    public var persons: [FindingPerson]
}

/// The legal basis of a `PenaltyDecision` (informational).
public enum LegalBasis: String, Sendable, Hashable, CaseIterable {
    case regulation38 = "regulation-38"
    case regulation39 = "regulation-39"
    case regulation40 = "regulation-40"
    case shanghai63 = "shanghai-63"
    case other
}

/// The measure of an `AgreementHandling`.
public enum AgreementMeasure: String, Sendable, Hashable, CaseIterable {
    case interview, rectification
    case paymentSuspended = "payment-suspended"
    case refusalRecovery = "refusal-recovery"
    case liquidatedDamages = "liquidated-damages"
    case servicesSuspended = "services-suspended"
    case agreementSuspended = "agreement-suspended"
    case agreementResumed = "agreement-resumed"
    case agreementTerminated = "agreement-terminated"
}

/// The body of a `PenaltyDecision` or an `AgreementHandling`.
public struct ScoringDecisionBody: Sendable, Equatable {
    /// The decision's document number.
    public var decisionNo: String
    /// The decision date.
    public var decidedOn: CalendarDate
    /// The score date, when final.
    public var scoredOn: CalendarDate?
    /// The institution concerned.
    public var institution: InstitutionRef
    /// The legal basis (penalty decisions).
    public var legalBasis: LegalBasis?
    /// The measure (agreement handlings).
    public var measure: AgreementMeasure?
    /// The issuer's fraud flag.
    public var fraud: Bool?
    /// The findings.
    public var findings: [FindingBody]
}

/// The certificate a `LicenceRevocation` concerns.
public struct Certificate: Sendable, Equatable {
    /// The certificate kind.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case practising, qualification
        case pharmacistRegistration = "pharmacist-registration"
    }

    /// The kind.
    public var kind: Kind
    /// The certificate number.
    public var number: String
}

/// The body of a `LicenceRevocation`.
public struct LicenceRevocationBody: Sendable, Equatable {
    /// What the sector authority did.
    public enum Action: String, Sendable, Hashable, CaseIterable {
        case cancelled, revoked, withdrawn
    }

    /// The decision's document number.
    public var decisionNo: String
    /// The decision date.
    public var decidedOn: CalendarDate
    /// The score date, when final.
    public var scoredOn: CalendarDate?
    /// The person.
    public var person: PersonRef
    /// The responsibility (defaults to `main`).
    public var responsibility: Responsibility
    /// The institutions where the person is registered.
    public var institutions: [String]
    /// The certificate.
    public var certificate: Certificate
    /// The action.
    public var action: Action
    /// The reason, in words.
    public var reason: String?
}

/// The body of a `RepairDecision`.
public struct RepairDecisionBody: Sendable, Equatable {
    /// The decision's document number.
    public var decisionNo: String
    /// The approval date.
    public var decidedOn: CalendarDate
    /// The person.
    public var person: PersonRef
    /// The category.
    public var category: RepairCategory
    /// The exam score (0–100), for exam-band repairs.
    public var examScore: Int?
    /// Whether a whistle-blowing report was verified as fraud.
    public var fraudReport: Bool?
}

/// The body of a `RestorationDecision`.
public struct RestorationDecisionBody: Sendable, Equatable {
    /// The decision's document number.
    public var decisionNo: String
    /// The approval date.
    public var decidedOn: CalendarDate
    /// The application date.
    public var appliedOn: CalendarDate
    /// The person.
    public var person: PersonRef
}

/// A reference to another bulletin.
public struct BulletinRef: Sendable, Equatable {
    /// The target's issuer.
    public var issuer: String
    /// The target's id.
    public var id: String
}

/// The body of a `FinalScoreDecision`.
public struct FinalScoreDecisionBody: Sendable, Equatable {
    /// The decision's document number.
    public var decisionNo: String
    /// The decision date.
    public var decidedOn: CalendarDate
    /// The provisional bulletin decided.
    public var target: BulletinRef
    /// The outcome.
    public var outcome: FinalScoreDecision.Outcome
}

/// The body of a `Correction`.
public struct CorrectionBody: Sendable, Equatable {
    /// What the correction does.
    public enum Action: String, Sendable, Hashable, CaseIterable {
        case withdraw
    }

    /// The decision's document number.
    public var decisionNo: String
    /// The decision date.
    public var decidedOn: CalendarDate
    /// The corrected bulletin.
    public var target: BulletinRef
    /// The action.
    public var action: Action
}

/// The body of a `Registration`.
public struct RegistrationBody: Sendable, Equatable {
    /// The person.
    public var person: PersonRef
    /// The institution.
    public var institution: InstitutionRef
    /// Register or deregister.
    public var action: RegistrationFact.Action
    /// The effective date.
    public var on: CalendarDate
}
