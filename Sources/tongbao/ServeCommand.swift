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

/// `tongbao serve`: the gateway.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the gateway: mutual-TLS intake, durable log, signed receipts, eligibility.",
        discussion: """
            With no flags: data in ./tongbao-data (SQLite), a development PKI and participants file generated
            there on first start, listening on 127.0.0.1:8443 with mutual TLS. Stops gracefully on SIGINT/SIGTERM.
            """)

    @Option(help: "The data folder.")
    var data: String = "tongbao-data"

    @Option(help: "HOST:PORT to listen on.")
    var listen: String = "127.0.0.1:8443"

    @Option(help: "The trust store folder (default: DATA/pki/trust, generated on first start).")
    var trust: String?

    @Option(help: "The participants file (default: DATA/pki/participants.json).")
    var participants: String?

    @Option(help: "The gateway's signing and TLS key (PEM; default: the development PKI's).")
    var key: String?

    @Option(help: "The gateway's certificate (PEM; default: the development PKI's).")
    var cert: String?

    @Option(help: "The database URL: sqlite:PATH (default: DATA/tongbao.sqlite).")
    var database: String?

    @Option(name: .customLong("internal-listen"), help: "HOST:PORT for plain-HTTP eligibility, /healthz and /metrics (off by default).")
    var internalListen: String?

    @Option(help: "The rule pack for bulletins that name none.")
    var rules: String = "guangdong"

    @OptionGroup var rulesDirectory: RulesDirectoryOption

    func run() async throws {
        let dataFolder = URL(fileURLWithPath: data)
        let pki = dataFolder.appendingPathComponent("pki")
        if trust == nil, !FileManager.default.fileExists(atPath: pki.appendingPathComponent("trust/roots/root.pem").path) {
            _ = try DevelopmentPKI.generate(
                members: ParticipantsFile.defaults.map { DevelopmentPKI.Member(code: $0.code, name: $0.name, serverNames: $0.role == .gateway ? ["localhost", "127.0.0.1"] : []) }, algorithm: .ecdsa,
                into: pki, now: Int(Date().timeIntervalSince1970))
            try Data(ParticipantsFile.text(ParticipantsFile.defaults).utf8).write(to: pki.appendingPathComponent("participants.json"))
            FileHandle.standardOutput.write(Data("generated a development PKI in \(pki.path)\n".utf8))
        }
        let participantsPath = participants ?? pki.appendingPathComponent("participants.json").path
        let members = try ParticipantsFile.parse(try readInput(participantsPath))
        guard let gateway = members.first(where: { $0.role == .gateway }) else {
            throw CLIError.data("\(participantsPath): no participant has the role gateway")
        }
        let keyPath = key ?? pki.appendingPathComponent("participants/\(gateway.code).key.pem").path
        let certPath = cert ?? pki.appendingPathComponent("participants/\(gateway.code).cert.pem").path
        let trustPath = trust ?? pki.appendingPathComponent("trust").path
        let store = try TrustStore(directory: trustPath)
        let library = try rulesDirectory.library()
        var packs: [String: RulePack] = [:]
        for name in RuleLibrary.packNames { packs[name] = try library.pack(name) }
        let configuration = GatewayConfiguration(
            code: gateway.code, region: gateway.region, participants: members, trust: store,
            signingKey: try PrivateKey(pem: try readInput(keyPath)), signingCertificate: try Trust.Certificate(pem: try readInput(certPath)),
            packs: packs, defaultPack: rules)
        try FileManager.default.createDirectory(at: dataFolder, withIntermediateDirectories: true)
        let log = try SQLiteMessageLog(path: try databasePath(data: data, database: database))
        var logger = Logger(label: "tongbao.gateway")
        logger.logLevel = .info
        guard let scoringPack = packs[rules] else { throw CLIError.usage("--rules \(rules): no such pack") }
        let scorer = Scorer(pack: scoringPack, calendar: try library.calendar())
        let pipeline = try IntakePipeline(configuration: configuration, log: log, projection: FactProjection(scorer: scorer), logger: logger)
        let (host, port) = try Self.address(listen, flag: "--listen")
        let tls = try GatewayServer.tlsConfiguration(
            certificatePEM: String(decoding: try readInput(certPath), as: UTF8.self), keyPEM: String(decoding: try readInput(keyPath), as: UTF8.self),
            rootsPEM: try FileManager.default.contentsOfDirectory(atPath: trustPath + "/roots").filter { $0.hasSuffix(".pem") }
                .map { String(decoding: try readInput(trustPath + "/roots/" + $0), as: UTF8.self) })
        let participantsFolder = pki.appendingPathComponent("participants").path
        let app = try GatewayServer(pipeline: pipeline).application(host: host, port: port, tls: tls, logger: logger) { _ in
            // Unbuffered, so that the lines show at once even when stdout is a file or a pipe.
            FileHandle.standardOutput.write(Data("""
                tongbao gateway listening on https://\(host):\(port) (mutual TLS)
                client keys and certificates: \(participantsFolder)/CODE.{key,cert}.pem
                try: swift run tongbao submit --url https://\(host):\(port) --key \(participantsFolder)/440800-HEALTH.key.pem \\
                       --cert \(participantsFolder)/440800-HEALTH.cert.pem --trust \(trustPath) examples/bulletins/licence-revocation.xml

                """.utf8))
        }
        var services: [any Service] = [app]
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
