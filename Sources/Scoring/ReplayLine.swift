import ParallelWork
import StrictJSON

/// The output line of `tongbao replay` for one person (cli.md), also the gateway's person file: the key
/// order is part of the contract.
public enum ReplayLine {
    /// One JSON object; with `explain`, the items and the applied facts with their arithmetic.
    public static func render(_ person: PersonState, explain: Bool) -> String {
        var members: [(String, String)] = [
            ("person", JSONText.quoted(person.person)),
            ("year", String(person.year)),
            ("points", String(person.points)),
            ("status", JSONText.quoted(person.status.rawValue)),
            ("until", person.until.map { JSONText.quoted($0.description) } ?? "null"),
            ("actions", JSONText.array(person.actions.map(\.rawValue))),
        ]
        if explain {
            members.append(("items", JSONText.array(person.items)))
            members.append(("explain", "[" + person.history.map(entry).joined(separator: ",") + "]"))
            members.append(("practice", "[" + person.practice.map(practice).joined(separator: ",") + "]"))
            members.append(("referrals", "[" + person.referrals.map(referral).joined(separator: ",") + "]"))
        }
        return JSONText.object(members)
    }

    /// Every person's line, each ending in a newline, rendered on every core: the pieces' text in
    /// person order.
    public static func renderAll(_ persons: [PersonState], explain: Bool) -> [[UInt8]] {
        let pieces = persons.count < 1_024 ? 1 : 16
        return Parallel.map(pieces: pieces) { piece in
            var text: [UInt8] = []
            for person in persons[Parallel.range(of: piece, count: persons.count, pieces: pieces)] {
                text.append(contentsOf: render(person, explain: explain).utf8)
                text.append(0x0A)
            }
            return text
        }
    }

    /// A practice notice on the file (exchange-flows.md §8): what the regulator decided, when it applies,
    /// and whether it bars billing on the as-of date.
    private static func practice(_ record: PracticeRecord) -> String {
        let notice = record.notice
        return JSONText.object([
            ("notice", JSONText.object([("issuer", JSONText.quoted(notice.id.issuer)), ("id", JSONText.quoted(notice.id.id))])),
            ("event", JSONText.quoted(notice.event.rawValue)),
            ("decisionNo", JSONText.quoted(notice.decisionNo)),
            ("decidedOn", JSONText.quoted(notice.decidedOn.description)),
            ("effectiveFrom", JSONText.quoted(notice.effectiveFrom.description)),
            ("effectiveUntil", notice.effectiveUntil.map { JSONText.quoted($0.description) } ?? "null"),
            ("institutions", JSONText.array(notice.institutions)),
            ("certificate", notice.certificate.map { JSONText.object([("kind", JSONText.quoted($0.kind)), ("number", JSONText.quoted($0.number))]) } ?? "null"),
            ("blocking", record.blocking ? "true" : "false"),
        ])
    }

    /// A referral on the file (exchange-flows.md §2.3): the sanction referred, the reply due date, where it
    /// stands, and the regulator's replies.
    private static func referral(_ record: ReferralRecord) -> String {
        let referral = record.referral
        func date(_ value: CalendarDate?) -> String { value.map { JSONText.quoted($0.description) } ?? "null" }
        return JSONText.object([
            ("referral", JSONText.object([("issuer", JSONText.quoted(referral.id.issuer)), ("id", JSONText.quoted(referral.id.id))])),
            ("sanction", JSONText.quoted(referral.sanction.rawValue)),
            ("from", date(referral.from)),
            ("until", date(referral.until)),
            ("respondBy", date(record.respondBy)),
            ("state", JSONText.quoted(record.state.rawValue)),
            ("replies", "[" + record.replies.map { reply in
                JSONText.object([
                    ("issuer", JSONText.quoted(reply.id.issuer)), ("id", JSONText.quoted(reply.id.id)),
                    ("stage", JSONText.quoted(reply.stage.rawValue)), ("result", JSONText.quoted(reply.result.rawValue)),
                    ("decidedOn", date(reply.decidedOn)), ("decisionNo", reply.decisionNo.map(JSONText.quoted) ?? "null"),
                    ("acceptedOn", date(reply.acceptedOn)),
                ])
            }.joined(separator: ",") + "]"),
        ])
    }

    private static func entry(_ entry: HistoryEntry) -> String {
        var members: [(String, String)] = [
            ("fact", JSONText.quoted(entry.fact.description)),
            ("kind", JSONText.quoted(entry.kind.name)),
            ("date", JSONText.quoted(entry.date.description)),
            ("change", String(entry.change)),
            ("total", String(entry.total)),
            ("outcome", JSONText.quoted(entry.outcome)),
        ]
        if let points = entry.points {
            members.append(("findings", "[" + points.findings.map(finding).joined(separator: ",") + "]"))
        }
        members.append(("keys", JSONText.array(entry.keys)))
        return JSONText.object(members)
    }

    private static func finding(_ finding: FindingScore) -> String {
        JSONText.object([
            ("violation", JSONText.quoted(finding.violation)),
            ("responsibility", JSONText.quoted(finding.responsibility.rawValue)),
            ("adjustment", JSONText.quoted(finding.adjustment.rawValue)),
            ("points", String(finding.points)),
            ("situations", "[" + finding.situations.map { situation in
                JSONText.object([
                    ("code", JSONText.quoted(situation.situation.rawValue)),
                    ("rule", JSONText.quoted(situation.rule.summary)),
                    ("base", situation.base.map(String.init) ?? "null"),
                    ("points", situation.points.map(String.init) ?? "null"),
                ])
            }.joined(separator: ",") + "]"),
        ])
    }
}

/// The output line of `tongbao indicators` for one institution, also the gateway's institution answer.
public enum IndicatorLine {
    /// One JSON object.
    public static func render(_ indicators: InstitutionIndicators) -> String {
        JSONText.object([
            ("institution", JSONText.quoted(indicators.institution)),
            ("year", String(indicators.year)),
            ("sanctionedPersonTimes", String(indicators.sanctionedPersonTimes)),
            ("registeredPersons", String(indicators.registeredPersons)),
            ("overThreshold", String(indicators.overThreshold)),
            ("keySupervision", String(indicators.keySupervision)),
            ("fraudActs", JSONText.array(indicators.fraudActs.map(\.description))),
        ])
    }
}
