import Ledger
import Synchronization

/// The gateway's Prometheus metrics: requests by route and status, bulletins by type and outcome, the
/// intake latency histogram, and the log size (read at scrape time).
public final class GatewayMetrics: Sendable {
    private struct RequestKey: Hashable {
        let route: String
        let status: Int
    }

    private struct State {
        var requests: [RequestKey: Int] = [:]
        var bulletins: [String: Int] = [:]
        var latencyBuckets = [Int](repeating: 0, count: GatewayMetrics.bounds.count)
        var latencyCount = 0
        var latencySum = 0.0
        var commits = 0
        var committedItems = 0
        var largestCommit = 0
        /// The end of validity of each participant's certificate last seen (and the gateway's own).
        var certificates: [String: Int] = [:]
    }

    /// Histogram bucket bounds, in seconds.
    static let bounds: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
    private let state = Mutex(State())

    /// Creates an empty registry.
    public init() {}

    /// Counts one HTTP request.
    public func request(route: String, status: Int) {
        state.withLock { $0.requests[RequestKey(route: route, status: status), default: 0] += 1 }
    }

    /// Counts one submitted bulletin and its intake latency.
    public func bulletin(type: String, outcome: String, seconds: Double) {
        state.withLock { state in
            state.bulletins["type=\"\(type.isEmpty ? "unknown" : type)\",outcome=\"\(outcome)\"", default: 0] += 1
            for (index, bound) in Self.bounds.enumerated() where seconds <= bound { state.latencyBuckets[index] += 1 }
            state.latencyCount += 1
            state.latencySum += seconds
        }
    }

    /// Counts one group commit of `items` bulletins (accepted and refused alike).
    public func commit(items: Int) {
        state.withLock { state in
            state.commits += 1
            state.committedItems += items
            state.largestCommit = max(state.largestCommit, items)
        }
    }

    /// Group commits so far, the bulletins they wrote, and the largest.
    /// Records when `participant`'s certificate (the one it last connected or signed with) stops being valid.
    public func sawCertificate(of participant: String, notAfter: Int) {
        state.withLock { $0.certificates[participant] = notAfter }
    }

    public var commits: (count: Int, items: Int, largest: Int) {
        state.withLock { ($0.commits, $0.committedItems, $0.largestCommit) }
    }

    /// The Prometheus text exposition (version 0.0.4).
    /// `outbox` gives the number of deliveries in each state (a gauge per state).
    public func render(ledgerEntries: Int, outbox: [DeliveryState: Int] = [:]) -> String {
        state.withLock { state in
            var lines = [
                "# HELP tongbao_http_requests_total HTTP requests by route and status.",
                "# TYPE tongbao_http_requests_total counter",
            ]
            lines += state.requests.map { key, count in "tongbao_http_requests_total{route=\"\(key.route)\",status=\"\(key.status)\"} \(count)" }.sorted()
            lines += ["# HELP tongbao_bulletins_total Submitted bulletins by type and outcome.", "# TYPE tongbao_bulletins_total counter"]
            lines += state.bulletins.keys.sorted().map { "tongbao_bulletins_total{\($0)} \(state.bulletins[$0] ?? 0)" }
            lines += ["# HELP tongbao_intake_seconds Intake latency, from receipt of the body to the answer.", "# TYPE tongbao_intake_seconds histogram"]
            for (index, bound) in Self.bounds.enumerated() {
                lines.append("tongbao_intake_seconds_bucket{le=\"\(bound)\"} \(state.latencyBuckets[index])")
            }
            lines += ["tongbao_intake_seconds_bucket{le=\"+Inf\"} \(state.latencyCount)", "tongbao_intake_seconds_sum \(state.latencySum)",
                      "tongbao_intake_seconds_count \(state.latencyCount)",
                      "# HELP tongbao_intake_commits_total Durable log transactions of intake (group commits).",
                      "# TYPE tongbao_intake_commits_total counter", "tongbao_intake_commits_total \(state.commits)",
                      "# HELP tongbao_intake_committed_total Bulletins written by those transactions (accepted and refused).",
                      "# TYPE tongbao_intake_committed_total counter", "tongbao_intake_committed_total \(state.committedItems)",
                      "# HELP tongbao_ledger_entries Entries in the message log.", "# TYPE tongbao_ledger_entries gauge",
                      "tongbao_ledger_entries \(ledgerEntries)",
                      "# HELP tongbao_outbox_deliveries Outbound deliveries by state (dead: waiting for an operator).",
                      "# TYPE tongbao_outbox_deliveries gauge"]
            lines += DeliveryState.allCases.map { "tongbao_outbox_deliveries{state=\"\($0.rawValue)\"} \(outbox[$0] ?? 0)" }
            lines += ["# HELP tongbao_certificate_not_after_seconds When each participant's certificate last seen, and the gateway's own, stops being valid (Unix time).",
                      "# TYPE tongbao_certificate_not_after_seconds gauge"]
            lines += state.certificates.keys.sorted().map { "tongbao_certificate_not_after_seconds{participant=\"\($0)\"} \(state.certificates[$0] ?? 0)" }
            return lines.joined(separator: "\n") + "\n"
        }
    }
}
