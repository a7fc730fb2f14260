import Scoring

extension Bulletin {
    /// The scoring fact this bulletin carries, checked against the rule pack it is applied under; nil for
    /// the types that are not scoring facts (``BulletinType/isScoringFact``).
    ///
    /// `receivedAt` is when the gateway accepted the bulletin (its log entry's timestamp): a referral reply
    /// meets its deadline on that day. Without it (bulletins read from files) the issue date stands in.
    ///
    /// - Throws: `rules-invalid` when the bulletin names another pack, or uses a situation or repair
    ///   category the pack does not have, with the JSON pointer of the offending value. `line` is the
    ///   line to report (the bulletin's first line when no finer position is known).
    /// `position` is its log position, when read from the log (it orders referrals issued in one second).
    public func fact(under pack: RulePack, line: Int = 1, receivedAt: String? = nil, position: Int? = nil) throws(BulletinError) -> Fact? {
        if let rules, rules != pack.name {
            throw BulletinError(code: .rulesInvalid, pointer: "/rules", line: line,
                                message: "bulletin is issued under \"\(rules)\" but is being applied under \"\(pack.name)\"")
        }
        let id = factID
        switch body {
        case .penaltyDecision(let body):
            return .act(try act(body, source: .penaltyDecision, pack: pack, line: line))
        case .agreementHandling(let body):
            if body.measure == .agreementResumed {
                return .resumption(AgreementResumption(id: id, institution: body.institution.code, decidedOn: body.decidedOn))
            }
            return .act(try act(body, source: .agreementHandling, pack: pack, line: line))
        case .licenceRevocation(let body):
            try checkApplicable(.licenceRevoked, pack: pack, pointer: "/body/action", line: line)
            let person = ResponsiblePerson(code: body.person.code, responsibility: body.responsibility)
            return .act(ScoringAct(
                id: id, source: .licenceRevocation, decidedOn: body.decidedOn, scoredOn: body.scoredOn,
                institutions: body.institutions, fraud: false,
                findings: [Finding(violation: "licence", situations: [.licenceRevoked], persons: [person])]))
        case .repairDecision(let body):
            guard pack.repair.categories[body.category] != nil else {
                throw BulletinError(code: .rulesInvalid, pointer: "/body/category", line: line,
                                    message: "repair category \"\(body.category.rawValue)\" does not exist under the \(pack.name) rules")
            }
            return .repair(RepairDecision(
                id: id, person: body.person.code, decidedOn: body.decidedOn, category: body.category,
                examScore: body.examScore, fraudReport: body.fraudReport ?? false))
        case .restorationDecision(let body):
            return .restoration(RestorationDecision(id: id, person: body.person.code, decidedOn: body.decidedOn, appliedOn: body.appliedOn))
        case .finalScoreDecision(let body):
            return .finalDecision(FinalScoreDecision(
                id: id, decidedOn: body.decidedOn, target: FactID(issuer: body.target.issuer, id: body.target.id), outcome: body.outcome))
        case .correction(let body):
            return .correction(CorrectionDecision(id: id, decidedOn: body.decidedOn, target: FactID(issuer: body.target.issuer, id: body.target.id)))
        case .registration(let body):
            return .registration(RegistrationFact(
                id: id, person: body.person.code, institution: body.institution.code, action: body.action, on: body.on))
        case .practiceNotice(let body):
            return .practice(PracticeNoticeFact(
                id: id, person: body.person.code, event: body.event, decisionNo: body.decisionNo, decidedOn: body.decidedOn,
                effectiveFrom: body.effectiveFrom, effectiveUntil: body.effectiveUntil, institutions: body.institutions,
                certificate: body.certificate.map { PracticeCertificate(kind: $0.kind.rawValue, number: $0.number) }))
        case .referral(let body):
            guard let issuedOn = Timestamp.chinaDate(of: issuedAt) else {
                throw BulletinError(code: .schemaInvalid, pointer: "/issuedAt", line: line, message: "\"\(issuedAt)\" is not an RFC 3339 timestamp")
            }
            return .referral(ReferralFact(
                id: id, person: body.person.code, sanction: body.sanction, from: body.from, until: body.until, issuedOn: issuedOn,
                issuedAt: Timestamp.secondsSince1970(issuedAt), position: position, respondBy: body.respondBy, region: region, cause: FactID(issuer: body.cause.issuer, id: body.cause.id)))
        case .referralReply(let body):
            guard let acceptedOn = Timestamp.chinaDate(of: receivedAt ?? issuedAt) else {
                throw BulletinError(code: .schemaInvalid, pointer: "/issuedAt", line: line, message: "\"\(issuedAt)\" is not an RFC 3339 timestamp")
            }
            return .referralReply(ReferralReplyFact(
                id: id, referral: FactID(issuer: body.referral.issuer, id: body.referral.id), stage: body.stage, result: body.result,
                decidedOn: body.decidedOn, decisionNo: body.decisionNo, expectedBy: body.expectedBy, acceptedOn: acceptedOn,
                related: body.related.map { FactID(issuer: $0.issuer, id: $0.id) }))
        case .suspectedViolation, .scoreBulletin, .creditRating, .scoreNotice, .receipt:
            return nil
        }
    }

    private func act(_ body: ScoringDecisionBody, source: ScoringAct.Source, pack: RulePack, line: Int) throws(BulletinError) -> ScoringAct {
        var findings: [Finding] = []
        for (findingIndex, finding) in body.findings.enumerated() {
            for (situationIndex, situation) in finding.situations.enumerated() {
                try checkApplicable(situation, pack: pack, pointer: "/body/findings/\(findingIndex)/situations/\(situationIndex)", line: line)
            }
            findings.append(Finding(
                violation: finding.violation, situations: finding.situations,
                persons: finding.persons.map {
                    ResponsiblePerson(code: $0.person.code, responsibility: $0.responsibility, adjustment: $0.adjustment)
                }))
        }
        return ScoringAct(
            id: factID, source: source, decidedOn: body.decidedOn, scoredOn: body.scoredOn,
            institutions: [body.institution.code], fraud: body.fraud ?? false, findings: findings)
    }

    private func checkApplicable(_ situation: SituationCode, pack: RulePack, pointer: String, line: Int) throws(BulletinError) {
        guard pack.rule(for: situation) == .notApplicable else { return }
        throw BulletinError(code: .rulesInvalid, pointer: pointer, line: line,
                            message: "situation \"\(situation.rawValue)\" is not applicable under the \(pack.name) rules")
    }
}
