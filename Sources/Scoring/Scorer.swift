/// The scoring core's entry point: a pure function of (facts, rule pack, calendar, as-of date).
///
/// The same code serves `tongbao replay`, the gateway and the tests. Facts are folded per person in
/// score-date order, ties broken by a fixed phase order (registration, act, agreement resumption, repair,
/// restoration) and then by fact id, so the result never depends on the order facts arrived in.
public struct Scorer: Sendable {
    /// The rule pack.
    public let pack: RulePack
    /// The working-day calendar, used to check restoration windows; nil skips those checks.
    public let calendar: WorkingDayCalendar?

    /// Creates a scorer.
    public init(pack: RulePack, calendar: WorkingDayCalendar? = nil) {
        self.pack = pack
        self.calendar = calendar
    }

    /// Folds `facts` up to and including `asOf`.
    ///
    /// - Parameter explain: whether to keep each person's history (per-finding arithmetic and pack keys).
    /// - Throws: `duplicate-id` for two different facts with one id; `situation-not-applicable` for an act
    ///   using a situation the pack does not have.
    public func evaluate(_ facts: [Fact], asOf: CalendarDate, explain: Bool = false) throws(ScoringError) -> Evaluation {
        let unique = try Self.deduplicate(facts)
        var diagnostics: [Diagnostic] = []
        let withdrawn = Self.withdrawnFacts(unique, asOf: asOf, diagnostics: &diagnostics)
        let finals = Self.finalDecisions(unique, asOf: asOf, withdrawn: withdrawn)

        var events: [String: [PersonEvent]] = [:]
        var pending = Set<String>()
        var known = Set<String>()
        var linkedPersons: [String: Set<String>] = [:]
        var fraudActs: [String: [FactID]] = [:]
        var actPersons: [String: Set<String>] = [:]
        var resumptions: [AgreementResumption] = []
        var registrations: [RegistrationFact] = []

        for fact in unique.values {
            for person in fact.personCodes { known.insert(person) }
            guard !withdrawn.contains(fact.id) else { continue }
            switch fact {
            case .act(let act):
                guard let date = scoreDate(of: act, finals: finals) else {
                    if finals[act.id]?.annulled != true { pending.formUnion(act.personCodes) }
                    continue
                }
                guard date <= asOf else { continue }
                let fraud = act.fraud || act.findings.contains { $0.situations.contains(where: pack.fraudSituations.contains) }
                if fraud && date.year == asOf.year {
                    for institution in act.institutions { fraudActs[institution, default: []].append(act.id) }
                }
                let hasStatusEffect = act.findings.contains { $0.situations.contains { situation in
                    if case .institutionStatus = pack.rule(for: situation) { return true }
                    return false
                } }
                for person in act.personCodes {
                    if hasStatusEffect {
                        for institution in act.institutions { linkedPersons[institution, default: []].insert(person) }
                    }
                    if date.year == asOf.year {
                        for institution in act.institutions { actPersons[institution, default: []].insert(person) }
                    }
                    events[person, default: []].append(PersonEvent(date: date, phase: 1, id: act.id, kind: .act(act)))
                }
            case .resumption(let resumption):
                if resumption.decidedOn <= asOf { resumptions.append(resumption) }
            case .repair(let repair):
                if repair.decidedOn <= asOf {
                    events[repair.person, default: []].append(PersonEvent(date: repair.decidedOn, phase: 3, id: repair.id, kind: .repair(repair)))
                }
            case .restoration(let restoration):
                if restoration.decidedOn <= asOf {
                    events[restoration.person, default: []].append(
                        PersonEvent(date: restoration.decidedOn, phase: 4, id: restoration.id, kind: .restoration(restoration)))
                }
            case .registration(let registration):
                if registration.on <= asOf {
                    registrations.append(registration)
                    events[registration.person, default: []].append(
                        PersonEvent(date: registration.on, phase: 0, id: registration.id, kind: .registration(registration)))
                }
            case .finalDecision, .correction:
                break
            }
        }
        for resumption in resumptions {
            for person in linkedPersons[resumption.institution] ?? [] {
                events[person, default: []].append(
                    PersonEvent(date: resumption.decidedOn, phase: 2, id: resumption.id, kind: .resumption(resumption)))
            }
        }

        var states: [PersonState] = []
        states.reserveCapacity(known.count)
        var sanctioned: [String: Int] = [:]
        for person in known.sorted() {
            var fold = PersonFold(code: person, pack: pack, calendar: calendar, recordHistory: explain)
            for event in (events[person] ?? []).sorted() {
                switch event.kind {
                case .act(let act): fold.applyAct(act, points: try ActPoints.score(act, person: person, pack: pack), on: event.date)
                case .repair(let repair): fold.applyRepair(repair)
                case .restoration(let restoration): fold.applyRestoration(restoration)
                case .resumption(let resumption): fold.applyResumption(resumption)
                case .registration(let registration): fold.applyRegistration(registration)
                }
            }
            states.append(fold.state(asOf: asOf, pending: pending.contains(person)))
            diagnostics.append(contentsOf: fold.diagnostics)
            for entry in fold.sanctionedAt where entry.year == asOf.year { sanctioned[entry.institution, default: 0] += 1 }
        }

        let institutions = Self.indicators(
            year: asOf.year, asOf: asOf, pack: pack, registrations: registrations, actPersons: actPersons,
            sanctioned: sanctioned, fraudActs: fraudActs)
        diagnostics.sort { ($0.fact, $0.code) < ($1.fact, $1.code) }
        return Evaluation(asOf: asOf, persons: states, institutions: institutions, diagnostics: diagnostics)
    }

    /// The score date of an act under the pack, or nil while it is provisional (or annulled).
    func scoreDate(of act: ScoringAct, finals: [FactID: FinalOutcome]) -> CalendarDate? {
        if finals[act.id]?.annulled == true { return nil }
        if let scoredOn = act.scoredOn { return scoredOn }
        switch pack.scoreDate {
        case .decision: return act.decidedOn
        case .finalDecision: return finals[act.id]?.confirmedOn
        }
    }

    // MARK: Preparation

    private static func deduplicate(_ facts: [Fact]) throws(ScoringError) -> [FactID: Fact] {
        var unique: [FactID: Fact] = [:]
        unique.reserveCapacity(facts.count)
        for fact in facts {
            if let existing = unique[fact.id] {
                guard existing == fact else {
                    throw ScoringError(code: "duplicate-id", source: fact.id.description,
                                       message: "two different bulletins carry the id \(fact.id)")
                }
                continue
            }
            unique[fact.id] = fact
        }
        return unique
    }

    /// The facts withdrawn by corrections in force on `asOf`; a correction must come from the target's
    /// issuer and may not target another correction.
    private static func withdrawnFacts(_ facts: [FactID: Fact], asOf: CalendarDate, diagnostics: inout [Diagnostic]) -> Set<FactID> {
        var withdrawn = Set<FactID>()
        for case .correction(let correction) in facts.values where correction.decidedOn <= asOf {
            guard correction.id.issuer == correction.target.issuer else {
                diagnostics.append(Diagnostic(fact: correction.id, code: "correction-wrong-issuer",
                                              message: "only \(correction.target.issuer) may correct \(correction.target)", applied: false))
                continue
            }
            if case .correction = facts[correction.target] {
                diagnostics.append(Diagnostic(fact: correction.id, code: "correction-of-correction",
                                              message: "a correction cannot target another correction", applied: false))
                continue
            }
            withdrawn.insert(correction.target)
        }
        return withdrawn
    }

    struct FinalOutcome {
        var confirmedOn: CalendarDate?
        var annulled = false
    }

    private static func finalDecisions(_ facts: [FactID: Fact], asOf: CalendarDate, withdrawn: Set<FactID>) -> [FactID: FinalOutcome] {
        var outcomes: [FactID: FinalOutcome] = [:]
        for case .finalDecision(let decision) in facts.values where decision.decidedOn <= asOf && !withdrawn.contains(decision.id) {
            var outcome = outcomes[decision.target] ?? FinalOutcome()
            switch decision.outcome {
            case .annulled: outcome.annulled = true
            case .confirmed: outcome.confirmedOn = min(outcome.confirmedOn ?? decision.decidedOn, decision.decidedOn)
            }
            outcomes[decision.target] = outcome
        }
        return outcomes
    }

    private static func indicators(
        year: Int, asOf: CalendarDate, pack: RulePack, registrations: [RegistrationFact], actPersons: [String: Set<String>],
        sanctioned: [String: Int], fraudActs: [String: [FactID]]
    ) -> [InstitutionIndicators] {
        var registered = actPersons
        let startOfYear = CalendarDate(year: year, month: 1, day: 1) ?? asOf.startOfYear
        var timelines: [String: [String: [RegistrationFact]]] = [:]
        for registration in registrations { timelines[registration.institution, default: [:]][registration.person, default: []].append(registration) }
        for (institution, persons) in timelines {
            for (person, facts) in persons {
                let ordered = facts.sorted { ($0.on, $0.id) < ($1.on, $1.id) }
                let atStart = ordered.last { $0.on < startOfYear }?.action == .register
                let duringYear = ordered.contains { $0.on >= startOfYear && $0.action == .register }
                if atStart || duringYear { registered[institution, default: []].insert(person) }
            }
        }
        let codes = Set(registered.keys).union(sanctioned.keys).union(fraudActs.keys).union(timelines.keys)
        return codes.sorted().map { institution in
            let count = registered[institution]?.count ?? 0
            let times = sanctioned[institution] ?? 0
            let fraud = (fraudActs[institution] ?? []).sorted()
            return InstitutionIndicators(
                institution: institution, year: year, sanctionedPersonTimes: times, registeredPersons: count,
                overThreshold: count > 0 && Double(times) > pack.indicators.overThresholdShare * Double(count),
                keySupervision: !fraud.isEmpty, fraudActs: fraud)
        }
    }
}

/// One event in a person's timeline, ordered by (date, phase, fact id).
struct PersonEvent: Comparable {
    enum Kind {
        case act(ScoringAct)
        case repair(RepairDecision)
        case restoration(RestorationDecision)
        case resumption(AgreementResumption)
        case registration(RegistrationFact)
    }

    var date: CalendarDate
    var phase: Int
    var id: FactID
    var kind: Kind

    static func < (lhs: PersonEvent, rhs: PersonEvent) -> Bool {
        (lhs.date, lhs.phase, lhs.id) < (rhs.date, rhs.phase, rhs.id)
    }

    static func == (lhs: PersonEvent, rhs: PersonEvent) -> Bool {
        (lhs.date, lhs.phase, lhs.id) == (rhs.date, rhs.phase, rhs.id)
    }
}
