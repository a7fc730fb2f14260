import Foundation
import Intake
import Scoring
import StrictJSON
import Trust

/// What `/healthz` reports, fit for a load balancer: `failures` only when the node cannot serve correctly
/// (503), `warnings` for what an operator must act on soon (200 with `"status":"warn"`). A warning never
/// takes a node out of rotation: every node of a cluster would see the same one at once.
public struct HealthReport: Sendable, Equatable {
    /// One finding: a stable name and what it means.
    public struct Finding: Sendable, Equatable {
        /// `store-not-writable`, `disk-full`, `signing-key-unusable`, `crl-stale`, `crl-expiring`, `crl-grace`,
        /// `disk-nearly-full`, `calendar-runway`.
        public var check: String
        /// What was found, for the operator.
        public var detail: String
    }

    /// What stops the node from serving correctly.
    public var failures: [Finding] = []
    /// What an operator must act on soon.
    public var warnings: [Finding] = []

    /// 503 with failures, else 200.
    public var status: Int { failures.isEmpty ? 200 : 503 }

    /// The answer's JSON: `{"status":"ok"}`, `{"status":"warn","warnings":[…]}`, or a problem document
    /// (`status` 503, `checks` the failures) when the node cannot serve.
    public var json: String {
        func list(_ findings: [Finding]) -> String {
            JSONText.list(findings.map { JSONText.object([("check", JSONText.quoted($0.check)), ("detail", JSONText.quoted($0.detail))]) })
        }
        if !failures.isEmpty {
            return JSONText.object([
                ("type", JSONText.quoted("urn:tongbao:problem:unhealthy")), ("title", JSONText.quoted("The node cannot serve correctly")),
                ("status", "503"), ("code", JSONText.quoted("unhealthy")),
                ("detail", JSONText.quoted(failures.map(\.detail).joined(separator: "; "))), ("checks", list(failures)),
                ("warnings", list(warnings)),
            ])
        }
        if warnings.isEmpty { return #"{"status":"ok"}"# }
        return JSONText.object([("status", JSONText.quoted("warn")), ("warnings", list(warnings))])
    }

    /// The media type of ``json``.
    public var contentType: String { failures.isEmpty ? "application/json" : Problem.mediaType }
}

/// The checks behind `/healthz`, each cheap enough for a load balancer's every poll.
public struct HealthCheck: Sendable {
    /// The folder whose file system holds the store (nil for PostgreSQL: its disk is the database server's).
    public var storeFolder: String?
    /// Below this many free bytes the store cannot take writes: a failure.
    public var diskFailBelow: Int64 = 64 << 20
    /// Below this share of the file system free, a warning.
    public var diskWarnBelowFraction = 0.10
    /// A CRL this close to its `nextUpdate` is a warning (24 h).
    public var crlWarning: Int = 86_400
    /// A working-day calendar covering less than this many days ahead is a warning (60).
    public var calendarRunwayDays = 60

    /// Creates the checks of a store in `storeFolder`.
    public init(storeFolder: String?) {
        self.storeFolder = storeFolder
    }

    /// The report now, for `intake`'s store, trust and calendar.
    func report(intake: BulletinIntake, now: Date = Date()) -> HealthReport {
        var report = HealthReport()
        let seconds = Int(now.timeIntervalSince1970)
        if let failure = intake.storeFailure {
            report.failures.append(.init(check: "store-not-writable", detail: "the store refused the last group commit: \(failure)"))
        }
        if let storeFolder { disk(storeFolder, into: &report) }
        do {
            _ = try Signature.sign(Array("tongbao health".utf8), with: intake.configuration.signingKey)
        } catch {
            report.failures.append(.init(check: "signing-key-unusable", detail: "the gateway's signing key cannot sign: \(error.message)"))
        }
        let trust = intake.liveTrust.snapshot.trust
        for list in trust.revocationLists {
            guard let next = list.nextUpdate else { continue }
            let when = Timestamps.chinaStandardTime(Date(timeIntervalSince1970: TimeInterval(next)))
            if next <= seconds, seconds - next <= trust.crlGrace {
                let ends = Timestamps.chinaStandardTime(Date(timeIntervalSince1970: TimeInterval(next + trust.crlGrace)))
                report.warnings.append(.init(check: "crl-grace", detail: "the CRL of \(list.issuerName) was due to be replaced at \(when); the operator's grace period keeps it in use until \(ends), then certificates it covers are refused"))
            } else if next <= seconds {
                report.failures.append(.init(check: "crl-stale", detail: "the CRL of \(list.issuerName) was due to be replaced at \(when); certificates it covers are refused until a fresh one is loaded"))
            } else if next - seconds <= crlWarning {
                report.warnings.append(.init(check: "crl-expiring", detail: "the CRL of \(list.issuerName) must be replaced before \(when)"))
            }
        }
        if let calendar = intake.projection.scoring.calendar {
            let today = Timestamps.chinaDate(now)
            if let last = calendar.coveredThrough(from: today) {
                let days = last.dayNumber - today.dayNumber
                if days < calendarRunwayDays {
                    report.warnings.append(.init(check: "calendar-runway", detail: "the working-day calendar ends on \(last), in \(days) days: load the next year's arrangement; deadlines after it are provisional"))
                }
            } else {
                report.warnings.append(.init(check: "calendar-runway", detail: "the working-day calendar does not cover \(today): deadlines are counted on weekdays and marked provisional"))
            }
        }
        return report
    }

    private func disk(_ folder: String, into report: inout HealthReport) {
        var stats = statvfs()
        guard statvfs(folder, &stats) == 0 else {
            report.failures.append(.init(check: "disk-full", detail: "the store's file system cannot be read: \(String(cString: strerror(errno)))"))
            return
        }
        let free = Int64(stats.f_bavail) * Int64(stats.f_frsize)
        let total = max(1, Int64(stats.f_blocks) * Int64(stats.f_frsize))
        if free < diskFailBelow {
            report.failures.append(.init(check: "disk-full", detail: "\(free >> 20) MiB free where the store is (\(folder)); writes need at least \(diskFailBelow >> 20) MiB"))
        } else if Double(free) / Double(total) < diskWarnBelowFraction {
            report.warnings.append(.init(check: "disk-nearly-full", detail: "\(free >> 20) MiB free of \(total >> 20) MiB where the store is (\(folder))"))
        }
    }
}
