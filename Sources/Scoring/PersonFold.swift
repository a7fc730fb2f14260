/// One person's state while facts are folded in score-date order (scoring.md §5–§9).
///
/// It is a value with mutating steps, one per kind of fact; ``Scorer`` feeds it the person's
/// events sorted by (date, phase, fact id), so the result never depends on arrival order.
struct PersonFold {
    struct Suspension: Equatable {
        var start: CalendarDate
        var end: CalendarDate
        /// The decision date of an approved restoration for this suspension.
        var restoredOn: CalendarDate?
    }

    struct Termination: Equatable {
        var on: CalendarDate
        var banUntil: CalendarDate
        /// Whether the act alone reached the termination total (not repairable).
        var oneTime: Bool
    }

    let code: String
    let pack: RulePack
    let calendar: WorkingDayCalendar?
    /// The facts whose history entries are recorded.
    let historyScope: HistoryScope

    private(set) var year: Int?
    private(set) var total = 0
    private var repairBarred = false
    private var capUses: [String: Int] = [:]
    private var shortenedThisYear = false
    private(set) var suspension: Suspension?
    private(set) var linked: [String: CalendarDate] = [:]
    private(set) var termination: Termination?
    private(set) var lastActions: [Notice] = []
    private(set) var history: [HistoryEntry] = []
    private(set) var diagnostics: [Diagnostic] = []
    /// (institution, year) of every act that put the person into a sanction.
    private(set) var sanctionedAt: [(institution: String, year: Int)] = []
    /// The first day the person was registered at each institution (a registration in force before a
    /// suspension may be recorded again during it, D39).
    private(set) var firstRegistered: [String: CalendarDate] = [:]
    /// The practice notices applied, in timeline order (on the file; no scoring effect).
    private(set) var practice: [PracticeNoticeFact] = []
    /// The referrals of the person and the replies to them (on the file; no scoring effect).
    private(set) var referrals: [ReferralFact] = []
    private(set) var referralReplies: [ReferralReplyFact] = []

    init(code: String, pack: RulePack, calendar: WorkingDayCalendar?, historyScope: HistoryScope) {
        self.code = code
        self.pack = pack
        self.calendar = calendar
        self.historyScope = historyScope
    }

    // MARK: Time

    /// Starts a new calendar year's total on 1 January (自动清零); running sanctions continue.
    private mutating func roll(to date: CalendarDate) {
        guard year != date.year else { return }
        year = date.year
        total = 0
        repairBarred = false
        capUses = [:]
        shortenedThisYear = false
    }

    /// Drops a suspension that has ended and been restored (or restores automatically).
    private mutating func settle(on date: CalendarDate) {
        guard let current = suspension, current.end <= date else { return }
        if current.restoredOn != nil || pack.restoration.automatic { suspension = nil }
    }

    /// Applies one event of the person's timeline: `points` are the act's points for this person (nil
    /// for other facts).
    mutating func apply(_ fact: Fact, points: ActPoints?, on date: CalendarDate) {
        switch fact {
        case .act(let act): if let points { applyAct(act, points: points, on: date) }
        case .repair(let repair): applyRepair(repair)
        case .restoration(let restoration): applyRestoration(restoration)
        case .resumption(let resumption): applyResumption(resumption)
        case .registration(let registration): applyRegistration(registration)
        case .practice(let notice): practice.append(notice)
        case .referral(let referral): referrals.append(referral)
        case .referralReply(let reply): referralReplies.append(reply)
        case .finalDecision, .correction: break  // never a person's event
        }
    }

    // MARK: Acts

    mutating func applyAct(_ act: ScoringAct, points: ActPoints, on date: CalendarDate) {
        roll(to: date)
        settle(on: date)
        let totalBefore = total
        total += points.points
        if points.points >= pack.repair.barOneTimeScore { repairBarred = true }
        let recording = historyScope.includes(act.id)
        var outcome = Notes(enabled: recording)
        var keys = Notes(enabled: recording)
        var sanctioned = false

        if points.statusEffects.contains(.terminate) {
            let banUntil = date.adding(years: pack.institutionEvents.terminationBanYears)
            if terminate(Termination(on: date, banUntil: banUntil, oneTime: false)) {
                sanctioned = true
                outcome.append("terminated with the institution's agreement, ban until \(banUntil)")
            } else {
                // A running ban that ends later stands (scoring.md §7): say so, not the shorter one.
                outcome.append("the institution's agreement is terminated; the ban already running until \(termination.map { "\($0.banUntil)" } ?? "-") stands")
            }
            keys.append("institutionEvents.terminationBanYears")
        } else if points.statusEffects.contains(.suspend) {
            if termination == nil {
                for institution in act.institutions where linked[institution] == nil { linked[institution] = date }
                sanctioned = true
                outcome.append("suspended while the agreement of \(act.institutions.joined(separator: ", ")) is suspended")
            } else {
                outcome.append("already terminated: the agreement suspension changes nothing")
            }
        }

        if points.points > 0 {
            let sanctions = pack.sanctions
            let oneTime = points.points >= sanctions.terminationTotal
            if total >= sanctions.terminationTotal, totalBefore >= sanctions.terminationTotal, !oneTime {
                // The total was already at the termination level: the points are recorded, the ban stands.
                outcome.append("total \(total), already at the termination level: recorded, no new sanction")
            } else if total >= sanctions.terminationTotal {
                let years = oneTime ? sanctions.oneTimeBanYears : sanctions.banYears
                let banUntil = date.adding(years: years)
                if terminate(Termination(on: date, banUntil: banUntil, oneTime: oneTime)) {
                    sanctioned = true
                    outcome.append("terminated (total \(total)\(oneTime ? ", one-time \(points.points)" : "")), re-registration from \(banUntil)")
                } else {
                    outcome.append("already terminated until \(termination.map { "\($0.banUntil)" } ?? "-")")
                }
                keys.append(oneTime ? "sanctions.termination.oneTimeBanYears" : "sanctions.termination.banYears")
            } else if let (months, key) = suspensionMonths(total: total, points: points.points) {
                keys.append(key)
                if termination != nil {
                    outcome.append("already terminated: a \(months)-month suspension changes nothing")
                } else {
                    let end = suspend(from: date, months: months)
                    sanctioned = true
                    outcome.append("suspended \(months) month(s) (total \(total), one-time \(points.points)) until \(end)")
                    keys.append("sanctions.overlap")
                }
            }
        }
        if sanctioned {
            for institution in act.institutions { sanctionedAt.append((institution, date.year)) }
        }
        lastActions = pack.notices.first { $0.contains(total) }?.actions ?? []
        keys.append("notices")
        if recording {
            record(act.id, kind: .act, date: date, points: points, change: points.points,
                   outcome: outcome.items.isEmpty ? "no sanction (total \(total))" : outcome.items.joined(separator: "; "),
                   keys: points.findings.flatMap { $0.situations.flatMap(\.keys) } + keys.items)
        }
    }

    /// The suspension months for a total reached by an act of `points`, with the pack key used.
    private func suspensionMonths(total: Int, points: Int) -> (Int, String)? {
        let sanctions = pack.sanctions
        guard let cumulative = sanctions.cumulativeMonths(total: total) else { return nil }
        guard sanctions.crossing == .largerOfCumulativeAndOneTime,
              let oneTime = sanctions.oneTimeMonths(points: points), oneTime > cumulative else {
            return (cumulative, "sanctions.steps.months")
        }
        return (oneTime, "sanctions.steps.oneTimeMonths")
    }

    /// Terminates; a running termination keeps the later ban. Returns whether anything changed.
    private mutating func terminate(_ new: Termination) -> Bool {
        if let current = termination, current.banUntil >= new.banUntil { return false }
        termination = new
        suspension = nil
        linked = [:]
        return true
    }

    /// Suspends for `months` from `date`, combining with a running suspension; returns the end.
    private mutating func suspend(from date: CalendarDate, months: Int) -> CalendarDate {
        let newEnd = date.adding(months: months)
        guard var current = suspension, current.end > date else {
            suspension = Suspension(start: date, end: newEnd, restoredOn: nil)
            return newEnd
        }
        let end = switch pack.sanctions.overlap {
        case .laterEnd: max(current.end, newEnd)
        case .consecutive: current.end.adding(months: months)
        }
        if end != current.end {
            current.end = end
            current.restoredOn = nil
        }
        suspension = current
        return current.end
    }

    // MARK: Repairs

    mutating func applyRepair(_ repair: RepairDecision) {
        let date = repair.decidedOn
        roll(to: date)
        settle(on: date)
        guard let rule = pack.repair.categories[repair.category] else {
            return reject(repair.id, "repair-not-applicable", "repair category \"\(repair.category.rawValue)\" does not exist under the \(pack.name) rules")
        }
        // Only the year of the one-time act is barred (scoring.md §8, 一次记满12分的，不予修复); a later year's
        // points can be repaired, and a one-time termination is never shortened by it (``shortenSanction``).
        guard !repairBarred else {
            return reject(repair.id, "repair-barred", "a one-time score of \(pack.repair.barOneTimeScore) or more this year cannot be repaired")
        }
        guard total > 0 else {
            return reject(repair.id, "nothing-to-repair", "no points to repair in \(date.year) (repairs cannot be banked)")
        }
        if pack.repair.halfPeriodFirst, let period = runningSanctionPeriod(on: date) {
            let halfway = period.start.adding(days: (period.start.days(until: period.end) + 1) / 2)
            guard date >= halfway else {
                return reject(repair.id, "repair-too-early", "half of the sanction \(period.start)…\(period.end) has not run; a repair is possible from \(halfway)")
            }
        }
        if let group = rule.capGroup {
            let cap = pack.repair.capGroups[group] ?? 0
            guard capUses[group, default: 0] < cap else {
                return reject(repair.id, "repair-cap-reached", "the yearly cap of \(cap) repair(s) in \"\(group)\" is reached")
            }
        }
        var points = rule.points
        var keys = ["repair.categories.\(repair.category.rawValue)"]
        if let bands = rule.examBands {
            guard let score = repair.examScore else {
                return reject(repair.id, "exam-score-missing", "the \(pack.name) rules repair by exam score, and examScore is missing")
            }
            points = bands.first { $0.scores.contains(score) }?.points ?? 0
            keys.append("repair.categories.\(repair.category.rawValue).examBands")
        } else if repair.fraudReport, let fraudPoints = rule.fraudPoints {
            points = fraudPoints
            keys.append("repair.categories.\(repair.category.rawValue).fraudPoints")
        }
        if let group = rule.capGroup {
            capUses[group, default: 0] += 1
            keys.append("repair.capGroups.\(group)")
        }
        let before = total
        total = max(0, total - points)
        let shortening = shortenSanction(on: date)
        keys.append("repair.shortening")
        if historyScope.includes(repair.id) {
            record(repair.id, kind: .repair, date: date, points: nil, change: total - before,
                   outcome: "total \(before) → \(total)" + (shortening.map { "; \($0)" } ?? ""), keys: keys)
        }
    }

    /// The period of the points sanction running on `date` (a termination's period is its ban).
    private func runningSanctionPeriod(on date: CalendarDate) -> (start: CalendarDate, end: CalendarDate)? {
        if let current = termination, current.banUntil > date { return (current.on, current.banUntil) }
        if let current = suspension, current.end > date { return (current.start, current.end) }
        return nil
    }

    /// Shortens the running sanction after a repair (scoring.md §8); returns what changed.
    private mutating func shortenSanction(on date: CalendarDate) -> String? {
        switch pack.repair.shortening {
        case .table:
            let sanctions = pack.sanctions
            if let current = termination, !current.oneTime, current.banUntil > date, total < sanctions.terminationTotal {
                let end = sanctions.cumulativeMonths(total: total).map { max(current.on.adding(months: $0), date) } ?? date
                termination = nil
                suspension = Suspension(start: current.on, end: end, restoredOn: nil)
                return "termination becomes a suspension \(current.on)…\(end)"
            }
            if var current = suspension, current.end > date {
                let end = sanctions.cumulativeMonths(total: total).map { max(current.start.adding(months: $0), date) } ?? date
                guard end < current.end else { return nil }
                current.end = end
                suspension = current
                return "suspension now ends \(end)"
            }
            return nil
        case .fixed(let months):
            guard !shortenedThisYear else { return nil }
            if var current = termination, !current.oneTime, current.banUntil > date {
                current.banUntil = max(current.banUntil.adding(months: -months), date)
                termination = current
                shortenedThisYear = true
                return "ban now ends \(current.banUntil)"
            }
            if var current = suspension, current.end > date {
                current.end = max(current.end.adding(months: -months), date)
                suspension = current
                shortenedThisYear = true
                return "suspension now ends \(current.end)"
            }
            return nil
        }
    }

    // MARK: Restoration, institution events, registration

    mutating func applyRestoration(_ restoration: RestorationDecision) {
        let date = restoration.decidedOn
        settle(on: date)
        guard termination == nil else {
            return reject(restoration.id, "restoration-not-applicable", "a terminated person registers again after the ban; restoration does not apply")
        }
        guard var current = suspension else {
            if !linked.isEmpty {
                return reject(restoration.id, "restoration-not-applicable", "a suspension linked to an institution's agreement ends with agreement-resumed")
            }
            return reject(restoration.id, "nothing-to-restore", "the person has no suspension to restore")
        }
        current.restoredOn = date
        suspension = current
        let returnsOn = max(date, current.end)
        var outcome = "returns to normal on \(returnsOn)"
        if let calendar, case let due = calendar.countWorkingDays(-pack.restoration.windowWorkingDays, from: current.end).date,
           restoration.appliedOn > due {
            outcome += "; applied late (due by \(due))"
            diagnostics.append(Diagnostic(
                fact: restoration.id, code: "restoration-late",
                message: "applied on \(restoration.appliedOn), after the window closed on \(due); accepted, effective \(returnsOn)",
                applied: true))
        }
        if historyScope.includes(restoration.id) {
            record(restoration.id, kind: .restoration, date: date, points: nil, change: 0, outcome: outcome,
                   keys: ["restoration.windowWorkingDays"])
        }
    }

    mutating func applyResumption(_ resumption: AgreementResumption) {
        guard linked.removeValue(forKey: resumption.institution) != nil else { return }
        if historyScope.includes(resumption.id) {
            record(resumption.id, kind: .agreementResumed, date: resumption.decidedOn, points: nil, change: 0,
                   outcome: linked.isEmpty ? "linked suspension ends" : "linked suspension ends for \(resumption.institution)",
                   keys: [])
        }
    }

    mutating func applyRegistration(_ registration: RegistrationFact) {
        guard registration.action == .register else { return }
        if let current = termination {
            guard registration.on >= current.banUntil else {
                return reject(registration.id, "registration-barred", "re-registration is barred until \(current.banUntil)")
            }
            termination = nil
            if historyScope.includes(registration.id) {
                record(registration.id, kind: .registration, date: registration.on, points: nil, change: 0,
                       outcome: "registered again after the ban", keys: [])
            }
        } else {
            // D39 (GD 第十一条): while suspended, no institution registers the person anew; one where the person
            // was registered before the suspension may record the registration again.
            settle(on: registration.on)
            if let start = [suspension?.start, linked.values.min()].compactMap({ $0 }).min(),
               firstRegistered[registration.institution].map({ $0 > start }) ?? true {
                return reject(registration.id, "registration-barred",
                              "suspended since \(start): \(registration.institution) may not register the person until the suspension ends")
            }
        }
        if firstRegistered[registration.institution] == nil { firstRegistered[registration.institution] = registration.on }
    }

    // MARK: Reading

    /// The state on `asOf` (all events up to `asOf` must have been applied).
    func state(asOf: CalendarDate, pending: Bool) -> PersonState {
        var settled = self
        settled.settle(on: asOf)
        var items: [String] = pending ? ["pending-final-decision"] : []
        let points = settled.year == asOf.year ? settled.total : 0
        let status: RegistrationStatus
        var until: CalendarDate?
        var suspensionEnded: CalendarDate?
        if let current = settled.termination {
            status = .terminated
            until = current.banUntil
        } else if !settled.linked.isEmpty {
            status = .suspended
        } else if let current = settled.suspension {
            status = .suspended
            if asOf < current.end {
                until = current.end
            } else {
                items.insert("overdue-restoration", at: 0)
                suspensionEnded = current.end
            }
        } else {
            status = .normal
        }
        var state = PersonState(
            person: code, year: asOf.year, points: points, status: status, until: until,
            actions: settled.lastActions, items: items, history: settled.history, suspensionEnded: suspensionEnded)
        if !practice.isEmpty {
            let blocking = pack.practice.blockingEvents
            state.practice = practice.map { PracticeRecord(notice: $0, blocking: blocking.contains($0.event) && $0.inForce(on: asOf)) }
            state.practiceBar = blocking.first { event in state.practice.contains { $0.blocking && $0.notice.event == event } }
        }
        if !referrals.isEmpty {
            state.referrals = ReferralFollowUp.records(referrals, replies: referralReplies, asOf: asOf, pack: pack, calendar: calendar)
        }
        return state
    }

    // MARK: Helpers

    private mutating func reject(_ fact: FactID, _ code: String, _ message: String) {
        diagnostics.append(Diagnostic(fact: fact, code: code, message: message, applied: false))
    }

    /// Records a history entry; callers build the texts only when ``historyScope`` includes the fact.
    private mutating func record(
        _ fact: FactID, kind: FactKind, date: CalendarDate, points: ActPoints?, change: Int,
        outcome: String, keys: [String]
    ) {
        history.append(HistoryEntry(
            fact: fact, kind: kind, date: date, points: points, change: change, total: total, outcome: outcome,
            keys: Array(Set(keys)).sorted()))
    }
}

/// Explanation texts collected while folding, only when explanations were asked for.
private struct Notes {
    let enabled: Bool
    private(set) var items: [String] = []

    init(enabled: Bool) { self.enabled = enabled }

    mutating func append(_ text: @autoclosure () -> String) {
        if enabled { items.append(text()) }
    }
}
