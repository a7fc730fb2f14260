import Scoring
import StrictJSON

extension BulletinJSONDecoder {
    /// The keys an object of `shape` may carry (from the one catalogue, never listed twice).
    static func keys(_ shape: ObjectShape) -> Set<String> { Set(shape.fields.map(\.name)) }

    static func practiceNotice(_ node: JSONNode, pointer: String) throws(JSONDecodingError) -> PracticeNoticeBody {
        let body = try JSONObject(node, pointer: pointer, allowedKeys: keys(BulletinShapes.practiceNotice))
        let from = try date(body, "effectiveFrom")
        let until = try optionalDate(body, "effectiveUntil")
        if let until, until < from { throw body.error("effectiveUntil", "ends (\(until)) before it starts (\(from))") }
        return PracticeNoticeBody(
            decisionNo: try decisionNo(body), decidedOn: try date(body, "decidedOn"),
            person: try person(body.object("person", allowedKeys: personKeys)),
            institutions: try institutionCodes(body, "institutions"), event: try body.enumeration("event"),
            effectiveFrom: from, effectiveUntil: until,
            certificate: try body.optionalObject("certificate", allowedKeys: certificateKeys).map { (object) throws(JSONDecodingError) in
                Certificate(kind: try object.enumeration("kind"), number: try object.string("number", maxLength: 256))
            },
            detail: try body.optionalString("detail", maxLength: 8000))
    }

    static func suspectedViolation(_ node: JSONNode, pointer: String) throws(JSONDecodingError) -> SuspectedViolationBody {
        let body = try JSONObject(node, pointer: pointer, allowedKeys: keys(BulletinShapes.suspectedViolation))
        var persons: [PersonRef] = []
        for element in try body.optionalArray("persons", maxCount: 1000) ?? [] {
            persons.append(try person(try JSONObject(element.node, pointer: element.pointer, allowedKeys: personKeys)))
        }
        var situations: [SituationCode] = []
        for element in try body.array("situations", maxCount: 20) {
            situations.append(try JSONObject.enumeration(element.node, pointer: element.pointer, as: SituationCode.self))
        }
        var evidence: [String] = []
        for element in try body.optionalArray("evidence", maxCount: 50) ?? [] {
            evidence.append(try JSONObject.string(element.node, pointer: element.pointer, maxLength: 1024))
        }
        return SuspectedViolationBody(
            caseNo: try body.string("caseNo", maxLength: 512), foundOn: try date(body, "foundOn"),
            institution: try institution(body.object("institution", allowedKeys: institutionKeys)),
            persons: persons, situations: situations, description: try body.string("description", maxLength: 16_000),
            evidence: evidence, replyBy: try optionalDate(body, "replyBy"))
    }

    static func referral(_ node: JSONNode, pointer: String) throws(JSONDecodingError) -> ReferralBody {
        let body = try JSONObject(node, pointer: pointer, allowedKeys: keys(BulletinShapes.referral))
        let from = try date(body, "from")
        let until = try optionalDate(body, "until")
        if let until, until <= from { throw body.error("until", "\(until) is not after the start \(from)") }
        return ReferralBody(
            person: try person(body.object("person", allowedKeys: personKeys)),
            institutions: try institutionCodes(body, "institutions"), sanction: try body.enumeration("sanction"),
            from: from, until: until, points: try body.int("points", in: 0...1000), year: try body.int("year", in: 2000...2200),
            rules: try body.string("rules", maxLength: 64), cause: try decisionReference(body, "cause"),
            followUp: try body.optionalString("followUp", maxLength: 8000), respondBy: try optionalDate(body, "respondBy"),
            respondByProvisional: try body.optionalBool("respondByProvisional"))
    }

    static func referralReply(_ node: JSONNode, pointer: String) throws(JSONDecodingError) -> ReferralReplyBody {
        let body = try JSONObject(node, pointer: pointer, allowedKeys: keys(BulletinShapes.referralReply))
        let stage: ReferralReplyBody.Stage = try body.enumeration("stage")
        let result: ReferralReplyBody.Result = try body.enumeration("result")
        let decidedOn = try date(body, "decidedOn")
        let expectedBy = try optionalDate(body, "expectedBy")
        switch stage {
        case .interim:
            guard let expectedBy else { throw body.error("expectedBy", "an interim reply says when the final one will come (expectedBy)") }
            guard decidedOn < expectedBy else { throw body.error("expectedBy", "\(expectedBy) is not after decidedOn \(decidedOn)") }
        case .final:
            if expectedBy != nil { throw body.error("expectedBy", "only an interim reply has expectedBy") }
            if result == .investigating { throw body.error("result", "\"investigating\" is an interim result; a final reply says what was done") }
        }
        var related: [BulletinRef] = []
        for element in try body.optionalArray("related", maxCount: 20) ?? [] {
            related.append(try bulletinReference(try JSONObject(element.node, pointer: element.pointer, allowedKeys: referenceKeys)))
        }
        return ReferralReplyBody(
            referral: try bulletinReference(try body.object("referral", allowedKeys: referenceKeys)), stage: stage, decidedOn: decidedOn,
            decisionNo: try body.optionalString("decisionNo", maxLength: 512), result: result, expectedBy: expectedBy, related: related,
            detail: try body.optionalString("detail", maxLength: 8000))
    }

    static func scoreBulletin(_ node: JSONNode, pointer: String) throws(JSONDecodingError) -> ScoreBulletinBody {
        let body = try JSONObject(node, pointer: pointer, allowedKeys: keys(BulletinShapes.scoreBulletin))
        let from = try date(body, "periodFrom")
        let to = try date(body, "periodTo")
        guard from <= to else { throw body.error("periodTo", "the period ends (\(to)) before it starts (\(from))") }
        var entries: [ScoreBulletinEntry] = []
        for element in try body.array("institutions", maxCount: 10_000) {
            let entry = try JSONObject(element.node, pointer: element.pointer, allowedKeys: keys(BulletinShapes.scoreBulletinInstitution))
            var persons: [ScoredPerson] = []
            for item in try entry.array("persons", maxCount: 100_000) {
                let object = try JSONObject(item.node, pointer: item.pointer, allowedKeys: keys(BulletinShapes.scoredPerson))
                persons.append(ScoredPerson(
                    person: try person(object), points: try object.int("points", in: 0...1000),
                    scoredInPeriod: try object.optionalInt("scoredInPeriod", in: 0...1000),
                    repairedInPeriod: try object.optionalInt("repairedInPeriod", in: 0...1000),
                    status: try object.enumeration("status"), until: try optionalDate(object, "until")))
            }
            entries.append(ScoreBulletinEntry(
                institution: try institution(entry.object("institution", allowedKeys: institutionKeys)),
                registeredPersons: try entry.int("registeredPersons", in: 0...1_000_000),
                sanctionedPersonTimes: try entry.int("sanctionedPersonTimes", in: 0...1_000_000), persons: persons))
        }
        return ScoreBulletinBody(periodFrom: from, periodTo: to, rules: try body.string("rules", maxLength: 64), institutions: entries)
    }

    static func creditRating(_ node: JSONNode, pointer: String) throws(JSONDecodingError) -> CreditRatingBody {
        let body = try JSONObject(node, pointer: pointer, allowedKeys: keys(BulletinShapes.creditRating))
        var acts: [BulletinRef] = []
        for element in try body.array("fraudActs", maxCount: 1000) {
            let object = try JSONObject(element.node, pointer: element.pointer, allowedKeys: referenceKeys)
            acts.append(BulletinRef(issuer: try object.string("issuer", maxLength: 64), id: try object.string("id", maxLength: 64)))
        }
        return CreditRatingBody(
            institution: try institution(body.object("institution", allowedKeys: institutionKeys)),
            year: try body.int("year", in: 2000...2200), asOf: try date(body, "asOf"),
            registeredPersons: try body.int("registeredPersons", in: 0...1_000_000),
            scoredPersons: try body.int("scoredPersons", in: 0...1_000_000),
            sanctionedPersonTimes: try body.int("sanctionedPersonTimes", in: 0...1_000_000),
            overThreshold: try body.bool("overThreshold"), keySupervision: try body.bool("keySupervision"),
            points: try body.optionalInt("points", in: 0...100_000_000),
            suspendedPersons: try body.optionalInt("suspendedPersons", in: 0...1_000_000),
            terminatedPersons: try body.optionalInt("terminatedPersons", in: 0...1_000_000),
            sanctionedPerMille: try body.optionalInt("sanctionedPerMille", in: 0...1_000_000),
            fraudActs: acts, score: try body.optionalInt("score", in: 0...100), model: try body.optionalString("model", maxLength: 64),
            grade: try body.optionalEnumeration("grade"))
    }

    static func scoreNotice(_ node: JSONNode, pointer: String) throws(JSONDecodingError) -> ScoreNoticeBody {
        let body = try JSONObject(node, pointer: pointer, allowedKeys: keys(BulletinShapes.scoreNotice))
        var actions: [Notice] = []
        for element in try body.optionalArray("actions", maxCount: 10) ?? [] {
            actions.append(try JSONObject.enumeration(element.node, pointer: element.pointer, as: Notice.self))
        }
        func deadline(_ object: JSONObject) throws(JSONDecodingError) -> ScoreNoticeBody.Deadline {
            ScoreNoticeBody.Deadline(step: try object.string("step", maxLength: 64), due: try date(object, "due"),
                                     provisional: try object.optionalBool("provisional"))
        }
        let single = try body.optionalObject("deadline", allowedKeys: ["step", "due", "provisional"]).map(deadline)
        var deadlines: [ScoreNoticeBody.Deadline] = []
        for element in try body.optionalArray("deadlines", maxCount: 20) ?? [] {
            deadlines.append(try deadline(JSONObject(element.node, pointer: element.pointer, allowedKeys: ["step", "due", "provisional"])))
        }
        let kind: ScoreNoticeBody.Kind = try body.enumeration("notice")
        let person = try body.optionalObject("person", allowedKeys: personKeys).map { (object) throws(JSONDecodingError) in try self.person(object) }
        if kind == .score || kind == .overdueRestoration, person == nil {
            throw body.error("person", "a \(kind.rawValue) notice names the person")
        }
        if kind == .overdueDeadline, single == nil {
            throw body.error("deadline", "an overdue-deadline notice names the deadline")
        }
        if kind == .keySupervision, body.node("act") == nil {
            throw body.error("act", "a key-supervision notice names the fraud-flagged act")
        }
        return ScoreNoticeBody(
            notice: kind, person: person, institutions: try institutionCodes(body, "institutions"),
            act: try body.node("act") == nil ? nil : decisionReference(body, "act"),
            points: try body.optionalInt("points", in: 0...1000), yearTotal: try body.optionalInt("yearTotal", in: 0...1000),
            status: try body.optionalEnumeration("status"), until: try optionalDate(body, "until"), actions: actions,
            deadline: single, deadlines: deadlines, detail: try body.optionalString("detail", maxLength: 8000))
    }

    static func receipt(_ node: JSONNode, pointer: String) throws(JSONDecodingError) -> ReceiptBody {
        let body = try JSONObject(node, pointer: pointer, allowedKeys: keys(BulletinShapes.receipt))
        let outcome: ReceiptBody.Outcome = try body.enumeration("outcome")
        let rejection = try body.optionalObject("error", allowedKeys: ["code", "message"]).map { (object) throws(JSONDecodingError) in
            ReceiptBody.Rejection(code: try object.string("code", maxLength: 64), message: try object.string("message", maxLength: 8000))
        }
        switch (outcome, rejection) {
        case (.rejected, nil): throw body.error("error", "a rejected receipt carries the error")
        case (.accepted, .some): throw body.error("error", "an accepted receipt carries no error")
        default: break
        }
        let target = try body.object("bulletin", allowedKeys: referenceKeys)
        return ReceiptBody(
            bulletin: BulletinRef(issuer: try target.string("issuer", maxLength: 64), id: try target.string("id", maxLength: 64)),
            sha256: try body.string("sha256", maxLength: 64), receivedAt: try body.string("receivedAt", maxLength: 40),
            outcome: outcome, error: rejection, logPosition: try body.optionalInt("logPosition", in: 0...9_007_199_254_740_991))
    }

    // MARK: Pieces

    static func institutionCodes(_ object: JSONObject, _ key: String) throws(JSONDecodingError) -> [String] {
        var codes: [String] = []
        for element in try object.array(key, maxCount: 100) {
            let code = try JSONObject.string(element.node, pointer: element.pointer, maxLength: 32)
            guard isInstitutionCode(code) else {
                throw JSONDecodingError(pointer: element.pointer, line: element.node.line, message: "\"\(code)\" is not an institution code (H… or P…)")
            }
            codes.append(code)
        }
        return codes
    }

    static func decisionReference(_ body: JSONObject, _ key: String) throws(JSONDecodingError) -> DecisionRef {
        let object = try body.object(key, allowedKeys: keys(BulletinShapes.decisionReference))
        return DecisionRef(
            issuer: try object.string("issuer", maxLength: 64), id: try object.string("id", maxLength: 64),
            decisionNo: try object.optionalString("decisionNo", maxLength: 512))
    }
}
