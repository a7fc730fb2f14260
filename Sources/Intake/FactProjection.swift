import Bulletins
import Scoring
import Synchronization

/// The scoring facts of every accepted bulletin, indexed by person, rebuilt from the log at start and
/// kept current by intake; eligibility folds one person's facts with the same ``Scorer`` as `replay`.
public final class FactProjection: Sendable {
    private struct State {
        var byPerson: [String: [Fact]] = [:]
        /// Facts that can change anyone's state: corrections, final decisions, agreement resumptions.
        var shared: [Fact] = []
        /// Every fact by its identity.
        var byID: [FactID: Fact] = [:]
        /// How often each person's facts changed, and the shared facts: a person's answers stay valid while both stand still.
        var personVersions: [String: Int] = [:]
        var sharedVersion = 0
        /// What folds the facts (its working-day calendar can be replaced while the gateway runs).
        var scorer: Scorer

        /// The persons whose file `fact` is on: those it names, and for a reply the person of its referral
        /// (projected before it: the gateway issued the referral before anyone could answer it).
        func persons(of fact: Fact) -> [String] {
            if case .referralReply(let reply) = fact {
                if case .referral(let referral)? = byID[reply.referral] { return [referral.person] }
                return []
            }
            return fact.personCodes
        }
    }

    private let state: Mutex<State>

    /// Creates an empty projection folded with `scorer`.
    public init(scorer: Scorer) {
        state = Mutex(State(scorer: scorer))
    }

    /// Puts `calendar` in force for every later fold (a year's official arrangement loaded while the gateway
    /// runs): deadlines that were counted on weekdays past the old calendar's years, marked provisional,
    /// are counted on it from now on, and every answer kept under an earlier stamp is stale.
    public func replaceCalendar(_ calendar: WorkingDayCalendar) {
        state.withLock { state in
            state.scorer = Scorer(pack: state.scorer.pack, calendar: calendar)
            state.sharedVersion += 1
        }
    }

    /// Adds the fact of an accepted bulletin; a fact already added (same identity) is ignored, so that the
    /// log can be read again from any position.
    public func add(_ fact: Fact) {
        state.withLock { state in
            guard state.byID.updateValue(fact, forKey: fact.id) == nil else { return }
            switch fact {
            case .correction, .finalDecision, .resumption:
                state.shared.append(fact)
                state.sharedVersion += 1
            default:
                for person in Set(state.persons(of: fact)) {
                    state.byPerson[person, default: []].append(fact)
                    state.personVersions[person, default: 0] += 1
                }
            }
        }
    }

    /// Removes facts (the facts of a batch whose commit failed: the projection holds only what the log holds).
    public func remove(_ ids: [FactID]) {
        guard !ids.isEmpty else { return }
        state.withLock { state in
            // The persons first: a reply's person is found through its referral, which may go too.
            let persons = Set(ids.compactMap { state.byID[$0] }.flatMap { state.persons(of: $0) })
            let removed = ids.compactMap { state.byID.removeValue(forKey: $0) }
            let identities = Set(removed.map(\.id))
            state.shared.removeAll { identities.contains($0.id) }
            state.sharedVersion += 1
            for person in persons {
                state.byPerson[person]?.removeAll { identities.contains($0.id) }
                state.personVersions[person, default: 0] += 1
            }
        }
    }

    /// The person's state on `date`, exactly as `tongbao replay` would report it; an unknown person is
    /// normal with 0 points. With `explain`, the history of applied facts (the person's file).
    /// With `adding`, as if that fact were already projected (what intake derives its bulletins from).
    public func state(of person: String, on date: CalendarDate, explain: Bool = false, adding: Fact? = nil) throws(ScoringError) -> PersonState {
        try state(of: person, on: date, history: explain ? .all : .none, adding: adding)
    }

    /// The person's state on `date`, with the history entries of the facts `history` includes (intake
    /// records only the fact it derives from, whatever the person's file holds).
    public func state(of person: String, on date: CalendarDate, history: HistoryScope, adding: Fact? = nil) throws(ScoringError) -> PersonState {
        let (known, scorer) = state.withLock { state in ((state.byPerson[person] ?? []) + state.shared, state.scorer) }
        let facts = known + (adding.map { [$0] } ?? [])
        let evaluation = try scorer.evaluate(facts, asOf: date, history: history)
        return evaluation.persons.first { $0.person == person } ?? .unknown(person, asOf: date)
    }

    /// The person's state on `date` once `fact` is added (not yet projected), with the history entries
    /// `history` includes, and the state without it when one fold gave both (see
    /// ``Scorer/change(of:adding:to:asOf:history:)``): what intake derives its bulletins from.
    public func change(of person: String, on date: CalendarDate, adding fact: Fact, history: HistoryScope) throws(ScoringError) -> PersonChange {
        let (facts, scorer) = state.withLock { state in ((state.byPerson[person] ?? []) + state.shared, state.scorer) }
        return try scorer.change(of: person, adding: fact, to: facts, asOf: date, history: history)
    }

    /// A stamp that changes whenever a fact that can change `person`'s state is added or removed: an answer
    /// computed under one stamp holds as long as the stamp is the same.
    public func stamp(of person: String) -> ProjectionStamp {
        state.withLock { ProjectionStamp(person: $0.personVersions[person] ?? 0, shared: $0.sharedVersion) }
    }

    /// The facts on `person`'s file (not the shared ones), in the order added.
    public func facts(of person: String) -> [Fact] {
        state.withLock { $0.byPerson[person] } ?? []
    }

    /// The facts withdrawn by a correction of their own issuer (whatever its date: what the issuer took
    /// back is not counted against it).
    public func withdrawn() -> Set<FactID> {
        state.withLock { state in
            Set(state.shared.compactMap { fact in
                if case .correction(let correction) = fact, correction.id.issuer == correction.target.issuer { correction.target } else { nil }
            })
        }
    }

    /// The fact with this identity.
    public func fact(_ id: FactID) -> Fact? {
        state.withLock { $0.byID[id] }
    }

    /// Every fact, in no particular order (each once).
    public func allFacts() -> [Fact] {
        state.withLock { Array($0.byID.values) }
    }

    /// The scorer the projection folds with now.
    public var scoring: Scorer { state.withLock { $0.scorer } }

    /// An institution's indicators for the year of `date` (folds every fact: an administrative query, not
    /// the settlement hot path).
    public func indicators(of institution: String, on date: CalendarDate) throws(ScoringError) -> InstitutionIndicators {
        return try scoring.evaluate(allFacts(), asOf: date).institutions.first { $0.institution == institution }
            ?? InstitutionIndicators(institution: institution, year: date.year, sanctionedPersonTimes: 0, registeredPersons: 0,
                                     overThreshold: false, keySupervision: false, fraudActs: [])
    }
}

/// See ``FactProjection/stamp(of:)``.
public struct ProjectionStamp: Sendable, Hashable {
    let person: Int
    let shared: Int
}
