import Foundation
import Intake
import Ledger
import Logging
import ServiceLifecycle

/// Issues each region's periodic bulletins once their period has ended (the `ScoreBulletin` and the
/// `CreditRating`s of the last complete period) and the overdue notices of the steps overdue today,
/// checked every `interval` (each is issued once).
public final class PeriodicScheduler: Service, Sendable {
    let intake: BulletinIntake
    let length: ReportingPeriod.Length
    let creditModel: CreditModel
    let interval: Duration
    let logger: Logger

    /// Creates a scheduler.
    public init(intake: BulletinIntake, length: ReportingPeriod.Length, creditModel: CreditModel, interval: Duration, logger: Logger) {
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

    /// Issues what is due on `now`: the periodic bulletins of the last complete period, and the notices of
    /// the steps overdue today (D2). Returns the number of bulletins newly issued.
    @discardableResult
    public func issueDue(now: Date = Date()) async -> Int {
        var issued = 0
        do {
            let new = try await intake.issueOverdueNotices(on: Timestamps.chinaDate(now), now: now).filter { if case .appended = $0 { true } else { false } }.count
            if new > 0 { logger.info("overdue notices issued", metadata: ["count": .stringConvertible(new)]) }
            issued += new
        } catch {
            logger.error("cannot issue the overdue notices", metadata: ["error": .string("\(error)")])
        }
        guard let period = ReportingPeriod.lastComplete(length, before: Timestamps.chinaDate(now)) else { return issued }
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
    let intake: BulletinIntake
    let interval: Duration
    let logger: Logger

    /// Creates a follower.
    public init(intake: BulletinIntake, interval: Duration, logger: Logger) {
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
