import Foundation
import Ledger
import Logging
import ServiceLifecycle

extension Intake {
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

    /// The regions that receive periodic bulletins.
    var bulletinRegions: [String] { committer.derivation.routing.bulletinRegions }
}

/// Issues each region's periodic bulletins once their period has ended: the `ScoreBulletin` and the
/// `CreditRating`s of the last complete period, checked every `interval` (each is issued once).
public final class PeriodicScheduler: Service, Sendable {
    let intake: Intake
    let length: ReportingPeriod.Length
    let creditModel: CreditModel
    let interval: Duration
    let logger: Logger

    /// Creates a scheduler.
    public init(intake: Intake, length: ReportingPeriod.Length, creditModel: CreditModel, interval: Duration, logger: Logger) {
        self.intake = intake
        self.length = length
        self.creditModel = creditModel
        self.interval = interval
        self.logger = logger
    }

    /// Runs until graceful shutdown.
    public func run() async throws {
        await repeatUntilShutdown(every: interval) { await self.issueDue() }
    }

    /// Issues what is due on `now`; returns the number of bulletins newly issued.
    @discardableResult
    public func issueDue(now: Date = Date()) async -> Int {
        guard let period = ReportingPeriod.lastComplete(length, before: Timestamps.chinaDate(now)) else { return 0 }
        var issued = 0
        for region in intake.bulletinRegions {
            do {
                let outcomes = try await intake.issuePeriodic(region: region, period: period, creditModel: creditModel, now: now)
                let new = outcomes.filter { if case .appended = $0 { true } else { false } }.count
                if new > 0 {
                    logger.info("periodic bulletins issued", metadata: ["region": .string(region), "period": .string(period.description), "count": .stringConvertible(new)])
                }
                issued += new
            } catch {
                logger.error("cannot issue periodic bulletins", metadata: ["region": .string(region), "period": .string(period.description), "error": .string("\(error)")])
            }
        }
        return issued
    }
}

/// Keeps the projection current with what other writers append to a shared log (another gateway node on
/// the same database, or `tongbao bulletin --issue` beside this one), every `interval`.
public final class LogFollower: Service, Sendable {
    let intake: Intake
    let interval: Duration
    let logger: Logger

    /// Creates a follower.
    public init(intake: Intake, interval: Duration, logger: Logger) {
        self.intake = intake
        self.interval = interval
        self.logger = logger
    }

    /// Runs until graceful shutdown.
    public func run() async throws {
        await repeatUntilShutdown(every: interval) {
            do {
                try await self.intake.catchUp()
            } catch {
                self.logger.error("cannot read the log to follow other writers", metadata: ["error": .string("\(error)")])
            }
        }
    }
}
