/// One due date of the notification workflow that follows a scoring act (scoring.md §10).
public struct WorkflowDeadline: Sendable, Equatable {
    /// The step: a deadline name of the rule pack (`notice-to-institution`, `objection`, …).
    public var step: String
    /// The last working day the step may be done on.
    public var due: CalendarDate
    /// The step (or `decision`) it counts from.
    public var countsFrom: String
    /// Whether the count went through a year the calendar does not hold yet (weekdays only): the date
    /// may move when that year is loaded.
    public var provisional: Bool

    /// Creates a deadline.
    public init(step: String, due: CalendarDate, countsFrom: String, provisional: Bool = false) {
        self.step = step
        self.due = due
        self.countsFrom = countsFrom
        self.provisional = provisional
    }
}

/// The due dates of each workflow step of an act, in working days from the calendar (scoring.md §10).
///
/// Each step counts from the one before it, in the order the source documents give:
/// - packs that score at the final decision (`shanghai`, SH 第十五条—第二十二条): `admin-to-agency` (only for
///   a penalty decision), `notice-to-institution`, `objection`, `final-without-objection`, `delivery`,
///   `institution-update`;
/// - packs that score at the decision (医保办发〔2024〕34号): `notice-to-institution`, `delivery`, `objection`.
///
/// `objection-decision` and `restoration-evaluation` count from an objection or an application, not from
/// the act, so they are not part of an act's schedule. A step the pack does not set is skipped.
public enum WorkflowSchedule {
    /// The chain of steps for packs that score at the decision.
    static let atDecision = ["notice-to-institution", "delivery", "objection"]
    /// The chain of steps for packs that score at the final decision.
    static let atFinalDecision = ["admin-to-agency", "notice-to-institution", "objection", "final-without-objection", "delivery", "institution-update"]

    /// The deadlines of `act` under `pack`, in order; those counted through a year the calendar does not
    /// hold are provisional (and so is every step that counts from one).
    public static func deadlines(of act: ScoringAct, pack: RulePack, calendar: WorkingDayCalendar) -> [WorkflowDeadline] {
        let chain = pack.scoreDate == .finalDecision ? atFinalDecision : atDecision
        var result: [WorkflowDeadline] = []
        var base = act.decidedOn
        var countsFrom = "decision"
        var provisional = false
        for step in chain {
            guard let days = pack.deadlines[step] else { continue }
            if step == "admin-to-agency", act.source != .penaltyDecision { continue }
            let due = calendar.countWorkingDays(days, from: base)
            provisional = provisional || due.provisional
            result.append(WorkflowDeadline(step: step, due: due.date, countsFrom: countsFrom, provisional: provisional))
            base = due.date
            countsFrom = step
        }
        return result
    }

    /// The day a restoration application filed on `appliedOn` must be evaluated by, when the pack sets
    /// `restoration-evaluation`.
    public static func restorationEvaluationDue(appliedOn: CalendarDate, pack: RulePack, calendar: WorkingDayCalendar) -> WorkingDayCalendar.CountedDate? {
        guard let days = pack.deadlines["restoration-evaluation"] else { return nil }
        return calendar.countWorkingDays(days, from: appliedOn)
    }
}
