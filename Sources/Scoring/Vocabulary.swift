/// A negative situation (负面情形) of scoring.md §3. The raw values are part of the message format.
public enum SituationCode: String, Sendable, Hashable, CaseIterable, Comparable {
    case agreementLiquidatedDamages = "agreement.liquidated-damages"
    case agreementPaymentSuspended = "agreement.payment-suspended"
    case agreementRepeatedMinor = "agreement.repeated-minor"
    case agreementMajorLoss = "agreement.major-loss"
    case procurementNonSelected = "procurement.non-selected"
    case penaltyExempted = "penalty.exempted"
    case penaltyShanghai63 = "penalty.shanghai-63"
    case penaltyArt38to39 = "penalty.art38-39"
    case interviewRefusedCorrection = "interview.refused-correction"
    case selfInspectionPerfunctory = "self-inspection.perfunctory"
    case impersonation = "impersonation"
    case penaltyArt40 = "penalty.art40"
    case licenceRevoked = "licence.revoked"
    case correctionRefusedAfterOrder = "correction.refused-after-order"
    case agreementSuspended = "agreement.suspended"
    case agreementTerminated = "agreement.terminated"
    case otherT1 = "other.t1"
    case otherT2 = "other.t2"
    case otherT3 = "other.t3"
    case otherT4 = "other.t4"

    public static func < (lhs: SituationCode, rhs: SituationCode) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The degree of a person's responsibility for a finding (责任程度).
public enum Responsibility: String, Sendable, Hashable, CaseIterable {
    case general, important, main
}

/// A mitigation or aggravation of one finding (scoring.md §4).
public enum Adjustment: String, Sendable, Hashable, CaseIterable {
    case none, lighter, reduced, heavier, raised
}

/// The category of a person (相关人员类别).
public enum PersonCategory: String, Sendable, Hashable, CaseIterable {
    case physician, nurse, pharmacist, technician, reviewer
    case pharmacyPrincipal = "pharmacy-principal"
}

/// The kind of a designated institution.
public enum InstitutionKind: String, Sendable, Hashable, CaseIterable {
    case medical, pharmacy
}

/// A category of score repair (记分修复, scoring.md §8).
public enum RepairCategory: String, Sendable, Hashable, CaseIterable, Comparable {
    case trainingExam = "training-exam"
    case publicity
    case supervision
    case whistleblowing

    public static func < (lhs: RepairCategory, rhs: RepairCategory) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A notice (action) the core reports for an act (scoring.md §7).
public enum Notice: String, Sendable, Hashable, CaseIterable, Comparable {
    case institutionTalk = "institution-talk"
    case training
    case agencyTalk = "agency-talk"
    case internalBulletin = "internal-bulletin"
    case exam
    case notifyInstitution = "notify-institution"

    public static func < (lhs: Notice, rhs: Notice) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A tier (记分档次) of the point scale.
public enum TierName: String, Sendable, Hashable, CaseIterable, Comparable {
    case t1 = "T1", t2 = "T2", t3 = "T3", t4 = "T4"

    public static func < (lhs: TierName, rhs: TierName) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The registration status (登记备案状态) of a person.
public enum RegistrationStatus: String, Sendable, Hashable, CaseIterable {
    case normal, suspended, terminated
}
