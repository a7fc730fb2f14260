import ArgumentParser
import Bulletins
import Foundation
import Gateway
import Hummingbird
import Ledger
import Logging
import Scoring
import ServiceLifecycle
import Trust

extension ReportingPeriod.Length: ExpressibleByArgument {}

/// `tongbao serve`: the gateway.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the gateway: mutual-TLS intake, durable log, signed receipts, eligibility.",
        discussion: """
            With no flags: data in ./tongbao-data (SQLite), a development PKI and participants file generated
            there on first start, listening on 127.0.0.1:8443 with mutual TLS. Stops gracefully on SIGINT/SIGTERM.
            """)

    @OptionGroup var options: GatewayOptions

    @Option(help: "HOST:PORT to listen on.")
    var listen: String = "127.0.0.1:8443"

    @Option(name: .customLong("internal-listen"), help: "HOST:PORT for plain-HTTP eligibility, /healthz and /metrics (off by default).")
    var internalListen: String?

    @Option(name: .customLong("push-attempts"), help: "Push attempts per recipient before a bulletin becomes a dead letter.")
    var pushAttempts: Int = RetryPolicy.standard.attemptLimit

    @Option(name: .customLong("push-backoff-ms"), help: "Backoff after the first failed push, in milliseconds (doubles each time, up to 1 hour).")
    var pushBackoff: Int = RetryPolicy.standard.baseDelayMilliseconds

    @Option(name: .customLong("push-timeout-ms"), help: "How long one push attempt may take, in milliseconds.")
    var pushTimeout: Int = RetryPolicy.standard.timeoutMilliseconds

    @Option(name: .customLong("bulletin-period"), help: "Periodic bulletins: month, quarter or year.")
    var bulletinPeriod: ReportingPeriod.Length = .month

    @Option(name: .customLong("credit-model"), help: "The credit model: a name under rules/credit/ or a path.")
    var creditModel: String = "default"

    func run() async throws {
        let pki = options.pki
        if options.trust == nil, !FileManager.default.fileExists(atPath: pki.appendingPathComponent("trust/roots/root.pem").path) {
            _ = try DevelopmentPKI.generate(
                members: ParticipantsFile.defaults.map { DevelopmentPKI.Member(code: $0.code, name: $0.name, serverNames: $0.role == .gateway ? ["localhost", "127.0.0.1"] : []) }, algorithm: .ecdsa,
                into: pki, now: Int(Date().timeIntervalSince1970))
            try Data(ParticipantsFile.text(ParticipantsFile.defaults).utf8).write(to: pki.appendingPathComponent("participants.json"))
            FileHandle.standardOutput.write(Data("generated a development PKI in \(pki.path)\n".utf8))
        }
        var logger = Logger(label: "tongbao.gateway")
        logger.logLevel = .info
        guard pushAttempts >= 1, pushBackoff >= 1, pushTimeout >= 1 else { throw CLIError.usage("--push-attempts, --push-backoff-ms and --push-timeout-ms must be at least 1") }
        // A claimed push is another node's for twice the attempt timeout (at least 10 s), then free again.
        let setup = try GatewaySetup(options, logger: logger, requireLog: false, claimLease: Int64(max(2 * pushTimeout, 10_000)))
        let pipeline = setup.pipeline
        let (host, port) = try Self.address(listen, flag: "--listen")
        let certificatePEM = String(decoding: try readInput(setup.certPath), as: UTF8.self)
        let keyPEM = String(decoding: try readInput(setup.keyPath), as: UTF8.self)
        let roots = try setup.rootsPEM()
        let tls = try GatewayServer.tlsConfiguration(certificatePEM: certificatePEM, keyPEM: keyPEM, rootsPEM: roots)
        let participantsFolder = pki.appendingPathComponent("participants").path
        let trustPath = setup.trustPath
        let app = try GatewayServer(pipeline: pipeline).application(host: host, port: port, tls: tls, logger: logger) { _ in
            // Unbuffered, so that the lines show at once even when stdout is a file or a pipe.
            FileHandle.standardOutput.write(Data("""
                tongbao gateway listening on https://\(host):\(port) (mutual TLS)
                client keys and certificates: \(participantsFolder)/CODE.{key,cert}.pem
                try: swift run tongbao submit --url https://\(host):\(port) --key \(participantsFolder)/440800-HEALTH.key.pem \\
                       --cert \(participantsFolder)/440800-HEALTH.cert.pem --trust \(trustPath) examples/bulletins/licence-revocation.xml

                """.utf8))
        }
        var policy = RetryPolicy.standard
        policy.attemptLimit = pushAttempts
        policy.baseDelayMilliseconds = pushBackoff
        policy.timeoutMilliseconds = pushTimeout
        let worker = try DeliveryWorker(
            outbox: setup.log, endpoints: OutboundRouting(participants: setup.configuration.participants, homeRegion: setup.configuration.region).pushEndpoints,
            policy: policy, certificatePEM: certificatePEM, keyPEM: keyPEM, rootsPEM: roots, logger: logger)
        let scheduler = PeriodicScheduler(pipeline: pipeline, length: bulletinPeriod, creditModel: try setup.library.creditModel(creditModel),
                                          interval: .seconds(3600), logger: logger)
        let follower = LogFollower(pipeline: pipeline, interval: .milliseconds(500), logger: logger)
        var services: [any Service] = [app, worker, scheduler, follower]
        let server = GatewayServer(pipeline: pipeline)
        if let internalListen {
            let (internalHost, internalPort) = try Self.address(internalListen, flag: "--internal-listen")
            services.append(server.internalApplication(host: internalHost, port: internalPort, logger: logger) { _ in
                FileHandle.standardOutput.write(Data("internal listener (plain HTTP, read-only) on http://\(internalHost):\(internalPort)\n".utf8))
            })
        }
        let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    static func address(_ text: String, flag: String) throws(CLIError) -> (String, Int) {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]), (0...65535).contains(port) else { throw CLIError.usage("\(flag) must be HOST:PORT") }
        return (String(parts[0]), port)
    }
}
