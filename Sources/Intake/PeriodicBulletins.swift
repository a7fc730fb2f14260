import Bulletins
import Scoring
import StrictJSON

/// A reporting period: a month (`2025-06`), a quarter (`2025-Q2`) or a year (`2025`).
public struct ReportingPeriod: Sendable, Equatable, CustomStringConvertible {
    /// How long periods are.
    public enum Length: String, Sendable, CaseIterable {
        case month, quarter, year
    }

    /// The label (`2025-06`, `2025-Q2`, `2025`).
    public let description: String
    /// The first day.
    public let from: CalendarDate
    /// The last day.
    public let to: CalendarDate

    /// Parses a label; nil when it is none of the three forms.
    public init?(_ label: String) {
        let parts = label.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard let year = parts.first.flatMap({ Int($0) }), parts[0].count == 4, (2000...2200).contains(year) else { return nil }
        let firstMonth: Int, months: Int
        switch parts.count {
        case 1: (firstMonth, months) = (1, 12)
        case 2 where parts[1].count == 2 && parts[1].hasPrefix("Q"):
            guard let quarter = Int(parts[1].dropFirst()), (1...4).contains(quarter) else { return nil }
            (firstMonth, months) = (quarter * 3 - 2, 3)
        case 2 where parts[1].count == 2:
            guard let month = Int(parts[1]), (1...12).contains(month) else { return nil }
            (firstMonth, months) = (month, 1)
        default: return nil
        }
        guard let from = CalendarDate(year: year, month: firstMonth, day: 1) else { return nil }
        description = label
        self.from = from
        to = from.adding(months: months).adding(days: -1)
    }

    /// The last complete period of `length` before `today`.
    public static func lastComplete(_ length: Length, before today: CalendarDate) -> ReportingPeriod? {
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let previous: CalendarDate
        switch length {
        case .month:
            previous = today.adding(months: -1)
            return ReportingPeriod("\(previous.year)-\(two(previous.month))")
        case .quarter:
            previous = today.adding(months: -3)
            return ReportingPeriod("\(previous.year)-Q\((previous.month - 1) / 3 + 1)")
        case .year:
            return ReportingPeriod("\(today.year - 1)")
        }
    }
}

/// The periodic bulletins (gateway.md §1 flows 8 and 9): a `ScoreBulletin` per region and period and a
/// `CreditRating` per institution and period, computed as of the period's last day from the facts whose
/// dates fall in it. The same facts give the same bytes: `issuedAt` is the day after the period, ids are
/// `SB-REGION-PERIOD` and `CR-INSTITUTION-PERIOD`, and everything is sorted.
public struct PeriodicBulletins: Sendable {
    let routing: OutboundRouting
    let projection: FactProjection
    let directory: Directory
    let creditModel: CreditModel

    /// Creates the generator.
    public init(routing: OutboundRouting, projection: FactProjection, directory: Directory, creditModel: CreditModel) {
        self.routing = routing
        self.projection = projection
        self.directory = directory
        self.creditModel = creditModel
    }

    /// The `ScoreBulletin` and the `CreditRating`s of `region` for `period`, to its health and drug participants.
    public func drafts(region: String, period: ReportingPeriod) throws(ScoringError) -> (bulletin: OutboundDraft, ratings: [OutboundDraft]) {
        let facts = projection.allFacts()
        let evaluation = try projection.scoring.evaluate(facts, asOf: period.to, explain: true)
        let factsByID = Dictionary(facts.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let recipients = routing.recipients(.health, region: region) + routing.recipients(.drug, region: region)
        let issuedAt = "\(period.to.adding(days: 1))T00:00:00+08:00"
        let rules = projection.scoring.pack.name
        let indicators = Dictionary(evaluation.institutions.map { ($0.institution, $0) }, uniquingKeysWith: { first, _ in first })

        // Persons scored or repaired in the period, by the institutions of their acts there.
        var entries: [String: [String]] = [:]
        // Year-to-date links for the credit inputs: institution → persons with acts there this year.
        var yearPersons: [String: Set<String>] = [:]
        var states: [String: (state: PersonState, scored: Int, repaired: Int)] = [:]
        let regionInstitutions = Set(directory.institutions(in: region))
        for state in evaluation.persons {
            var scored = 0, repaired = 0
            var periodInstitutions: [String] = []
            var inRegion = false
            for entry in state.history {
                let inPeriod = entry.date >= period.from && entry.date <= period.to
                if entry.kind == .repair {
                    if inPeriod { repaired -= entry.change }
                    continue
                }
                guard entry.kind == .act, case .act(let act)? = factsByID[entry.fact] else { continue }
                if entry.date.year == period.to.year {
                    for institution in act.institutions { yearPersons[institution, default: []].insert(state.person) }
                }
                guard inPeriod else { continue }
                scored += entry.change
                periodInstitutions += act.institutions
                inRegion = inRegion || directory.decision(act.id)?.region == region
            }
            let repairedHere = repaired > 0 && !regionInstitutions.isDisjoint(with: directory.workplaces(of: state.person))
            guard (scored > 0 && inRegion) || repairedHere else { continue }
            states[state.person] = (state, scored, repaired)
            let places = periodInstitutions.isEmpty ? directory.workplaces(of: state.person) : periodInstitutions
            for institution in Set(places) { entries[institution, default: []].append(state.person) }
        }
        let institutionEntries = entries.keys.sorted().map { code in
            let indicator = indicators[code]
            let persons = entries[code, default: []].sorted().compactMap { person -> String? in
                guard let (state, scored, repaired) = states[person] else { return nil }
                var members = directory.personMembers(person) + [("points", String(state.points)), ("scoredInPeriod", String(scored)),
                                                       ("repairedInPeriod", String(repaired)), ("status", JSONText.quoted(state.status.rawValue))]
                if let until = state.until { members.append(("until", JSONText.quoted(until.description))) }
                return JSONText.object(members)
            }
            return JSONText.object([
                ("institution", directory.institutionJSON(code)), ("registeredPersons", String(indicator?.registeredPersons ?? 0)),
                ("sanctionedPersonTimes", String(indicator?.sanctionedPersonTimes ?? 0)), ("persons", JSONText.list(persons)),
            ])
        }
        let bulletin = OutboundDraft(
            id: "SB-\(region)-\(period)", type: .scoreBulletin, region: region, rules: rules, issuedAt: issuedAt,
            body: JSONText.object([("periodFrom", JSONText.quoted(period.from.description)), ("periodTo", JSONText.quoted(period.to.description)),
                                   ("rules", JSONText.quoted(rules)), ("institutions", JSONText.list(institutionEntries))]),
            recipients: recipients)

        // Credit ratings: every institution of the region with registrations or acts this year.
        let personStates = Dictionary(evaluation.persons.map { ($0.person, $0) }, uniquingKeysWith: { first, _ in first })
        let codes = regionInstitutions.intersection(Set(indicators.keys).union(yearPersons.keys)).sorted()
        let ratings = codes.map { code -> OutboundDraft in
            let indicator = indicators[code]
            let persons = (yearPersons[code] ?? []).compactMap { personStates[$0] }
            let scored = persons.filter { $0.points > 0 }
            let suspended = persons.filter { $0.status == .suspended }.count
            let terminated = persons.filter { $0.status == .terminated }.count
            let registered = indicator?.registeredPersons ?? 0
            let times = indicator?.sanctionedPersonTimes ?? 0
            let overThreshold = indicator?.overThreshold ?? false
            let keySupervision = indicator?.keySupervision ?? false
            let (score, grade) = creditModel.rate(scoredPersons: scored.count, suspendedPersons: suspended, terminatedPersons: terminated,
                                                  overThreshold: overThreshold, keySupervision: keySupervision)
            let fraud = (indicator?.fraudActs ?? []).sorted().map { JSONText.object([("issuer", JSONText.quoted($0.issuer)), ("id", JSONText.quoted($0.id))]) }
            return OutboundDraft(
                id: "CR-\(code)-\(period)", type: .creditRating, region: region, rules: rules, issuedAt: issuedAt,
                body: JSONText.object([
                    ("institution", directory.institutionJSON(code)), ("year", String(period.to.year)), ("asOf", JSONText.quoted(period.to.description)),
                    ("registeredPersons", String(registered)), ("scoredPersons", String(scored.count)), ("sanctionedPersonTimes", String(times)),
                    ("overThreshold", overThreshold ? "true" : "false"), ("keySupervision", keySupervision ? "true" : "false"),
                    ("points", String(scored.reduce(0) { $0 + $1.points })), ("suspendedPersons", String(suspended)),
                    ("terminatedPersons", String(terminated)), ("sanctionedPerMille", String(registered > 0 ? times * 1000 / registered : 0)),
                    ("fraudActs", JSONText.list(fraud)), ("score", String(score)), ("model", JSONText.quoted(creditModel.name)),
                    ("grade", JSONText.quoted(grade.rawValue)),
                ]),
                recipients: recipients)
        }
        return (bulletin, ratings)
    }
}
