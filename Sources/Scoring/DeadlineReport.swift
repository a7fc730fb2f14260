
/// One workflow deadline of one act, or an open restoration, and where it stands on a date.
public struct DeadlineItem: Sendable, Equatable {
    /// Where a deadline stands.
    public enum State: String, Sendable, CaseIterable {
        /// Not yet due.
        case open
        /// Done: the gateway saw the bulletin that completes it.
        case met
        /// Due date passed and the gateway has not seen it done.
        case overdue
        /// Due date passed; the step is done outside the gateway, which cannot see it (informational).
        case passed
    }

    /// The act (or, for `overdue-restoration`, nil).
    public var act: FactID?
    /// The person (for `overdue-restoration` and acts of one person).
    public var persons: [String]
    /// The step: a pack deadline name, or `overdue-restoration`.
    public var step: String
    /// The due date.
    public var due: CalendarDate
    /// Where it stands.
    public var state: State
    /// Whether `due` was counted through a year the working-day calendar does not hold yet (weekdays
    /// only); it is recomputed from the facts once that year is loaded.
    public var provisional: Bool = false
}

/// Every act's workflow deadlines and every open restoration on a date (scoring.md §9–§10, issue 6):
/// the gateway tracks what it can see done — a Shanghai act's final decision (`final-without-objection`)
/// and a suspended person's restoration; the other steps happen outside it and are listed as `passed`.
public enum DeadlineReport {
    /// The items on `today`, sorted by due date, step and act; only `overdue` ones when `overdueOnly`.
    public static func items(facts: [Fact], scorer: Scorer, on today: CalendarDate, overdueOnly: Bool) throws(ScoringError) -> [DeadlineItem] {
        var withdrawn = Set<FactID>()
        var finalDecisions: [FactID: CalendarDate] = [:]
        for fact in facts {
            switch fact {
            case .correction(let correction): withdrawn.insert(correction.target)
            case .finalDecision(let decision): finalDecisions[decision.target] = decision.decidedOn
            default: break
            }
        }
        var items: [DeadlineItem] = []
        if let calendar = scorer.calendar {
            for case .act(let act) in facts where !withdrawn.contains(act.id) {
                for deadline in WorkflowSchedule.deadlines(of: act, pack: scorer.pack, calendar: calendar) {
                    let tracked = deadline.step == "final-without-objection"
                    let state: DeadlineItem.State
                    if tracked, finalDecisions[act.id] != nil {
                        state = .met
                    } else if deadline.due >= today {
                        state = .open
                    } else {
                        state = tracked ? .overdue : .passed
                    }
                    items.append(DeadlineItem(act: act.id, persons: Array(Set(act.personCodes)).sorted(), step: deadline.step, due: deadline.due,
                                              state: state, provisional: deadline.provisional))
                }
            }
        }
        for person in try scorer.evaluate(facts, asOf: today).persons where person.items.contains("overdue-restoration") {
            items.append(DeadlineItem(act: nil, persons: [person.person], step: "overdue-restoration", due: person.suspensionEnded ?? today, state: .overdue))
        }
        return items
            .filter { !overdueOnly || $0.state == .overdue }
            .sorted { ($0.due, $0.step, $0.act?.description ?? "", $0.persons.joined()) < ($1.due, $1.step, $1.act?.description ?? "", $1.persons.joined()) }
    }
}
