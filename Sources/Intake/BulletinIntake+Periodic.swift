import Foundation
import Ledger
import Scoring

extension BulletinIntake {
    /// The periodic bulletins of `region` for `period`, unsigned (what `tongbao bulletin` prints).
    public func periodicDrafts(region: String, period: ReportingPeriod, creditModel: CreditModel) throws -> (bulletin: OutboundDraft, ratings: [OutboundDraft]) {
        try PeriodicBulletins(routing: committer.derivation.routing, projection: projection, directory: committer.directory, creditModel: creditModel)
            .drafts(region: region, period: period)
    }

    /// The unsigned text of a draft, exactly what is signed.
    public func unsignedText(_ draft: OutboundDraft) throws -> String {
        try committer.signer.unsigned(draft)
    }

    /// Signs and issues the periodic bulletins of `region` for `period` into the outbox, through the
    /// committer (the gateway's one write path). A bulletin already issued under its id is left as it is
    /// (`.duplicate`): each is issued once.
    public func issuePeriodic(region: String, period: ReportingPeriod, creditModel: CreditModel, now: Date = Date()) async throws -> [AppendOutcome] {
        let (bulletin, ratings) = try periodicDrafts(region: region, period: period, creditModel: creditModel)
        return try await committer.issue([bulletin] + ratings, now: now)
    }

    /// Signs and issues the overdue notices (D2) of every tracked step overdue on `today` through the
    /// committer; a notice issued before (the same step) is left as it is, so each is issued once.
    public func issueOverdueNotices(on today: CalendarDate, now: Date = Date()) async throws -> [AppendOutcome] {
        let drafts = try await OverdueNotices(routing: committer.derivation.routing, projection: projection, directory: committer.directory,
                                              ledger: committer.ledger).drafts(on: today)
        guard !drafts.isEmpty else { return [] }
        return try await committer.issue(drafts, now: now)
    }

    /// The regions that receive periodic bulletins.
    public var bulletinRegions: [String] { committer.derivation.routing.bulletinRegions }
}
