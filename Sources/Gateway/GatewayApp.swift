import Delivery
import Foundation
import GatewayHTTP
import Intake
import Ledger
import Logging
import NIOSSL
import Scoring
import ServiceLifecycle

/// A HOST:PORT to listen on (port 0: any free port, told through the settings' callbacks).
public struct ListenAddress: Sendable, Equatable {
    /// The host or address.
    public var host: String
    /// The port.
    public var port: Int

    /// Creates an address.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}

/// Everything a gateway is made of, as `tongbao serve` reads it from its flags and files (or a test or a
/// benchmark builds it).
public struct GatewaySettings: Sendable {
    /// Who the gateway is, whom it trusts, how it scores.
    public var gateway: GatewayConfiguration
    /// The scorer of the projection (the default pack and the working-day calendar).
    public var scorer: Scorer
    /// Where the ledger is.
    public var ledger: LedgerAddress
    /// The mutual-TLS API.
    public var api: ListenAddress
    /// The internal plain-HTTP listener (eligibility, `/healthz`, `/metrics`); nil: none.
    public var internalAPI: ListenAddress?
    /// The gateway's TLS certificate (PEM), presented to clients and to push recipients.
    public var certificatePEM: String
    /// The key of `certificatePEM` (PEM).
    public var keyPEM: String
    /// The trust store's roots (PEM), which client and recipient certificates must chain to.
    public var rootsPEM: [String]
    /// How push delivery retries.
    public var pushPolicy: RetryPolicy = .standard
    /// The length of the periodic bulletins' period.
    public var bulletinPeriod: ReportingPeriod.Length = .month
    /// The credit model behind `CreditRating`.
    public var creditModel: CreditModel
    /// How often the scheduler looks for periodic bulletins that are due (at start, then at this interval);
    /// nil: this node issues none (another node of the cluster does, or a test wants a quiet log).
    public var schedulerInterval: Duration? = .seconds(3600)
    /// How often the projection reads what other writers appended.
    public var followInterval: Duration = .milliseconds(500)
    /// Timeouts and the connection cap of both listeners.
    public var connectionLimits = ConnectionLimits()
    /// Where the trust store and participants are reloaded from while the gateway runs (SIGHUP, file
    /// change); nil: they stay as they were at start.
    public var trustSources: TrustSources?
    /// Whether SIGHUP reloads them (one gateway per process: tests running several leave it off).
    public var reloadOnHangUp = true
    /// What `/healthz` checks and its thresholds (the store's folder is the SQLite file's when not set).
    public var health = HealthCheck(storeFolder: nil)
    /// Requests per participant and second over mutual TLS (bursts of twice that); nil: unlimited.
    public var requestsPerSecond: Int? = 10_000
    /// Called with the API's port once it listens.
    public var onAPIRunning: @Sendable (Int) async -> Void = { _ in }
    /// Called with the internal listener's port once it listens.
    public var onInternalRunning: @Sendable (Int) async -> Void = { _ in }

    /// Settings with the defaults above.
    public init(gateway: GatewayConfiguration, scorer: Scorer, ledger: LedgerAddress, api: ListenAddress, internalAPI: ListenAddress? = nil,
                certificatePEM: String, keyPEM: String, rootsPEM: [String], creditModel: CreditModel) {
        self.gateway = gateway
        self.scorer = scorer
        self.ledger = ledger
        self.api = api
        self.internalAPI = internalAPI
        self.certificatePEM = certificatePEM
        self.keyPEM = keyPEM
        self.rootsPEM = rootsPEM
        self.creditModel = creditModel
    }

    /// How long a node keeps a claimed push delivery before another may try it: twice the attempt timeout,
    /// at least 10 s.
    var claimLeaseMilliseconds: Int64 { Int64(max(2 * pushPolicy.timeoutMilliseconds, 10_000)) }
}

/// A gateway assembled from its settings: its parts, and the services that run them.
public struct Gateway: Sendable {
    /// The ledger every part reads and the committer writes.
    public let ledger: any LedgerStore
    /// Intake and the one write path behind it.
    public let intake: BulletinIntake
    /// The HTTP API (and the internal listener's answers).
    public let server: GatewayServer
    /// Pushes the outbox to the recipients' endpoints.
    public let delivery: DeliveryWorker
    /// Issues the periodic bulletins (nil when the settings have no scheduler interval).
    public let scheduler: PeriodicScheduler?
    /// The services that run once the pre-start steps are done, in start order (stopped in reverse).
    public let services: [any Service]
    let logger: Logger

    /// The pre-start steps: the ledger's layout brought up to date, then the whole log verified against
    /// its Merkle tree and signed checkpoints while the projection is rebuilt from it (a log that does not
    /// verify throws `log-integrity`: nothing is served from it). The ledger must be running.
    public func prepare() async throws {
        try await ledger.migrate()
        try await intake.openLog()
    }

    /// Runs the gateway: the ledger first (stopped last), the pre-start steps, then every service until
    /// cancellation or, with `stoppingOnSignals`, SIGTERM or SIGINT (a graceful shutdown: the listeners
    /// stop taking requests, what is under way finishes).
    public func run(stoppingOnSignals: Bool = false) async throws {
        try await ledger.whileRunning { _ in
            do {
                try await prepare()
            } catch {
                try? await delivery.shutdown()   // it never ran: its HTTP client must still be shut down
                throw error
            }
            var configuration = ServiceGroupConfiguration(services: services.map { .init(service: $0) }, logger: logger)
            if stoppingOnSignals { configuration.gracefulShutdownSignals = [.sigterm, .sigint] }
            try await ServiceGroup(configuration: configuration).run()
        }
    }
}

/// Assembles gateways: the one place that turns settings into running parts (for `tongbao serve`, the
/// tests and the benchmarks alike).
public enum GatewayApp {
    /// The gateway of `settings`. Opens the ledger (nothing is read or migrated before ``Gateway/run(stoppingOnSignals:)``
    /// or ``Gateway/prepare()``).
    public static func makeGateway(_ settings: GatewaySettings, logger: Logger) async throws -> Gateway {
        let ledger = try await settings.ledger.open(claimLeaseMilliseconds: settings.claimLeaseMilliseconds)
        let intake = try BulletinIntake(configuration: settings.gateway, ledger: ledger, projection: FactProjection(scorer: settings.scorer), logger: logger)
        var health = settings.health
        if case .sqlite(let path) = settings.ledger, health.storeFolder == nil {
            health.storeFolder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        }
        let server = GatewayServer(intake: intake, ledger: ledger, rateLimiter: settings.requestsPerSecond.map { RateLimiter(rate: $0) }, health: health)
        let tls = try GatewayServer.tlsConfiguration(certificatePEM: settings.certificatePEM, keyPEM: settings.keyPEM, rootsPEM: settings.rootsPEM)
        let onAPIRunning = settings.onAPIRunning
        let api = try server.application(host: settings.api.host, port: settings.api.port, tls: tls, limits: settings.connectionLimits, logger: logger) { channel in
            await onAPIRunning(channel.localAddress?.port ?? 0)
        }
        let delivery = try DeliveryWorker(
            outbox: ledger, routing: OutboundRouting(live: intake.liveTrust, homeRegion: settings.gateway.region),
            policy: settings.pushPolicy, certificatePEM: settings.certificatePEM, keyPEM: settings.keyPEM, rootsPEM: settings.rootsPEM, logger: logger)
        let scheduler = settings.schedulerInterval.map { interval in
            PeriodicScheduler(intake: intake, length: settings.bulletinPeriod, creditModel: settings.creditModel, interval: interval, logger: logger)
        }
        let follower = LogFollower(intake: intake, interval: settings.followInterval, logger: logger)
        var services: [any Service] = [api, delivery, follower]
        if let sources = settings.trustSources {
            services.append(TrustReloader(sources: sources, liveTrust: intake.liveTrust, projection: intake.projection, onHangUp: settings.reloadOnHangUp,
                                          record: { change in try await intake.record(change) }, logger: logger))
        }
        if let scheduler { services.append(scheduler) }
        if let address = settings.internalAPI {
            let onInternalRunning = settings.onInternalRunning
            services.append(server.internalApplication(host: address.host, port: address.port, limits: settings.connectionLimits, logger: logger) { channel in
                await onInternalRunning(channel.localAddress?.port ?? 0)
            })
        }
        return Gateway(ledger: ledger, intake: intake, server: server, delivery: delivery, scheduler: scheduler, services: services, logger: logger)
    }
}
