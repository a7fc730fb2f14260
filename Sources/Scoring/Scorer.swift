import ParallelWork

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
        try evaluate(facts, asOf: asOf, history: explain ? .all : .none)
    }

    /// Folds `facts` up to and including `asOf`, recording in each person's history the facts `history`
    /// includes; everything else in the evaluation is the same whatever the scope.
    ///
    /// - Throws: as ``evaluate(_:asOf:explain:)``.
    public func evaluate(_ facts: [Fact], asOf: CalendarDate, history: HistoryScope) throws(ScoringError) -> Evaluation {
        try evaluate(facts, asOf: asOf, history: history, shards: Self.shards(for: facts.count))
    }

    /// One person's state on `asOf` once `added` joins `facts`, and — when one pass can fold both — the
    /// state without it: what intake derives a bulletin's notices from.
    ///
    /// Both states are exactly those two ``evaluate(_:asOf:history:)`` calls would give (the tests compare
    /// them). The state without `added` is folded alongside when `added` is an act that only adds one
    /// event to the person's timeline: scored on or before `asOf`, not withdrawn, acting on no agreement,
    /// and not already among `facts`. Otherwise ``PersonChange/before`` is nil; fold `facts` alone for it.
    /// An unknown person is normal with 0 points.
    ///
    /// - Throws: as ``evaluate(_:asOf:explain:)``.
    public func change(of person: String, adding added: Fact, to facts: [Fact], asOf: CalendarDate,
                       history: HistoryScope) throws(ScoringError) -> PersonChange {
        let all = facts + [added]
        var without: Counterfactual?
        if case .act(let act) = added, !hasStatusEffect(act) { without = Counterfactual(person: person, fact: all.count - 1) }
        let (evaluation, before) = try fold(all, asOf: asOf, history: history, shards: Self.shards(for: all.count), without: without)
        let after = evaluation.persons.first { $0.person == person } ?? PersonState.unknown(person, asOf: asOf)
        return PersonChange(before: before, after: after)
    }

    /// The fold with the work cut into `shards` shards (1: all on the calling thread). Every count gives
    /// the same evaluation; the tests compare them.
    func evaluate(_ facts: [Fact], asOf: CalendarDate, history: HistoryScope, shards: Int) throws(ScoringError) -> Evaluation {
        try fold(facts, asOf: asOf, history: history, shards: shards, without: nil).evaluation
    }

    /// A person and a fact (its index in the facts) whose absence is folded alongside (``change(of:adding:to:asOf:history:)``).
    struct Counterfactual {
        let person: String
        let fact: Int
    }

    /// The evaluation, and with `without`, that person's state without that fact when one pass could fold it.
    private func fold(_ facts: [Fact], asOf: CalendarDate, history: HistoryScope, shards: Int,
                      without requested: Counterfactual?) throws(ScoringError) -> (evaluation: Evaluation, without: PersonState?) {
        let unique = try Self.deduplicate(facts, shards: shards)
        // A repeated fact would make the fact's index ambiguous: then there is no one-pass counterfactual.
        let without = unique.count == facts.count ? requested : nil
        var diagnostics: [Diagnostic] = []
        let withdrawn = Self.withdrawnFacts(unique, asOf: asOf, diagnostics: &diagnostics)
        let finals = Self.finalDecisions(unique, asOf: asOf, withdrawn: withdrawn)
        let referralPersons = Self.referralPersons(unique)

        // 1. Every piece of the facts is sorted into per-person (and per-institution) shards, on every core.
        let gathered = Parallel.map(pieces: shards) { [self] piece in
            var part = GatheredFacts(shards: shards)
            for index in Parallel.range(of: piece, count: unique.count, pieces: shards) {
                gather(unique[index], at: index, withdrawn: withdrawn, finals: finals, referralPersons: referralPersons, asOf: asOf, into: &part)
            }
            return part
        }

        // 2. Institution-level facts: agreement resumptions reach the persons linked to the institution.
        var linkedPersons: [String: Set<String>] = [:]
        var fraudActs: [String: [FactID]] = [:]
        var registrations: [RegistrationFact] = []
        var resumptionEvents = [[PersonEntry]](repeating: [], count: shards)
        for part in gathered {
            for (institution, person) in part.linked { linkedPersons[institution, default: []].insert(person) }
            for (institution, act) in part.fraudActs { fraudActs[institution, default: []].append(act) }
            registrations.append(contentsOf: part.registrations)
        }
        for part in gathered {
            for (resumption, fact) in part.resumptions {
                for person in linkedPersons[resumption.institution] ?? [] {
                    resumptionEvents[Self.shard(of: person, among: shards)].append(PersonEntry(
                        person: person, event: PersonEvent(date: resumption.decidedOn, phase: .agreementResumed, fact: fact)))
                }
            }
        }

        // 3. Each person's fold depends only on that person's events: each shard of persons is folded on
        //    its own core, then the shards are joined in person order.
        let folded = Parallel.map(pieces: shards) { [self, resumptionEvents] shard in
            fold(shard: shard, facts: unique, gathered: gathered, resumptions: resumptionEvents[shard], asOf: asOf, history: history,
                 without: without)
        }
        if let failure = folded.compactMap(\.failure).min(by: { $0.person < $1.person }) { throw failure.error }
        // Each shard is in person order already; several shards are merged by person code.
        var order = folded.indices.flatMap { shard in folded[shard].states.indices.map { (shard, $0) } }
        if folded.count > 1 { order.sort { folded[$0.0].states[$0.1].person < folded[$1.0].states[$1.1].person } }
        var states: [PersonState] = []
        states.reserveCapacity(order.count)
        var sanctioned: [String: Int] = [:]
        for (shard, index) in order {
            states.append(folded[shard].states[index])
            diagnostics.append(contentsOf: folded[shard].diagnostics[index])
        }
        for shard in folded { for institution in shard.sanctioned { sanctioned[institution, default: 0] += 1 } }

        let actPersons = Parallel.map(pieces: shards) { shard in
            var persons: [String: Set<String>] = [:]
            for part in gathered { for (institution, person) in part.actPersons[shard] { persons[institution, default: []].insert(person) } }
            return persons
        }.reduce(into: [String: Set<String>]()) { all, shard in all.merge(shard) { $0.union($1) } }

        let institutions = Self.indicators(
            year: asOf.year, asOf: asOf, pack: pack, registrations: registrations, actPersons: actPersons,
            sanctioned: sanctioned, fraudActs: fraudActs)
        diagnostics.sort { ($0.fact, $0.code) < ($1.fact, $1.code) }
        let counterfactual = folded.lazy.compactMap(\.without).first
        return (Evaluation(asOf: asOf, persons: states, institutions: institutions, diagnostics: diagnostics), counterfactual)
    }

    /// Shards of persons (and institutions, and fact ids) worked on in parallel: a few per core, so that
    /// uneven shards even out. Any count gives the same result.
    static let shardCount = 16
    /// Below this many facts the work is done in one piece (threads would cost more than they save).
    static let parallelThreshold = 4_096

    /// The shards to cut `count` facts into: one below ``parallelThreshold``, else ``shardCount``.
    static func shards(for count: Int) -> Int {
        count < parallelThreshold ? 1 : shardCount
    }

    /// The shard of a person or institution code, or of a fact id.
    static func shard<Key: Hashable>(of key: Key, among shards: Int) -> Int {
        shards == 1 ? 0 : Int(UInt(bitPattern: key.hashValue) % UInt(shards))
    }

    /// One event and the person it belongs to.
    struct PersonEntry {
        var person: String
        var event: PersonEvent
    }

    /// What one piece of the facts contributes, sorted into shards.
    struct GatheredFacts {
        let shards: Int
        /// Per person shard: the events of each person.
        var events: [[PersonEntry]]
        /// Per person shard: every person named by a fact (withdrawn ones too).
        var known: [[String]]
        /// Per person shard: persons with an act still provisional.
        var pending: [[String]]
        /// Per institution shard: (institution, person) for every act scored in the as-of year.
        var actPersons: [[(String, String)]]
        /// (institution, person) for acts that act on the institution's status.
        var linked: [(String, String)] = []
        /// (institution, act) for fraud acts scored in the as-of year.
        var fraudActs: [(String, FactID)] = []
        /// Agreement resumptions with their fact's index.
        var resumptions: [(AgreementResumption, Int)] = []
        var registrations: [RegistrationFact] = []

        init(shards: Int) {
            self.shards = shards
            events = Array(repeating: [], count: shards)
            known = Array(repeating: [], count: shards)
            pending = Array(repeating: [], count: shards)
            actPersons = Array(repeating: [], count: shards)
        }

        func shard(of code: String) -> Int { Scorer.shard(of: code, among: shards) }

        mutating func add(_ event: PersonEvent, for person: String) {
            events[shard(of: person)].append(PersonEntry(person: person, event: event))
        }
    }

    /// Sorts one fact, the one at `index` of the deduplicated facts, into the piece's shards.
    private func gather(_ fact: Fact, at index: Int, withdrawn: Set<FactID>, finals: [FactID: FinalOutcome], referralPersons: [FactID: String],
                        asOf: CalendarDate, into part: inout GatheredFacts) {
        let persons = fact.personCodes
        for person in persons { part.known[part.shard(of: person)].append(person) }
        guard withdrawn.isEmpty || !withdrawn.contains(fact.id) else { return }
        switch fact {
        case .act(let act):
            guard let date = scoreDate(of: act, finals: finals) else {
                if finals[act.id]?.annulled != true {
                    for person in persons { part.pending[part.shard(of: person)].append(person) }
                }
                return
            }
            guard date <= asOf else { return }
            let fraud = act.fraud || act.findings.contains { $0.situations.contains(where: pack.fraudSituations.contains) }
            if fraud && date.year == asOf.year {
                for institution in act.institutions { part.fraudActs.append((institution, act.id)) }
            }
            let hasStatusEffect = hasStatusEffect(act)
            for person in persons {
                if hasStatusEffect {
                    for institution in act.institutions { part.linked.append((institution, person)) }
                }
                if date.year == asOf.year {
                    for institution in act.institutions { part.actPersons[part.shard(of: institution)].append((institution, person)) }
                }
                part.add(PersonEvent(date: date, phase: .act, fact: index), for: person)
            }
        case .resumption(let resumption):
            if resumption.decidedOn <= asOf { part.resumptions.append((resumption, index)) }
        case .repair(let repair):
            if repair.decidedOn <= asOf {
                part.add(PersonEvent(date: repair.decidedOn, phase: .repair, fact: index), for: repair.person)
            }
        case .restoration(let restoration):
            if restoration.decidedOn <= asOf {
                part.add(PersonEvent(date: restoration.decidedOn, phase: .restoration, fact: index), for: restoration.person)
            }
        case .registration(let registration):
            if registration.on <= asOf {
                part.registrations.append(registration)
                part.add(PersonEvent(date: registration.on, phase: .registration, fact: index), for: registration.person)
            }
        case .practice(let notice):
            if notice.decidedOn <= asOf {
                part.add(PersonEvent(date: notice.decidedOn, phase: .practice, fact: index), for: notice.person)
            }
        case .referral(let referral):
            if referral.issuedOn <= asOf {
                part.add(PersonEvent(date: referral.issuedOn, phase: .referral, fact: index), for: referral.person)
            }
        case .referralReply(let reply):
            // A reply to a referral the facts do not hold belongs to no one's file.
            if reply.acceptedOn <= asOf, let person = referralPersons[reply.referral] {
                part.add(PersonEvent(date: reply.acceptedOn, phase: .referral, fact: index), for: person)
            }
        case .finalDecision, .correction:
            break
        }
    }

    /// The person of each referral among `facts`, to file the replies under (empty when there are no replies).
    private static func referralPersons(_ facts: [Fact]) -> [FactID: String] {
        var replies = false
        var persons: [FactID: String] = [:]
        for fact in facts {
            switch fact {
            case .referral(let referral): persons[referral.id] = referral.person
            case .referralReply: replies = true
            default: continue
            }
        }
        return replies ? persons : [:]
    }

    /// Whether the act acts on its institutions' agreements (and so links its persons to them).
    private func hasStatusEffect(_ act: ScoringAct) -> Bool {
        act.findings.contains { $0.situations.contains { situation in
            if case .institutionStatus = pack.rule(for: situation) { return true }
            return false
        } }
    }

    /// What folding one shard of persons gave, in person order within the shard.
    struct FoldedShard {
        var states: [PersonState] = []
        /// Each state's diagnostics.
        var diagnostics: [[Diagnostic]] = []
        /// One institution code per sanction counted in the as-of year.
        var sanctioned: [String] = []
        /// The first person (in order) whose fold failed, and why.
        var failure: (person: String, error: ScoringError)?
        /// The counterfactual person's state without the counterfactual fact, when it was in their timeline.
        var without: PersonState?
    }

    /// Folds every person of one shard in person order.
    private func fold(shard: Int, facts: [Fact], gathered: [GatheredFacts], resumptions: [PersonEntry], asOf: CalendarDate, history: HistoryScope,
                      without: Counterfactual?) -> FoldedShard {
        var events: [String: [PersonEvent]] = [:]
        var known = Set<String>()
        var pending = Set<String>()
        for part in gathered {
            for entry in part.events[shard] { events[entry.person, default: []].append(entry.event) }
            known.formUnion(part.known[shard])
            pending.formUnion(part.pending[shard])
        }
        for entry in resumptions { events[entry.person, default: []].append(entry.event) }
        var result = FoldedShard()
        for person in known.sorted() {
            var fold = PersonFold(code: person, pack: pack, calendar: calendar, historyScope: history)
            // The counterfactual fold starts as a copy of this one at the counterfactual fact's event and
            // then takes every later event but that one.
            let counterfactual = without?.person == person ? without?.fact : nil
            var foldWithout: PersonFold?
            do throws(ScoringError) {
                for event in PersonEvent.timeline(events[person] ?? [], of: facts) {
                    let fact = facts[event.fact]
                    let points: ActPoints? = if case .act(let act) = fact { try ActPoints.score(act, person: person, pack: pack) } else { nil }
                    if event.fact == counterfactual {
                        foldWithout = fold
                    } else {
                        foldWithout?.apply(fact, points: points, on: event.date)
                    }
                    fold.apply(fact, points: points, on: event.date)
                }
            } catch {
                result.failure = (person, error)
                return result
            }
            result.states.append(fold.state(asOf: asOf, pending: pending.contains(person)))
            if let foldWithout { result.without = foldWithout.state(asOf: asOf, pending: pending.contains(person)) }
            result.diagnostics.append(fold.diagnostics)
            for entry in fold.sanctionedAt where entry.year == asOf.year { result.sanctioned.append(entry.institution) }
        }
        return result
    }

    /// The score date of an act under the pack, or nil while it is provisional (or annulled).
    func scoreDate(of act: ScoringAct, finals: [FactID: FinalOutcome]) -> CalendarDate? {
        let final = finals.isEmpty ? nil : finals[act.id]
        if final?.annulled == true { return nil }
        if let scoredOn = act.scoredOn { return scoredOn }
        switch pack.scoreDate {
        case .decision: return act.decidedOn
        case .finalDecision: return final?.confirmedOn
        }
    }

    // MARK: Preparation

    /// The facts with repeated copies of one fact dropped; two different facts with one id are an error
    /// (the first such fact in input order is named). Works on shards of fact ids in parallel; each id is
    /// hashed once. When nothing repeats, the facts come back as they are.
    private static func deduplicate(_ facts: [Fact], shards: Int) throws(ScoringError) -> [Fact] {
        let buckets = Parallel.map(pieces: shards) { piece in
            var buckets = [[HashedIndex]](repeating: [], count: shards)
            for index in Parallel.range(of: piece, count: facts.count, pieces: shards) {
                let hash = facts[index].id.hashValue
                buckets[shards == 1 ? 0 : Int(UInt(bitPattern: hash) % UInt(shards))].append(HashedIndex(hash: hash, index: index))
            }
            return buckets
        }
        let kept = Parallel.map(pieces: shards) { shard in
            var table = FirstIndexTable(capacity: buckets.reduce(0) { $0 + $1[shard].count })
            var kept: [Int] = []
            for piece in buckets {
                for entry in piece[shard] {
                    let id = facts[entry.index].id
                    if let earlier = table.firstIndex(of: entry, isSame: { facts[$0].id == id }) {
                        if facts[earlier] != facts[entry.index] { return (kept: kept, conflict: Optional(entry.index)) }
                        continue
                    }
                    kept.append(entry.index)
                }
            }
            return (kept: kept, conflict: nil)
        }
        if let conflict = kept.compactMap(\.conflict).min() {
            let fact = facts[conflict]
            throw ScoringError(code: .duplicateId, source: fact.id.description, message: "two different bulletins carry the id \(fact.id)")
        }
        // Order does not matter to the fold (the tests shuffle the input), so unrepeated facts stay as given.
        guard kept.reduce(0, { $0 + $1.kept.count }) < facts.count else { return facts }
        return kept.flatMap { $0.kept.map { facts[$0] } }
    }

    /// A fact's index with its id's hash.
    struct HashedIndex {
        var hash: Int
        var index: Int
    }

    /// The first fact index seen for each id, in an open-addressing table over hashes computed once.
    struct FirstIndexTable {
        private var slots: [HashedIndex?]
        private let mask: Int

        init(capacity: Int) {
            var size = 16
            while size < capacity * 2 { size <<= 1 }
            slots = Array(repeating: nil, count: size)
            mask = size - 1
        }

        /// The index of an earlier entry for the same id, or nil after recording `entry` as the first.
        mutating func firstIndex(of entry: HashedIndex, isSame: (Int) -> Bool) -> Int? {
            var slot = entry.hash & mask
            while let earlier = slots[slot] {
                if earlier.hash == entry.hash, isSame(earlier.index) { return earlier.index }
                slot = (slot + 1) & mask
            }
            slots[slot] = entry
            return nil
        }
    }

    /// The facts withdrawn by corrections in force on `asOf`; a correction must come from the target's
    /// issuer and may not target another correction.
    private static func withdrawnFacts(_ facts: [Fact], asOf: CalendarDate, diagnostics: inout [Diagnostic]) -> Set<FactID> {
        var corrections = Set<FactID>()
        for case .correction(let correction) in facts { corrections.insert(correction.id) }
        var withdrawn = Set<FactID>()
        for case .correction(let correction) in facts where correction.decidedOn <= asOf {
            guard correction.id.issuer == correction.target.issuer else {
                diagnostics.append(Diagnostic(fact: correction.id, code: "correction-wrong-issuer",
                                              message: "only \(correction.target.issuer) may correct \(correction.target)", applied: false))
                continue
            }
            if corrections.contains(correction.target) {
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

    private static func finalDecisions(_ facts: [Fact], asOf: CalendarDate, withdrawn: Set<FactID>) -> [FactID: FinalOutcome] {
        var outcomes: [FactID: FinalOutcome] = [:]
        for case .finalDecision(let decision) in facts where decision.decidedOn <= asOf && !withdrawn.contains(decision.id) {
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

/// One event in a person's timeline: its date, its phase on that day, and its fact as an index into the
/// deduplicated facts. Plain values only, so that gathering and sorting a million of them copies no
/// reference (events used to carry the fact itself, and retain/release was the fold's largest cost).
struct PersonEvent {
    var date: CalendarDate
    /// Order among one day's events: registration, act, resumption, repair, restoration.
    var phase: FactKind
    var fact: Int

    /// The events in timeline order: by date, then phase, then fact id (unique after deduplication).
    static func timeline(_ events: [PersonEvent], of facts: [Fact]) -> [PersonEvent] {
        events.sorted { lhs, rhs in
            if lhs.date != rhs.date { return lhs.date < rhs.date }
            if lhs.phase != rhs.phase { return lhs.phase < rhs.phase }
            return facts[lhs.fact].id < facts[rhs.fact].id
        }
    }
}
