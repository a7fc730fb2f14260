// Gateway benchmark (issues 5 and 7): intake of signed bulletins per second over mutual TLS, from a
// concurrent keep-alive client, and eligibility queries per second with p50/p99 latency on the internal
// listener (wrk), next to nginx serving a static file of the same size in the same run.
//
//   swift build -c release && swift run -c release GatewayBenchmark [--bulletins N] [--concurrency C]
//       [--store sqlite|postgres] [--algorithm ecdsa|rsa|sm2] [--client lean|async-http-client] [--intake-only]
//       [--persons P]
//
// The bulletins are penalty decisions over P physicians (default 1,000) in turn, so each physician's file
// grows to N/P decisions during the run (12 for the documented 12,000): the later bulletins derive their
// score notices from longer files, and most physicians are suspended after a few.
//
// The intake client is by default a lean one (LeanSubmitter: prepared requests over keep-alive mTLS
// connections, like wrk); `--client async-http-client` submits through AsyncHTTPClient instead, as an
// application would, which costs the shared cores more per request.
//
// The gateway runs in this process on loopback (the client shares the machine's 2 cores, as a co-located
// client would). SQLite: synchronous=FULL, so every receipt waits for a durable commit. PostgreSQL: a
// server started here (initdb + pg_ctl, fsync on, synchronous_commit on), the same durability.
import AsyncHTTPClient
import Foundation
import Gateway
import Ledger
import Logging
import NIOCore
import NIOSSL
import Scoring
import Synchronization
import TongbaoTestSupport
import Trust

let commandLine = BenchmarkCommandLine(
    usage: "GatewayBenchmark [--bulletins N] [--concurrency C] [--store sqlite|postgres] [--algorithm ecdsa|rsa|sm2] "
        + "[--client lean|async-http-client] [--persons P] [--intake-only] [--no-nonce-pool]",
    options: [
        "--bulletins": .count, "--concurrency": .count, "--store": .choice(["sqlite", "postgres"]),
        "--algorithm": .choice(["ecdsa", "rsa", "sm2"]), "--client": .choice(["lean", "async-http-client"]),
        "--persons": .count, "--intake-only": .flag, "--no-nonce-pool": .flag,
    ])
let total = commandLine.int("--bulletins", 4000)
let concurrency = commandLine.int("--concurrency", 8)
let store = commandLine.text("--store", "sqlite")
let algorithm = KeyAlgorithm(rawValue: commandLine.text("--algorithm", "ecdsa")) ?? .ecdsa
/// The JWS `alg` and the `openssl speed` algorithm of the run.
let (algorithmName, speedName) = switch algorithm {
case .rsa: ("RS256", "rsa2048")
case .ecdsa: ("ES256", "ecdsap256")
case .sm2: ("SM2", "sm2")
}
let leanClient = commandLine.text("--client", "lean") != "async-http-client"
let persons = commandLine.int("--persons", 1000)
/// Measures intake only (no wrk and nginx afterwards): for comparing builds back to back.
let intakeOnly = commandLine.has("--intake-only")
let repository = commandLine.repository
// A fresh folder each run: a folder left by an interrupted run must never be mistaken for this one's (its bulletins would all be duplicates).
let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tongbao-gateway-bench-\(UUID().uuidString)")
defer { try? FileManager.default.removeItem(at: folder) }

let now = Int(Date().timeIntervalSince1970)
let members = ParticipantsFile.defaults.map { DevelopmentPKI.Member(code: $0.code, name: $0.name, serverNames: $0.role == .gateway ? ["127.0.0.1"] : []) }
// TLS (NIOSSL's BoringSSL) has no SM2: with --algorithm sm2 the connections and the gateway's own signatures
// are ECDSA, and the bulletins are signed by SM2 certificates of a second CA in the same trust store.
_ = try DevelopmentPKI.generate(members: members, algorithm: algorithm == .sm2 ? .ecdsa : algorithm, into: folder, now: now)
let signingFolder = algorithm == .sm2 ? folder.appendingPathComponent("sm2") : folder
if algorithm == .sm2 {
    _ = try DevelopmentPKI.generate(members: members, algorithm: .sm2, into: signingFolder, now: now, rootName: "Tongbao Development SM2 Root CA")
    for (from, to) in [("trust/roots/root.pem", "trust/roots/sm2-root.pem"), ("trust/crl/root.pem", "trust/crl/sm2-root.pem")] {
        try FileManager.default.copyItem(at: signingFolder.appendingPathComponent(from), to: folder.appendingPathComponent(to))
    }
}
func read(_ path: String) throws -> [UInt8] { Array(try Data(contentsOf: folder.appendingPathComponent(path))) }
let url = repository.appendingPathComponent("rules/packs/guangdong.json")
let pack = try RulePackLoader.load(try Data(contentsOf: url), source: url.path)
var configuration = try GatewayConfiguration.development(folder: folder, packs: ["guangdong": pack])
/// Signs without the precomputed ECDSA nonces, to measure what they are worth.
configuration.precomputesSigningNonces = !commandLine.has("--no-nonce-pool")
var logger = Logger(label: "bench")
logger.logLevel = .warning
let postgres = store == "postgres" ? try PostgresServer.start() : nil
defer { postgres?.stop() }
var settings = GatewaySettings(
    gateway: configuration, scorer: Scorer(pack: pack),
    ledger: postgres.map { .postgres(url: $0.url) } ?? .sqlite(path: folder.appendingPathComponent("tongbao.sqlite").path),
    api: ListenAddress(host: "127.0.0.1", port: 0), internalAPI: ListenAddress(host: "127.0.0.1", port: 0),
    certificatePEM: String(decoding: try read("participants/440800-GATEWAY.cert.pem"), as: UTF8.self),
    keyPEM: String(decoding: try read("participants/440800-GATEWAY.key.pem"), as: UTF8.self),
    rootsPEM: [String(decoding: try read("trust/roots/root.pem"), as: UTF8.self)],
    creditModel: try CreditModel.load(Array(try Data(contentsOf: repository.appendingPathComponent("rules/credit/default.json"))), source: "default.json"))
let ports = Mutex<[Int]>([])
let (started, continuation) = AsyncStream<Void>.makeStream()
settings.onAPIRunning = { port in
    ports.withLock { $0.append(port) }
    continuation.yield()
}
settings.onInternalRunning = { port in
    ports.withLock { $0.append(-port) }
    continuation.yield()
}
let gateway = try await GatewayApp.makeGateway(settings, logger: logger)
let gatewayTask = Task { try await gateway.run() }
var ready = 0
for await _ in started {
    ready += 1
    if ready == 2 { break }
}
let apiPort = ports.withLock { $0.first { $0 > 0 } ?? 0 }
let internalPort = ports.withLock { -($0.first { $0 < 0 } ?? 0) }

// Signed bulletins: penalty decisions over 1,000 physicians.
let key = try PrivateKey(pem: Array(try Data(contentsOf: signingFolder.appendingPathComponent("participants/440800-INS-ADMIN.key.pem"))))
let certificate = try Trust.Certificate(pem: Array(try Data(contentsOf: signingFolder.appendingPathComponent("participants/440800-INS-ADMIN.cert.pem"))))
let certificatePEM = try read("participants/440800-INS-ADMIN.cert.pem")   // the TLS client's
let jws = JWS()
var bodies: [[UInt8]] = []
for index in 0..<total {
    let text = #"{"id":"BENCH-\#(index)","type":"PenaltyDecision","issuer":"440800-INS-ADMIN","issuedAt":"2025-12-31T10:00:00+08:00","region":"440800","rules":"guangdong","body":{"decisionNo":"湛医保罚〔2025〕\#(index)号","decidedOn":"2025-06-\#(String(format: "%02d", 1 + index % 28))","institution":{"code":"H44080200001","kind":"medical"},"findings":[{"violation":"V1","situations":["procurement.non-selected"],"persons":[{"code":"D44080\#(String(format: "%07d", index % persons))","responsibility":"general"}]}]}}"#
    bodies.append(Array(try jws.sign(Array(text.utf8), key: key, chain: [certificate]).utf8))
}

var clientTLS = TLSConfiguration.makeClientConfiguration()
clientTLS.certificateChain = try NIOSSLCertificate.fromPEMBytes(certificatePEM).map { .certificate($0) }
clientTLS.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: try read("participants/440800-INS-ADMIN.key.pem"), format: .pem))
clientTLS.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(try read("trust/roots/root.pem")))
clientTLS.certificateVerification = .noHostnameVerification
let next = Mutex(0)
let failures = Mutex(0)
let completed = Mutex(0)
let submitted = bodies
let start = DispatchTime.now().uptimeNanoseconds
// Progress: bulletins answered in each second of the run (shows warm-up and any slowdown as the log grows).
let progress = Task {
    var previous = 0
    var second = 0
    while !Task.isCancelled {
        try await Task.sleep(for: .seconds(1))
        let now = completed.withLock { $0 }
        second += 1
        print("  second \(second): \(now - previous) bulletins answered (\(now) of \(total))")
        previous = now
    }
}
if leanClient {
    let outcome = try await LeanSubmitter.run(bodies: submitted, port: apiPort, tls: clientTLS, connections: concurrency,
                                              path: "/v1/bulletins", contentType: "application/jose+json") {
        completed.withLock { $0 += 1 }
    }
    failures.withLock { $0 = submitted.count - outcome.accepted }
} else {
    var clientConfiguration = HTTPClient.Configuration(tlsConfiguration: clientTLS)
    clientConfiguration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency)
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<concurrency {
            group.addTask {
                while true {
                    let index = next.withLock { value -> Int in defer { value += 1 }; return value }
                    guard index < submitted.count else { return }
                    var request = HTTPClientRequest(url: "https://127.0.0.1:\(apiPort)/v1/bulletins")
                    request.method = .POST
                    request.headers.add(name: "Content-Type", value: "application/jose+json")
                    request.body = .bytes(ByteBuffer(bytes: submitted[index]))
                    let response = try await client.execute(request, timeout: .seconds(30))
                    _ = try await response.body.collect(upTo: 1 << 20)
                    if response.status.code != 201 { failures.withLock { $0 += 1 } }
                    completed.withLock { $0 += 1 }
                }
            }
        }
        try await group.waitForAll()
    }
    try await shutDown(client)
}
let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
progress.cancel()
let commits = gateway.intake.metrics.commits
print("group commits: \(commits.count) transactions for \(commits.items) bulletins (\(String(format: "%.1f", Double(commits.items) / Double(max(1, commits.count)))) per commit, largest \(commits.largest))")
print("intake over mTLS (\(store)): \(total) signed bulletins (JWS, \(algorithmName)) with \(concurrency) keep-alive connections (\(leanClient ? "lean client" : "AsyncHTTPClient")) in \(String(format: "%.2f", seconds)) s = \(Int(Double(total) / seconds)) bulletins/s; \(failures.withLock { $0 }) not accepted")
// The same run's comparison figure: OpenSSL's raw signing and verifying rate for the algorithm, right after
// intake (each bulletin costs one verification and two signatures: its ScoreNotice and its receipt).
print("openssl speed -seconds 1 \(speedName), same run:")
print(runOpenSSLSpeed(speedName))

if intakeOnly {
    gatewayTask.cancel()
    _ = await gatewayTask.result
    try? FileManager.default.removeItem(at: folder)   // `exit` skips the `defer` above
    exit(failures.withLock { $0 } == 0 ? 0 : 1)
}

// Eligibility queries with wrk on the internal listener, then nginx serving the same bytes as a static file.
let eligibilityURL = "http://127.0.0.1:\(internalPort)/v1/persons/D440800000000/eligibility?date=2025-12-31"
let plain = HTTPClient(eventLoopGroupProvider: .singleton)
let answer = Data(Array(buffer: try await plain.execute(HTTPClientRequest(url: eligibilityURL), timeout: .seconds(10)).body.collect(upTo: 1 << 16)))
try await shutDown(plain)
print("eligibility on the internal listener (wrk -t2 -c16 -d10s, one person with \((total + 999) / 1000) acts, \(answer.count)-byte answer):")
print(runWrk(eligibilityURL))
// The same over 1,000 persons in turn (as a settlement system asks about many practitioners): each person's
// first question folds their facts, the later ones are answered from the remembered answer.
let rotation = folder.appendingPathComponent("persons.lua")
try Data("""
    counter = 0
    request = function()
      counter = (counter + 1) % 1000
      return wrk.format("GET", string.format("/v1/persons/D44080%07d/eligibility?date=2025-12-31", counter))
    end
    """.utf8).write(to: rotation)
print("eligibility over 1,000 persons in turn (wrk -t2 -c16 -d10s -s persons.lua):")
print(runWrk("http://127.0.0.1:\(internalPort)", script: rotation.path))
gatewayTask.cancel()
_ = await gatewayTask.result
if let nginx = try? startNginx(serving: answer) {
    print("nginx, same machine and run, a static file of the same \(answer.count) bytes (wrk -t2 -c16 -d10s):")
    print(runWrk("http://127.0.0.1:\(nginx.port)/eligibility.json"))
    nginx.process.terminate()
    nginx.process.waitUntilExit()
} else {
    print("nginx: not installed (apt-get install nginx-light); no comparison figure")
}

func runWrk(_ url: String, script: String? = nil) -> String {
    let wrk = Process()
    wrk.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    wrk.arguments = ["wrk", "-t2", "-c16", "-d10s", "--latency"] + (script.map { ["-s", $0] } ?? []) + [url]
    let output = Pipe()
    wrk.standardOutput = output
    do {
        try wrk.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        wrk.waitUntilExit()
        // env's status when it cannot find the program.
        if wrk.terminationStatus == 127 { return "wrk is not installed (apt-get install wrk); no figure" }
        return text.split(separator: "\n").filter { $0.contains("Non-2xx") || $0.contains("Requests/sec") || $0.contains("50%") || $0.contains("99%") || $0.contains("requests in") }
            .joined(separator: "\n")
    } catch {
        return "wrk is not installed (apt-get install wrk)"
    }
}

/// The rate lines of `openssl speed -seconds 1 ALGORITHM` (sign/s and verify/s).
func runOpenSSLSpeed(_ algorithm: String) -> String {
    let openssl = Process()
    // `openssl speed` times itself with SIGALRM; this process's threads block signals, and a child inherits
    // the mask, so perl (Debian's essential perl-base) clears it before starting openssl.
    openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    openssl.arguments = ["perl", "-MPOSIX", "-e", "sigprocmask(SIG_SETMASK, POSIX::SigSet->new) or die; exec @ARGV or die",
                         "openssl", "speed", "-seconds", "1", algorithm]
    let output = Pipe()
    openssl.standardOutput = output
    openssl.standardError = FileHandle.nullDevice
    do {
        try openssl.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        openssl.waitUntilExit()
        return text.split(separator: "\n").suffix(2).joined(separator: "\n")
    } catch {
        return "openssl is not installed"
    }
}

/// nginx in the foreground on a free loopback port, one worker per core, serving `body` as a static file.
func startNginx(serving body: Data) throws -> (process: Process, port: Int) {
    guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/nginx") else { throw CocoaError(.fileNoSuchFile) }
    let root = folder.appendingPathComponent("nginx")
    try FileManager.default.createDirectory(at: root.appendingPathComponent("html"), withIntermediateDirectories: true)
    try body.write(to: root.appendingPathComponent("html/eligibility.json"))
    let port = Int.random(in: 42_000...52_000)
    let configuration = """
        worker_processes auto; daemon off; pid \(root.path)/nginx.pid; error_log \(root.path)/error.log;
        events { worker_connections 1024; }
        http { access_log off; keepalive_requests 100000;
               client_body_temp_path \(root.path); proxy_temp_path \(root.path); fastcgi_temp_path \(root.path);
               uwsgi_temp_path \(root.path); scgi_temp_path \(root.path);
               server { listen 127.0.0.1:\(port); root \(root.path)/html; default_type application/json; } }
        """
    try Data(configuration.utf8).write(to: root.appendingPathComponent("nginx.conf"))
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
    process.arguments = ["-c", root.appendingPathComponent("nginx.conf").path, "-p", root.path]
    process.standardError = FileHandle.nullDevice
    try process.run()
    Thread.sleep(forTimeInterval: 0.5)
    return (process, port)
}

func shutDown(_ client: HTTPClient) async throws {
    try await client.shutdown()
}
