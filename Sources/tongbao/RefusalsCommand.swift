import ArgumentParser
import Foundation
import Gateway
import Ledger
import Scoring

/// `tongbao refusals`: what the gateway refused, from its bounded refusal record (not the log).
struct RefusalsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refusals",
        abstract: "List refused submissions, oldest first: SEQ RECEIVED-AT SENDER CODE [REASON] TYPE ISSUER/ID SHA256 SIZE.",
        discussion: """
            The refusal record keeps the last 100,000 refusals with what could be read of each (issuer, id, type), \
            the client's participant, the code and the SHA-256 of the bytes; never the bytes. Works beside a running gateway.
            """)

    @OptionGroup var location: OutboxCommand.Location

    @Option(help: "Only refusals received on or after this date (YYYY-MM-DD, China Standard Time) or RFC 3339 time with +08:00.")
    var since: String?

    @Option(help: "At most this many lines.")
    var limit: Int = 1000

    func run() async throws {
        try await runReportingErrors("refusals") {
            let from = try since.map(Self.lowerBound)
            guard limit >= 1 else { throw CLIError.usage("--limit must be at least 1") }
            try await withOpenedLedger(try ledgerAddress(data: location.data, database: location.database, mustExist: true)) { log in
                var output = StandardOutput()
                for refusal in try await log.refusals(since: from, limit: limit) { output.writeLine(Self.line(refusal)) }
                output.flush()
            }
        }
    }

    /// The `received_at` lower bound of `--since`: a date is its midnight in China; a time is taken as written.
    static func lowerBound(_ text: String) throws(CLIError) -> String {
        if CalendarDate(iso: text) != nil { return text + "T00:00:00+08:00" }
        guard text.count >= 20, text.hasSuffix("+08:00"), text.dropFirst(10).first == "T" else {
            throw CLIError.usage("--since \(text) must be YYYY-MM-DD or an RFC 3339 time with +08:00 (as the record keeps them)")
        }
        return text
    }

    /// One tab-separated line.
    static func line(_ refusal: Refusal) -> String {
        func shown(_ text: String) -> String { text.isEmpty ? "-" : text }
        return [String(refusal.sequence), refusal.receivedAt, shown(refusal.sender), refusal.code + (refusal.reason.map { "/\($0)" } ?? ""),
                shown(refusal.type), "\(shown(refusal.issuer))/\(shown(refusal.id))", refusal.sha256, String(refusal.size)]
            .joined(separator: "\t")
    }
}
