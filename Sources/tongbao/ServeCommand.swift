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

    @Option(name: .customLong("idle-timeout"), help: "Seconds a connection may go without a TLS handshake, a complete request head or a new request.")
    var idleTimeout: Int = 30

    @Option(name: .customLong("max-connections"), help: "Connections each listener holds at once (default: 1000, or a third of the file descriptor limit).")
    var maxConnections: Int = ConnectionLimits.defaultMaxConnections

    @Option(name: .customLong("rate-limit"), help: "Requests per participant and second over mutual TLS, bursts of twice that; 0: unlimited.")
    var rateLimit: Int = 10_000

    @Option(name: .customLong("crl-grace-hours"), help: "Hours a CRL past its nextUpdate is still used (an explicit, logged override; default 0: a stale CRL refuses the certificates it covers at once).")
    var crlGraceHours: Int = 0

    @Option(name: .customLong("clock-skew"), help: "Seconds a bulletin's issuedAt may be ahead of the gateway's clock.")
    var clockSkew: Int = 300

    func run() async throws {
        try await runReportingErrors("serve") { try await serve() }
    }

    private func serve() async throws {
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
        guard idleTimeout >= 1, maxConnections >= 1, rateLimit >= 0, clockSkew >= 0 else {
            throw CLIError.usage("--idle-timeout and --max-connections must be at least 1, --rate-limit and --clock-skew at least 0")
        }
        guard (0...720).contains(crlGraceHours) else { throw CLIError.usage("--crl-grace-hours must be between 0 and 720") }
        var setup = try GatewaySetup(options, requireLog: false)
        setup.configuration.allowedClockSkew = clockSkew
        do {
            for path in try LogKeyHistory(logKeyPath: setup.logKeyPath).removeEndedKeys(now: Int(Date().timeIntervalSince1970)) {
                logger.info("deleted a previous log key whose overlap has ended (its public key stays listed)", metadata: ["file": .string(path)])
            }
        } catch {
            throw CLIError.data(error.detail)
        }
        if crlGraceHours > 0 {
            setup.configuration.trust = try TrustStore(directory: setup.trustPath, crlGrace: crlGraceHours * 3600)
            logger.warning("the operator allows stale CRLs: a CRL past its nextUpdate stays in use for this many hours (--crl-grace-hours); /healthz warns crl-grace meanwhile",
                           metadata: ["hours": .stringConvertible(crlGraceHours)])
        }
        let api = try Self.address(listen, flag: "--listen")
        let participantsFolder = pki.appendingPathComponent("participants").path
        let trustPath = setup.trustPath
        var settings = GatewaySettings(
            gateway: setup.configuration, scorer: setup.scorer, ledger: setup.ledger, api: api,
            internalAPI: try internalListen.map { try Self.address($0, flag: "--internal-listen") },
            certificatePEM: String(decoding: try readInput(setup.certPath), as: UTF8.self),
            keyPEM: String(decoding: try readPrivateKey(setup.keyPath), as: UTF8.self),
            rootsPEM: try setup.rootsPEM(), creditModel: try setup.library.creditModel(creditModel))
        settings.pushPolicy.attemptLimit = pushAttempts
        settings.pushPolicy.baseDelayMilliseconds = pushBackoff
        settings.pushPolicy.timeoutMilliseconds = pushTimeout
        settings.bulletinPeriod = bulletinPeriod
        settings.connectionLimits = ConnectionLimits(idleTimeout: .seconds(idleTimeout), maxConnections: maxConnections)
        settings.requestsPerSecond = rateLimit == 0 ? nil : rateLimit
        let rules = setup.library.directory.path
        // The calendar is reloaded (and recorded) on its own; the packs and credit models are recorded at start.
        settings.trustSources = TrustSources(
            trustDirectory: setup.trustPath, participantsFile: setup.participantsPath, crlGrace: crlGraceHours * 3600,
            configuration: [ConfigurationFiles(what: "rules", folder: rules, under: ["packs", "credit"], extensions: ["json"])],
            calendarFolder: setup.library.directory.appendingPathComponent("calendar").path)
        settings.onAPIRunning = { port in
            // Unbuffered, so that the lines show at once even when stdout is a file or a pipe.
            FileHandle.standardOutput.write(Data("""
                tongbao gateway listening on https://\(api.host):\(port) (mutual TLS)
                client keys and certificates: \(participantsFolder)/CODE.{key,cert}.pem
                try: swift run tongbao submit --url https://\(api.host):\(port) --key \(participantsFolder)/440800-HEALTH.key.pem \\
                       --cert \(participantsFolder)/440800-HEALTH.cert.pem --trust \(trustPath) examples/bulletins/licence-revocation.xml

                """.utf8))
        }
        let internalHost = settings.internalAPI?.host ?? ""
        settings.onInternalRunning = { port in
            FileHandle.standardOutput.write(Data("internal listener (plain HTTP, read-only) on http://\(internalHost):\(port)\n".utf8))
        }
        try await runReportingErrors("serve") {
            let gateway: Gateway
            do {
                gateway = try await GatewayApp.makeGateway(settings, logger: logger)
            } catch let error as LedgerError where error.code == .logIntegrity {
                throw CLIError.data("refusing to serve: \(error)")
            } catch let error as LedgerError {
                throw CLIError.io("cannot open the ledger: \(error)")
            }
            // `tongbao reload` finds the process here.
            let pidFile = URL(fileURLWithPath: options.data).appendingPathComponent("tongbao.pid")
            try? Data("\(getpid())\n".utf8).write(to: pidFile)
            defer { try? FileManager.default.removeItem(at: pidFile) }
            do {
                try await gateway.run(stoppingOnSignals: true)
            } catch let error as LedgerError where error.code == .logIntegrity {
                throw CLIError.data("refusing to serve: \(error); `tongbao log verify` says more, `tongbao restore` puts back a verified backup")
            } catch let error as LedgerError {
                throw CLIError.io("the ledger: \(error)")
            }
            StandardError.write("tongbao serve: stopped; every receipted bulletin is in the log\n")
        }
    }

    static func address(_ text: String, flag: String) throws(CLIError) -> ListenAddress {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]), (0...65535).contains(port) else { throw CLIError.usage("\(flag) must be HOST:PORT") }
        return ListenAddress(host: String(parts[0]), port: port)
    }
}
