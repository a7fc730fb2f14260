import ArgumentParser
import Foundation
import Gateway
import Ledger

extension DeliveryState: ExpressibleByArgument {}

/// `tongbao outbox`: what waits to be delivered, what failed, and putting dead letters back.
struct OutboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox", abstract: "Inspect outbound deliveries and retry dead letters (works beside a running gateway).",
        subcommands: [List.self, Dead.self, Retry.self, Status.self])

    struct Location: ParsableArguments {
        @Option(help: "The gateway's data folder (the log is DATA/tongbao.sqlite).")
        var data: String = "tongbao-data"

        @Option(help: "The database URL instead: sqlite:PATH or postgres://USER@HOST:PORT/DATABASE.")
        var database: String?

        /// Runs `body` on the ledger as `tongbao outbox COMMAND`: errors become one line and an exit code.
        func withLedger(_ command: String, _ body: (any LedgerStore) async throws -> Void) async throws {
            try await runReportingErrors("outbox \(command)") {
                try await withOpenedLedger(try ledgerAddress(data: data, database: database, mustExist: true), body)
            }
        }
    }

    /// One line per delivery: sequence, state, attempts, recipient, type, issuer/id, last error.
    static func line(_ delivery: Delivery) -> String {
        [String(delivery.sequence), delivery.state.rawValue, "attempts=\(delivery.attempts)", delivery.recipient, delivery.type,
         "\(delivery.issuer)/\(delivery.id)", delivery.lastError.map { "last-error=\($0)" } ?? ""]
            .joined(separator: "\t").trimmingCharacters(in: .whitespaces)
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List deliveries, newest first: SEQ STATE ATTEMPTS RECIPIENT TYPE ISSUER/ID [LAST-ERROR].")

        @OptionGroup var location: Location

        @Option(help: "Only deliveries in this state: pending, delivered, acknowledged or dead.")
        var state: DeliveryState?

        @Option(help: "At most this many lines.")
        var limit: Int = 100

        func run() async throws {
            try await location.withLedger("list") { log in
                for delivery in try await log.deliveries(in: state, limit: limit) { print(OutboxCommand.line(delivery)) }
            }
        }
    }

    struct Dead: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the dead letters: deliveries whose push attempts ran out.")

        @OptionGroup var location: Location

        func run() async throws {
            try await location.withLedger("dead") { log in
                let dead = try await log.deliveries(in: .dead, limit: 10_000)
                for delivery in dead { print(OutboxCommand.line(delivery)) }
                StandardError.write("\(dead.count) dead letter(s)\(dead.isEmpty ? "" : "; put them back with: tongbao outbox retry")\n")
            }
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put dead letters back in the outbox with a fresh attempt count (all of them, or the sequence numbers given).")

        @OptionGroup var location: Location

        @Argument(help: "Sequence numbers from `tongbao outbox dead` (none: every dead letter).")
        var sequences: [Int] = []

        func run() async throws {
            try await location.withLedger("retry") { log in
                let now = Date()
                let count = try await log.retry(sequences.isEmpty ? nil : sequences, at: Timestamps.chinaStandardTime(now),
                                          now: Int64(now.timeIntervalSince1970 * 1000))
                print("put \(count) dead letter(s) back in the outbox; the gateway delivers them on its next pass")
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Who has a bulletin and who has not: one line per recipient, then its delivery log.")

        @OptionGroup var location: Location

        @Argument(help: "The bulletin as ISSUER/ID (for example 440800-GATEWAY/SB-440800-2025-06).")
        var bulletin: String

        func run() async throws {
            try await location.withLedger("status") { log in
                let parts = bulletin.split(separator: "/", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw CLIError.usage("give the bulletin as ISSUER/ID") }
                let deliveries = try await log.deliveries(ofBulletin: parts[0], id: parts[1])
                guard !deliveries.isEmpty else { throw CLIError.data("\(bulletin): no deliveries (unknown bulletin, or one nobody receives)") }
                let done = deliveries.filter { $0.state == .acknowledged }.count
                print("\(bulletin): \(done) of \(deliveries.count) recipient(s) acknowledged")
                for delivery in deliveries {
                    print("\(delivery.recipient)\t\(delivery.state.rawValue)\tattempts=\(delivery.attempts)\tsince \(delivery.updatedAt)")
                    for attempt in try await log.attempts(of: delivery.sequence) {
                        let retry = attempt.retryInMilliseconds.map { "\tretry in \($0) ms" } ?? ""
                        print("  \(attempt.at)\t#\(attempt.attempt)\t\(attempt.outcome.rawValue)\t\(attempt.detail)\(retry)")
                    }
                }
            }
        }
    }
}
