import Scoring

/// The normative structure of every bulletin type (bulletins.md, gateway.md §1–§2), as data.
///
/// `schemas/bulletin.schema.json` and `schemas/bulletin.xsd` are generated from this catalogue
/// (`tongbao schemas --out schemas`), and a test keeps the committed files equal to the output.
public enum BulletinShapes {
    // MARK: Simple types

    static let identifier = ValueShape.code(.identifier)
    static let personCode = ValueShape.code(.personCode)
    static let institutionCode = ValueShape.code(.institutionCode)
    static let regionCode = ValueShape.code(.region)
    static let sha256 = ValueShape.code(.sha256)
    static let decisionNo = ValueShape.text(maxLength: 128)
    static let name = ValueShape.text(maxLength: 200)

    static func values<E: RawRepresentable & CaseIterable>(_ type: E.Type, _ name: String) -> ValueShape where E.RawValue == String {
        .enumeration(name: name, values: E.allCases.map(\.rawValue))
    }

    static let situation = values(SituationCode.self, "SituationCode")
    static let category = values(PersonCategory.self, "PersonCategory")
    static let status = values(RegistrationStatus.self, "RegistrationStatus")
    static let notice = values(Notice.self, "Notice")
    static let packNames = ["guangdong", "shanghai", "inner-mongolia", "shandong", "national"]
    static let packs = ValueShape.enumeration(name: "RulePackName", values: packNames)

    // MARK: Shared objects

    static let institution = ObjectShape("InstitutionRef", [
        FieldShape("code", institutionCode),
        FieldShape("name", name, required: false),
        FieldShape("kind", values(InstitutionKind.self, "InstitutionKind"), required: false),
    ])

    static let person = ObjectShape("PersonRef", [
        FieldShape("code", personCode),
        FieldShape("name", name, required: false),
        FieldShape("category", category, required: false),
    ])

    static let findingPerson = ObjectShape("FindingPerson", person.fields + [
        FieldShape("responsibility", values(Responsibility.self, "Responsibility")),
        FieldShape("adjustment", values(Adjustment.self, "Adjustment"), required: false),
    ])

    static let finding = ObjectShape("Finding", [
        FieldShape("violation", identifier),
        FieldShape("situations", .array(situation, element: "situation", minItems: 1, maxItems: 20)),
        FieldShape("persons", .array(.object(findingPerson), element: "person", minItems: 1, maxItems: 1000)),
    ])

    static let reference = ObjectShape("BulletinRef", [FieldShape("issuer", identifier), FieldShape("id", identifier)])

    static let decisionReference = ObjectShape("DecisionRef", [
        FieldShape("issuer", identifier), FieldShape("id", identifier), FieldShape("decisionNo", decisionNo, required: false),
    ])

    static let certificate = ObjectShape("Certificate", [
        FieldShape("kind", values(Certificate.Kind.self, "CertificateKind")),
        FieldShape("number", .text(maxLength: 64)),
    ])

    static let institutionCodes = ValueShape.array(institutionCode, element: "institution", minItems: 0, maxItems: 100)

    // MARK: Scoring facts

    static let penaltyDecision = ObjectShape("PenaltyDecisionBody", [
        FieldShape("decisionNo", decisionNo),
        FieldShape("decidedOn", .date),
        FieldShape("scoredOn", .date, required: false),
        FieldShape("institution", .object(institution)),
        FieldShape("legalBasis", values(LegalBasis.self, "LegalBasis"), required: false),
        FieldShape("fraud", .boolean, required: false),
        FieldShape("findings", .array(.object(finding), element: "finding", minItems: 1, maxItems: 1000)),
    ])

    static let agreementHandling = ObjectShape("AgreementHandlingBody", [
        FieldShape("decisionNo", decisionNo),
        FieldShape("decidedOn", .date),
        FieldShape("scoredOn", .date, required: false),
        FieldShape("institution", .object(institution)),
        FieldShape("measure", values(AgreementMeasure.self, "AgreementMeasure")),
        FieldShape("fraud", .boolean, required: false),
        FieldShape("findings", .array(.object(finding), element: "finding", minItems: 0, maxItems: 1000), required: false),
    ])

    static let licenceRevocation = ObjectShape("LicenceRevocationBody", [
        FieldShape("decisionNo", decisionNo),
        FieldShape("decidedOn", .date),
        FieldShape("scoredOn", .date, required: false),
        FieldShape("person", .object(ObjectShape("RevokedPerson", person.fields + [
            FieldShape("responsibility", values(Responsibility.self, "Responsibility"), required: false),
        ]))),
        FieldShape("institutions", institutionCodes),
        FieldShape("certificate", .object(certificate)),
        FieldShape("action", values(LicenceRevocationBody.Action.self, "RevocationAction")),
        FieldShape("reason", .text(maxLength: 2000), required: false),
    ])

    static let repairDecision = ObjectShape("RepairDecisionBody", [
        FieldShape("decisionNo", decisionNo),
        FieldShape("decidedOn", .date),
        FieldShape("person", .object(person)),
        FieldShape("category", values(RepairCategory.self, "RepairCategory")),
        FieldShape("examScore", .integer(0...100), required: false),
        FieldShape("fraudReport", .boolean, required: false),
    ])

    static let restorationDecision = ObjectShape("RestorationDecisionBody", [
        FieldShape("decisionNo", decisionNo),
        FieldShape("decidedOn", .date),
        FieldShape("appliedOn", .date),
        FieldShape("person", .object(person)),
    ])

    static let finalScoreDecision = ObjectShape("FinalScoreDecisionBody", [
        FieldShape("decisionNo", decisionNo),
        FieldShape("decidedOn", .date),
        FieldShape("target", .object(reference)),
        FieldShape("outcome", values(FinalScoreDecision.Outcome.self, "FinalOutcome")),
    ])

    static let correction = ObjectShape("CorrectionBody", [
        FieldShape("decisionNo", decisionNo),
        FieldShape("decidedOn", .date),
        FieldShape("target", .object(reference)),
        FieldShape("action", values(CorrectionBody.Action.self, "CorrectionAction")),
    ])

    static let registration = ObjectShape("RegistrationBody", [
        FieldShape("person", .object(person)),
        FieldShape("institution", .object(institution)),
        FieldShape("action", values(RegistrationFact.Action.self, "RegistrationAction")),
        FieldShape("on", .date),
    ])

    // MARK: From health and drug regulators

    /// A sector regulator's practice event about a person, recorded on the person's file (一医一档).
    static let practiceNotice = ObjectShape("PracticeNoticeBody", [
        FieldShape("decisionNo", decisionNo),
        FieldShape("decidedOn", .date),
        FieldShape("person", .object(person)),
        FieldShape("institutions", institutionCodes),
        FieldShape("event", values(PracticeEvent.self, "PracticeEvent")),
        FieldShape("effectiveFrom", .date),
        FieldShape("effectiveUntil", .date, required: false),
        FieldShape("certificate", .object(certificate), required: false),
        FieldShape("detail", .text(maxLength: 2000), required: false),
    ])

    /// A suspected insurance violation found by a sector regulator, queued for the insurance agency.
    static let suspectedViolation = ObjectShape("SuspectedViolationBody", [
        FieldShape("caseNo", decisionNo),
        FieldShape("foundOn", .date),
        FieldShape("institution", .object(institution)),
        FieldShape("persons", .array(.object(person), element: "person", minItems: 0, maxItems: 1000), required: false),
        FieldShape("situations", .array(situation, element: "situation", minItems: 1, maxItems: 20)),
        FieldShape("description", .text(maxLength: 4000)),
        FieldShape("evidence", .array(.text(maxLength: 256), element: "item", minItems: 0, maxItems: 50), required: false),
        FieldShape("replyBy", .date, required: false),
    ])

    /// A sector regulator's answer to a referral (移送处理反馈): interim while handling goes on, then final.
    static let referralReply = ObjectShape("ReferralReplyBody", [
        FieldShape("referral", .object(reference)),
        FieldShape("stage", values(ReferralReplyFact.Stage.self, "ReplyStage")),
        FieldShape("decidedOn", .date),
        FieldShape("decisionNo", decisionNo, required: false),
        FieldShape("result", values(ReferralReplyFact.Result.self, "ReplyResult")),
        FieldShape("expectedBy", .date, required: false),
        FieldShape("related", .array(.object(reference), element: "bulletin", minItems: 0, maxItems: 20), required: false),
        FieldShape("detail", .text(maxLength: 2000), required: false),
    ])

    // MARK: From the gateway

    /// A sanction referred to the sector regulator for follow-up (移送).
    static let referral = ObjectShape("ReferralBody", [
        FieldShape("person", .object(person)),
        FieldShape("institutions", .array(institutionCode, element: "institution", minItems: 1, maxItems: 100)),
        FieldShape("sanction", .enumeration(name: "Sanction", values: ["suspended", "terminated", "lifted"])),
        FieldShape("from", .date),
        FieldShape("until", .date, required: false),
        FieldShape("points", .integer(0...1000)),
        FieldShape("year", .integer(2000...2200)),
        FieldShape("rules", packs),
        FieldShape("cause", .object(decisionReference)),
        FieldShape("followUp", .text(maxLength: 2000), required: false),
        FieldShape("respondBy", .date, required: false),
        FieldShape("respondByProvisional", .boolean, required: false),
    ])

    static let scoredPerson = ObjectShape("ScoredPerson", person.fields + [
        FieldShape("points", .integer(0...1000)),
        FieldShape("scoredInPeriod", .integer(0...1000), required: false),
        FieldShape("repairedInPeriod", .integer(0...1000), required: false),
        FieldShape("status", status),
        FieldShape("until", .date, required: false),
    ])

    static let scoreBulletinInstitution = ObjectShape("ScoreBulletinInstitution", [
        FieldShape("institution", .object(institution)),
        FieldShape("registeredPersons", .integer(0...1_000_000)),
        FieldShape("sanctionedPersonTimes", .integer(0...1_000_000)),
        FieldShape("persons", .array(.object(scoredPerson), element: "person", minItems: 0, maxItems: 100_000)),
    ])

    /// The periodic score bulletin (定期通报) for a region: persons scored and sanctioned, per institution.
    static let scoreBulletin = ObjectShape("ScoreBulletinBody", [
        FieldShape("periodFrom", .date),
        FieldShape("periodTo", .date),
        FieldShape("rules", packs),
        FieldShape("institutions", .array(.object(scoreBulletinInstitution), element: "entry", minItems: 0, maxItems: 10_000)),
    ])

    /// Credit inputs of an institution derived from personnel scores (信用评级挂钩).
    static let creditRating = ObjectShape("CreditRatingBody", [
        FieldShape("institution", .object(institution)),
        FieldShape("year", .integer(2000...2200)),
        FieldShape("asOf", .date),
        FieldShape("registeredPersons", .integer(0...1_000_000)),
        FieldShape("scoredPersons", .integer(0...1_000_000)),
        FieldShape("sanctionedPersonTimes", .integer(0...1_000_000)),
        FieldShape("overThreshold", .boolean),
        FieldShape("keySupervision", .boolean),
        FieldShape("points", .integer(0...100_000_000), required: false),
        FieldShape("suspendedPersons", .integer(0...1_000_000), required: false),
        FieldShape("terminatedPersons", .integer(0...1_000_000), required: false),
        FieldShape("sanctionedPerMille", .integer(0...1_000_000), required: false),
        FieldShape("fraudActs", .array(.object(reference), element: "act", minItems: 0, maxItems: 1000)),
        FieldShape("score", .integer(0...100), required: false),
        FieldShape("model", identifier, required: false),
        FieldShape("grade", .enumeration(name: "CreditGrade", values: ["A", "B", "C", "D", "E"]), required: false),
    ])

    static let deadline = ObjectShape("Deadline", [FieldShape("step", identifier), FieldShape("due", .date),
                                                   FieldShape("provisional", .boolean, required: false)])

    /// A notice to the insurance agency: a score to tell a person and all their institutions, an overdue
    /// deadline or restoration, or an over-threshold institution.
    static let scoreNotice = ObjectShape("ScoreNoticeBody", [
        FieldShape("notice", .enumeration(name: "ScoreNoticeKind", values: [
            "score", "overdue-deadline", "overdue-restoration", "over-threshold", "key-supervision", "termination-ground",
        ])),
        FieldShape("person", .object(person), required: false),
        FieldShape("institutions", institutionCodes),
        FieldShape("act", .object(decisionReference), required: false),
        FieldShape("points", .integer(0...1000), required: false),
        FieldShape("yearTotal", .integer(0...1000), required: false),
        FieldShape("status", status, required: false),
        FieldShape("until", .date, required: false),
        FieldShape("actions", .array(notice, element: "action", minItems: 0, maxItems: 10), required: false),
        FieldShape("deadline", .object(deadline), required: false),
        FieldShape("deadlines", .array(.object(deadline), element: "deadline", minItems: 0, maxItems: 20), required: false),
        FieldShape("detail", .text(maxLength: 2000), required: false),
    ])

    /// The gateway's signed acknowledgement of a submitted bulletin.
    static let receipt = ObjectShape("ReceiptBody", [
        FieldShape("bulletin", .object(reference)),
        FieldShape("sha256", sha256),
        FieldShape("receivedAt", .timestamp),
        FieldShape("outcome", .enumeration(name: "ReceiptOutcome", values: ["accepted", "rejected"])),
        FieldShape("error", .object(ObjectShape("ReceiptError", [FieldShape("code", identifier), FieldShape("message", .text(maxLength: 2000))])), required: false),
        FieldShape("logPosition", .integer(0...9_007_199_254_740_991), required: false),
    ])

    // MARK: Catalogue

    /// Every bulletin type and its body.
    public static let bodies: [(type: String, body: ObjectShape)] = [
        ("PenaltyDecision", penaltyDecision), ("AgreementHandling", agreementHandling),
        ("LicenceRevocation", licenceRevocation), ("RepairDecision", repairDecision),
        ("RestorationDecision", restorationDecision), ("FinalScoreDecision", finalScoreDecision),
        ("Correction", correction), ("Registration", registration),
        ("PracticeNotice", practiceNotice), ("SuspectedViolation", suspectedViolation),
        ("Referral", referral), ("ReferralReply", referralReply), ("ScoreBulletin", scoreBulletin), ("CreditRating", creditRating),
        ("ScoreNotice", scoreNotice), ("Receipt", receipt),
    ]

    /// The body shape of a type, or nil for an unknown type.
    public static func body(of type: String) -> ObjectShape? { bodies.first { $0.type == type }?.body }

    /// The envelope's fields before `body`, in XML order.
    public static let envelope: [FieldShape] = [
        FieldShape("id", identifier),
        FieldShape("type", .enumeration(name: "BulletinType", values: bodies.map(\.type))),
        FieldShape("issuer", identifier),
        FieldShape("issuedAt", .timestamp),
        FieldShape("region", regionCode),
        FieldShape("rules", packs, required: false),
    ]

    /// The XML namespace of every bulletin.
    public static let namespace = "urn:tongbao:bulletin:1"
    /// The XML-DSig namespace (the enveloped signature is the root's last child).
    public static let signatureNamespace = "http://www.w3.org/2000/09/xmldsig#"
}
