
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
        /// Done after the due date.
        case late
        /// No longer owed: what it belonged to was replaced or withdrawn.
        case cancelled
    }

    /// The bulletin the step belongs to: the act, or for `referral-reply` and `referral-final` the referral
    /// (nil for `overdue-restoration`).
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

/// Every act's workflow deadlines, every open restoration and every referral's reply deadlines on a date
/// (scoring.md §9–§10, exchange-flows.md §2.3): the gateway tracks what it can see done — a Shanghai act's
/// final decision (`final-without-objection`), a suspended person's restoration, a regulator's reply to a
/// referral; the other steps happen outside it and are listed as `passed`.
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
        for person in try scorer.evaluate(facts, asOf: today).persons {
            if person.items.contains("overdue-restoration") {
                items.append(DeadlineItem(act: nil, persons: [person.person], step: "overdue-restoration", due: person.suspensionEnded ?? today, state: .overdue))
            }
            for record in person.referrals {
                for deadline in record.deadlines {
                    items.append(DeadlineItem(act: record.referral.id, persons: [person.person], step: deadline.step, due: deadline.due,
                                              state: deadline.state, provisional: deadline.provisional))
                }
            }
        }
        return items
            .filter { !overdueOnly || $0.state == .overdue }
            .sorted { ($0.due, $0.step, $0.act?.description ?? "", $0.persons.joined()) < ($1.due, $1.step, $1.act?.description ?? "", $1.persons.joined()) }
    }
}
