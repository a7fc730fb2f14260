/// The identity of a fact: the issuing participant and the bulletin id, unique per issuer.
public struct FactID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The issuing participant's code.
    public let issuer: String
    /// The bulletin id.
    public let id: String

    /// Creates an identity.
    public init(issuer: String, id: String) {
        self.issuer = issuer
        self.id = id
    }

    public static func < (lhs: FactID, rhs: FactID) -> Bool { (lhs.issuer, lhs.id) < (rhs.issuer, rhs.id) }

    public var description: String { "\(issuer)/\(id)" }
}

/// One person named in a finding, with their responsibility and adjustment.
public struct ResponsiblePerson: Sendable, Hashable {
    /// The national personnel code.
    public var code: String
    /// The degree of responsibility.
    public var responsibility: Responsibility
    /// The mitigation or aggravation.
    public var adjustment: Adjustment

    /// Creates a responsible person.
    public init(code: String, responsibility: Responsibility, adjustment: Adjustment = .none) {
        self.code = code
        self.responsibility = responsibility
        self.adjustment = adjustment
    }
}

/// One violation (违法违规行为) of a decision: its situations and the persons responsible.
public struct Finding: Sendable, Hashable {
    /// The violation id, unique within the decision.
    public var violation: String
    /// The situations the violation meets; the highest-scoring one counts.
    public var situations: [SituationCode]
    /// The responsible persons.
    public var persons: [ResponsiblePerson]

    /// Creates a finding.
    public init(violation: String, situations: [SituationCode], persons: [ResponsiblePerson]) {
        self.violation = violation
        self.situations = situations
        self.persons = persons
    }
}

/// A scoring act: one decision document that scores persons (scoring.md §4).
public struct ScoringAct: Sendable, Hashable {
    /// Where the act comes from.
    public enum Source: String, Sendable, Hashable, CaseIterable {
        case penaltyDecision = "PenaltyDecision"
        case agreementHandling = "AgreementHandling"
        case licenceRevocation = "LicenceRevocation"
    }

    /// The act's identity.
    public var id: FactID
    /// The kind of document.
    public var source: Source
    /// The decision date.
    public var decidedOn: CalendarDate
    /// The explicit score date (记分时点), when the decision carries one.
    public var scoredOn: CalendarDate?
    /// The institutions concerned (the one inspected; for a revocation, every listed institution).
    public var institutions: [String]
    /// Whether the issuer flagged fraud; fraud situations set the flag anyway.
    public var fraud: Bool
    /// The findings.
    public var findings: [Finding]

    /// Creates an act.
    public init(
        id: FactID, source: Source, decidedOn: CalendarDate, scoredOn: CalendarDate? = nil,
        institutions: [String], fraud: Bool = false, findings: [Finding]
    ) {
        self.id = id
        self.source = source
        self.decidedOn = decidedOn
        self.scoredOn = scoredOn
        self.institutions = institutions
        self.fraud = fraud
        self.findings = findings
    }

    /// Every person the act names, without repetition, in order of first mention.
    public var personCodes: [String] {
        // Nearly every act names one or two persons: a scan of the few kept so far beats hashing them.
        var codes: [String] = []
        var seen: Set<String>?
        for finding in findings {
            for person in finding.persons {
                if codes.count == 16, seen == nil { seen = Set(codes) }
                let repeated = seen.map { $0.contains(person.code) } ?? codes.contains(person.code)
                guard !repeated else { continue }
                codes.append(person.code)
                seen?.insert(person.code)
            }
        }
        return codes
    }
}

/// An institution's agreement resumed (`AgreementHandling` with measure `agreement-resumed`).
public struct AgreementResumption: Sendable, Hashable {
    /// The fact's identity.
    public var id: FactID
    /// The institution whose agreement resumes.
    public var institution: String
    /// The decision date: linked suspensions end on it.
    public var decidedOn: CalendarDate

    /// Creates a resumption.
    public init(id: FactID, institution: String, decidedOn: CalendarDate) {
        self.id = id
        self.institution = institution
        self.decidedOn = decidedOn
    }
}

/// An approved score repair (`RepairDecision`).
public struct RepairDecision: Sendable, Hashable {
    /// The fact's identity.
    public var id: FactID
    /// The person repaired.
    public var person: String
    /// The approval date.
    public var decidedOn: CalendarDate
    /// The repair category.
    public var category: RepairCategory
    /// The exam score, for exam-band repairs.
    public var examScore: Int?
    /// Whether a whistle-blowing report was verified as fraud.
    public var fraudReport: Bool

    /// Creates a repair.
    public init(id: FactID, person: String, decidedOn: CalendarDate, category: RepairCategory, examScore: Int? = nil, fraudReport: Bool = false) {
        self.id = id
        self.person = person
        self.decidedOn = decidedOn
        self.category = category
        self.examScore = examScore
        self.fraudReport = fraudReport
    }
}

/// An approved restoration (`RestorationDecision`).
public struct RestorationDecision: Sendable, Hashable {
    /// The fact's identity.
    public var id: FactID
    /// The person restored.
    public var person: String
    /// The approval date.
    public var decidedOn: CalendarDate
    /// The application date.
    public var appliedOn: CalendarDate

    /// Creates a restoration.
    public init(id: FactID, person: String, decidedOn: CalendarDate, appliedOn: CalendarDate) {
        self.id = id
        self.person = person
        self.decidedOn = decidedOn
        self.appliedOn = appliedOn
    }
}

/// The end of the Shanghai workflow for a provisional act (`FinalScoreDecision`).
public struct FinalScoreDecision: Sendable, Hashable {
    /// The outcome.
    public enum Outcome: String, Sendable, Hashable, CaseIterable {
        case confirmed, annulled
    }

    /// The fact's identity.
    public var id: FactID
    /// The decision date: a confirmed act counts from it.
    public var decidedOn: CalendarDate
    /// The provisional act decided.
    public var target: FactID
    /// The outcome.
    public var outcome: Outcome

    /// Creates a final decision.
    public init(id: FactID, decidedOn: CalendarDate, target: FactID, outcome: Outcome) {
        self.id = id
        self.decidedOn = decidedOn
        self.target = target
        self.outcome = outcome
    }
}

/// A withdrawal of an earlier fact by its issuer (`Correction`).
public struct CorrectionDecision: Sendable, Hashable {
    /// The fact's identity.
    public var id: FactID
    /// The decision date: from it on, the target has no effect.
    public var decidedOn: CalendarDate
    /// The withdrawn fact.
    public var target: FactID

    /// Creates a correction.
    public init(id: FactID, decidedOn: CalendarDate, target: FactID) {
        self.id = id
        self.decidedOn = decidedOn
        self.target = target
    }
}

/// A registration (登记备案) of a person at an institution, or its end.
public struct RegistrationFact: Sendable, Hashable {
    /// Register or deregister.
    public enum Action: String, Sendable, Hashable, CaseIterable {
        case register, deregister
    }

    /// The fact's identity.
    public var id: FactID
    /// The person.
    public var person: String
    /// The institution.
    public var institution: String
    /// Register or deregister.
    public var action: Action
    /// The effective date.
    public var on: CalendarDate

    /// Creates a registration.
    public init(id: FactID, person: String, institution: String, action: Action, on: CalendarDate) {
        self.id = id
        self.person = person
        self.institution = institution
        self.action = action
        self.on = on
    }
}

/// A practice event reported by a health or drug regulator (`PracticeNotice`, exchange-flows.md §8).
public enum PracticeEvent: String, Sendable, Hashable, CaseIterable {
    /// 暂停执业 / 责令暂停执业活动.
    case practiceSuspended = "practice-suspended"
    /// 定期考核不合格.
    case assessmentFailed = "assessment-failed"
    /// A change of the practice registration.
    case registrationChanged = "registration-changed"
    /// A non-punitive 注销 (retirement, for example).
    case registrationCancelled = "registration-cancelled"
}

/// A certificate a practice notice names.
public struct PracticeCertificate: Sendable, Hashable {
    /// The kind (`practising`, `qualification` or `pharmacist-registration`).
    public var kind: String
    /// Its number.
    public var number: String

    /// Creates a certificate reference.
    public init(kind: String, number: String) {
        self.kind = kind
        self.number = number
    }
}

/// A regulator's practice notice about a person. It never scores and never changes a status: a punitive
/// 注销/吊销/撤销 arrives as a `LicenceRevocation` (GD 第二十条(二)). While a blocking event is in force the
/// person is not eligible to bill the fund (Decision D38), and the notice is on the person's file.
public struct PracticeNoticeFact: Sendable, Hashable {
    /// The fact's identity.
    public var id: FactID
    /// The person.
    public var person: String
    /// What happened.
    public var event: PracticeEvent
    /// The regulator's document number.
    public var decisionNo: String
    /// The decision date: the notice is on the person's file from it.
    public var decidedOn: CalendarDate
    /// The first day the event applies.
    public var effectiveFrom: CalendarDate
    /// The first day it no longer applies; nil when open-ended.
    public var effectiveUntil: CalendarDate?
    /// The institutions the notice names.
    public var institutions: [String]
    /// The certificate concerned (`kind`, `number`), when the notice names one.
    public var certificate: PracticeCertificate?

    /// Creates a practice notice.
    public init(id: FactID, person: String, event: PracticeEvent, decisionNo: String, decidedOn: CalendarDate, effectiveFrom: CalendarDate,
                effectiveUntil: CalendarDate? = nil, institutions: [String], certificate: PracticeCertificate? = nil) {
        self.id = id
        self.person = person
        self.event = event
        self.decisionNo = decisionNo
        self.decidedOn = decidedOn
        self.effectiveFrom = effectiveFrom
        self.effectiveUntil = effectiveUntil
        self.institutions = institutions
        self.certificate = certificate
    }

    /// Whether the event applies on `date`.
    public func inForce(on date: CalendarDate) -> Bool {
        effectiveFrom <= date && effectiveUntil.map { date < $0 } ?? true
    }
}

/// Any fact the core folds.
public enum Fact: Sendable, Hashable {
    case act(ScoringAct)
    case resumption(AgreementResumption)
    case repair(RepairDecision)
    case restoration(RestorationDecision)
    case finalDecision(FinalScoreDecision)
    case correction(CorrectionDecision)
    case registration(RegistrationFact)
    // Boxed: these are larger than the scoring facts, and an unboxed case would make every fact as large
    // (a million facts in a replay, and the fold's memory traffic with them).
    indirect case practice(PracticeNoticeFact)
    indirect case referral(ReferralFact)
    indirect case referralReply(ReferralReplyFact)

    /// The fact's identity.
    public var id: FactID {
        switch self {
        case .act(let fact): fact.id
        case .resumption(let fact): fact.id
        case .repair(let fact): fact.id
        case .restoration(let fact): fact.id
        case .finalDecision(let fact): fact.id
        case .correction(let fact): fact.id
        case .registration(let fact): fact.id
        case .practice(let fact): fact.id
        case .referral(let fact): fact.id
        case .referralReply(let fact): fact.id
        }
    }

    /// The persons the fact names.
    public var personCodes: [String] {
        switch self {
        case .act(let act): act.personCodes
        case .repair(let repair): [repair.person]
        case .restoration(let restoration): [restoration.person]
        case .registration(let registration): [registration.person]
        case .practice(let notice): [notice.person]
        case .referral(let referral): [referral.person]
        // A reply names its referral, not the person: whoever folds it looks the person up there.
        case .resumption, .finalDecision, .correction, .referralReply: []
        }
    }
}
