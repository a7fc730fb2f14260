import ArgumentParser
import Foundation
import Gateway
import Ledger
import Logging
import Scoring
import Trust

/// The options that say where a gateway's data, keys and participants are: shared by `serve` and the
/// operator commands (`outbox`, `bulletin`, `deadlines`) that work on the same data folder.
struct GatewayOptions: ParsableArguments {
    @Option(help: "The data folder.")
    var data: String = "tongbao-data"

    @Option(help: "The trust store folder (default: DATA/pki/trust, generated on first start).")
    var trust: String?

    @Option(help: "The participants file (default: DATA/pki/participants.json).")
    var participants: String?

    @Option(help: "The gateway's signing and TLS key (PEM; default: the development PKI's).")
    var key: String?

    @Option(help: "The gateway's certificate (PEM; default: the development PKI's).")
    var cert: String?

    @Option(help: "The log's Ed25519 key, which signs its checkpoints (PEM; default: CODE.log-key.pem beside the signing key, created on first use). Every node of a cluster needs the same.")
    var logKey: String?

    @Option(help: "The log's name, the first line of its checkpoints (default: tongbao/CODE).")
    var logOrigin: String?

    @Option(help: "The database URL: sqlite:PATH (default: DATA/tongbao.sqlite) or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE.")
    var database: String?

    @Option(help: "The rule pack for bulletins that name none.")
    var rules: String = "guangdong"

    @OptionGroup var rulesDirectory: RulesDirectoryOption

    var pki: URL { URL(fileURLWithPath: data).appendingPathComponent("pki") }
}

/// A gateway's configuration, loaded from its options and files: who it is, its keys, its rule packs and
/// where its ledger is. `serve` turns it into ``GatewaySettings``; the operator commands open the ledger.
struct GatewaySetup {
    var configuration: GatewayConfiguration
    let library: RuleLibrary
    let scorer: Scorer
    let ledger: LedgerAddress
    let keyPath: String
    let certPath: String
    /// The log's Ed25519 key (its history of rotations beside it).
    let logKeyPath: String
    let trustPath: String
    /// The participants file (reloaded while the gateway runs, with the trust store).
    let participantsPath: String

    /// Loads everything; `requireLog` refuses a data folder without a log (the operator commands).
    init(_ options: GatewayOptions, requireLog: Bool) throws {
        participantsPath = options.participants ?? options.pki.appendingPathComponent("participants.json").path
        let members = try ParticipantsFile.parse(try readInput(participantsPath))
        guard let gateway = members.first(where: { $0.role == .gateway }) else {
            throw CLIError.data("\(participantsPath): no participant has the role gateway")
        }
        keyPath = options.key ?? options.pki.appendingPathComponent("participants/\(gateway.code).key.pem").path
        certPath = options.cert ?? options.pki.appendingPathComponent("participants/\(gateway.code).cert.pem").path
        trustPath = options.trust ?? options.pki.appendingPathComponent("trust").path
        library = try options.rulesDirectory.library()
        var packs: [String: RulePack] = [:]
        for name in RuleLibrary.packNames { packs[name] = try library.pack(name) }
        guard let scoringPack = packs[options.rules] else { throw CLIError.usage("--rules \(options.rules): no such pack") }
        logKeyPath = options.logKey ?? GatewayConfiguration.logKeyPath(beside: keyPath, code: gateway.code)
        var configuration = GatewayConfiguration(
            code: gateway.code, region: gateway.region, participants: members, trust: try TrustStore(directory: trustPath),
            signingKey: try PrivateKey(pem: try readPrivateKey(keyPath)), signingCertificate: try Trust.Certificate(pem: try readInput(certPath)),
            logKey: try Ed25519PrivateKey.loadOrCreate(at: logKeyPath),
            logOrigin: options.logOrigin,
            packs: packs, defaultPack: options.rules)
        do {
            configuration.previousLogKeys = try LogKeyHistory(logKeyPath: logKeyPath).previousKeys(now: Int(Date().timeIntervalSince1970))
        } catch {
            throw CLIError.data(error.detail)
        }
        self.configuration = configuration
        ledger = try ledgerAddress(data: options.data, database: options.database, mustExist: requireLog)
        scorer = Scorer(pack: scoringPack, calendar: try library.calendar())
    }

    /// The PEM text of every root of the trust store.
    func rootsPEM() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: trustPath + "/roots").filter { $0.hasSuffix(".pem") }.sorted()
            .map { String(decoding: try readInput(trustPath + "/roots/" + $0), as: UTF8.self) }
    }

    /// Runs `body` with intake over the ledger, its projection rebuilt from the whole log (the operator
    /// commands that compute from the gateway's facts).
    func withIntake(logger: Logger, _ body: (BulletinIntake) async throws -> Void) async throws {
        try await withOpenedLedger(ledger) { store in
            let intake = try BulletinIntake(configuration: configuration, ledger: store, projection: FactProjection(scorer: scorer), logger: logger)
            try await intake.openLog(signing: false)
            try await body(intake)
        }
    }
}
