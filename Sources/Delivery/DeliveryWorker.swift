import AsyncHTTPClient
import Foundation
import Intake
import Ledger
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle

/// How push delivery retries (gateway.md §5): exponential backoff with jitter, then the dead-letter list.
public struct RetryPolicy: Sendable, Equatable {
    /// The delay after the first failure, in milliseconds.
    public var baseDelayMilliseconds: Int
    /// The longest delay, in milliseconds.
    public var maximumDelayMilliseconds: Int
    /// Attempts per recipient before the delivery becomes a dead letter.
    public var attemptLimit: Int
    /// How long one attempt may take, in milliseconds.
    public var timeoutMilliseconds: Int
    /// How often the worker looks for due deliveries, in milliseconds.
    public var pollMilliseconds: Int

    /// The production default: 2 s doubling to at most 1 h, 10 attempts (about 2.5 hours in all), 10 s per attempt.
    public static let standard = RetryPolicy(baseDelayMilliseconds: 2_000, maximumDelayMilliseconds: 3_600_000, attemptLimit: 10,
                                             timeoutMilliseconds: 10_000, pollMilliseconds: 1_000)

    /// Creates a policy.
    public init(baseDelayMilliseconds: Int, maximumDelayMilliseconds: Int, attemptLimit: Int, timeoutMilliseconds: Int, pollMilliseconds: Int) {
        self.baseDelayMilliseconds = baseDelayMilliseconds
        self.maximumDelayMilliseconds = maximumDelayMilliseconds
        self.attemptLimit = attemptLimit
        self.timeoutMilliseconds = timeoutMilliseconds
        self.pollMilliseconds = pollMilliseconds
    }

    /// The delay after failed attempt number `attempt` (1 for the first): `base × 2^(attempt−1)`, capped,
    /// scaled by a jitter factor in [0.5, 1] from `random` in [0, 1) ("equal jitter").
    public func delay(afterAttempt attempt: Int, random: Double) -> Int {
        let exponential = Double(baseDelayMilliseconds) * pow(2, Double(min(max(attempt - 1, 0), 40)))
        let capped = min(exponential, Double(maximumDelayMilliseconds))
        return Int(capped * (0.5 + 0.5 * min(max(random, 0), 1)))
    }

    /// What a failed attempt number `attempt` leads to.
    public func afterFailure(attempt: Int, detail: String, random: Double) -> PushResult {
        attempt >= attemptLimit ? .dead(detail: detail) : .retry(detail: detail, afterMilliseconds: delay(afterAttempt: attempt, random: random))
    }
}

/// Pushes due outbox deliveries to the recipients' endpoints over mutual TLS, one recipient's deliveries in
/// order, recipients in parallel; records every attempt in the delivery log.
public final class DeliveryWorker: Service, Sendable {
    let outbox: any LedgerStore
    /// The push endpoints by participant code, as they stand at each pass (the participants file is reloaded
    /// while the gateway runs).
    let endpoints: @Sendable () -> [String: String]
    let policy: RetryPolicy
    let client: HTTPClient
    let logger: Logger

    /// Creates a worker for the participants that have an `endpoint`; it presents `certificatePEM` as its
    /// client certificate and trusts the servers that chain to `rootsPEM`.
    public convenience init(outbox: any LedgerStore, endpoints: [String: String], policy: RetryPolicy, certificatePEM: String, keyPEM: String,
                            rootsPEM: [String], logger: Logger) throws {
        try self.init(outbox: outbox, endpoints: { endpoints }, policy: policy, certificatePEM: certificatePEM, keyPEM: keyPEM, rootsPEM: rootsPEM, logger: logger)
    }

    /// A worker whose endpoints are `routing`'s push endpoints at each pass.
    public convenience init(outbox: any LedgerStore, routing: OutboundRouting, policy: RetryPolicy, certificatePEM: String, keyPEM: String,
                            rootsPEM: [String], logger: Logger) throws {
        try self.init(outbox: outbox, endpoints: { routing.pushEndpoints }, policy: policy, certificatePEM: certificatePEM, keyPEM: keyPEM,
                      rootsPEM: rootsPEM, logger: logger)
    }

    init(outbox: any LedgerStore, endpoints: @escaping @Sendable () -> [String: String], policy: RetryPolicy, certificatePEM: String, keyPEM: String,
         rootsPEM: [String], logger: Logger) throws {
        self.outbox = outbox
        self.endpoints = endpoints
        self.policy = policy
        self.logger = logger
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)).map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem))
        tls.trustRoots = .certificates(try rootsPEM.flatMap { try NIOSSLCertificate.fromPEMBytes(Array($0.utf8)) })
        // Receivers are identified by a certificate chaining to the participants' root, not by a host name:
        // endpoints are often addressed by IP inside a government network.
        tls.certificateVerification = .noHostnameVerification
        tls.minimumTLSVersion = .tlsv12
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
    }

    /// Runs until graceful shutdown: a pass over due deliveries, then a pause.
    public func run() async throws {
        await repeatUntilShutdown(every: .milliseconds(policy.pollMilliseconds)) { _ = await self.deliverDue() }
        try await client.shutdown()
    }

    /// One pass: every due delivery is attempted once. Returns the number attempted.
    public func deliverDue(now: Date = Date()) async -> Int {
        let due: [OutboundMessage]
        let endpoints = endpoints()
        do {
            due = try await outbox.due(to: Set(endpoints.keys), now: Self.milliseconds(now), limit: 1000)
        } catch {
            logger.error("cannot read the outbox", metadata: ["error": .string(error.message)])
            return 0
        }
        let byRecipient = Dictionary(grouping: due, by: \.delivery.recipient)
        await withTaskGroup(of: Void.self) { group in
            for (recipient, messages) in byRecipient {
                guard let endpoint = endpoints[recipient] else { continue }
                group.addTask {
                    for message in messages { await self.attempt(message, endpoint: endpoint) }
                }
            }
        }
        return due.count
    }

    /// Stops the HTTP client (when the worker was used without `run()`).
    public func shutdown() async throws {
        try await client.shutdown()
    }

    private func attempt(_ message: OutboundMessage, endpoint: String) async {
        let delivery = message.delivery
        let attempt = delivery.attempts + 1
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: message.bytes.first == UInt8(ascii: "<") ? "application/xml" : "application/jose+json")
        request.headers.add(name: "Tongbao-Delivery", value: String(delivery.sequence))
        request.body = .bytes(ByteBuffer(bytes: message.bytes))
        let result: PushResult
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(policy.timeoutMilliseconds)))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            if (200..<300).contains(response.status.code) {
                result = .delivered(detail: "HTTP \(response.status.code)")
            } else {
                result = policy.afterFailure(attempt: attempt, detail: "HTTP \(response.status.code)", random: Double.random(in: 0..<1))
            }
        } catch {
            result = policy.afterFailure(attempt: attempt, detail: "\(error)", random: Double.random(in: 0..<1))
        }
        let now = Date()
        do {
            try await outbox.record(result, for: delivery.sequence, at: Timestamps.chinaStandardTime(now), now: Self.milliseconds(now))
        } catch {
            logger.error("cannot record a delivery attempt", metadata: ["sequence": .stringConvertible(delivery.sequence), "error": .string(error.message)])
        }
        var metadata: Logger.Metadata = [
            "recipient": .string(delivery.recipient), "type": .string(delivery.type), "id": .string(delivery.id),
            "sequence": .stringConvertible(delivery.sequence), "attempt": .stringConvertible(attempt),
        ]
        switch result {
        case .delivered: logger.info("bulletin delivered", metadata: metadata)
        case .retry(let detail, let delay):
            metadata["error"] = .string(detail)
            metadata["retry_in_ms"] = .stringConvertible(delay)
            logger.warning("delivery failed; will retry", metadata: metadata)
        case .dead(let detail):
            metadata["error"] = .string(detail)
            logger.error("delivery failed for the last time; moved to the dead-letter list", metadata: metadata)
        }
    }

    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }
}
