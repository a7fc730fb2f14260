import Foundation
import Ledger
import Testing
import TongbaoTestSupport
import Trust

/// `tongbao submit`, `sign`, `refusals`, `--version` and `serve`'s shutdown, as cli.md states them: one line
/// per file, the worst outcome as the exit code, and the gateway's refusals listed from its refusal record.
@Suite("submit, sign and refusals at the command line")
struct SubmitCommandTests {
    /// A `tongbao serve` child on a new data folder (its standard error kept), and the health department's
    /// `submit` credentials.
    static func startGateway(_ name: String) throws -> (GatewayDataFolder, Int, ServerProcess, URL, [String]) {
        let folder = try GatewayDataFolder(name)
        try folder.writeParticipants(endpoints: [:])
        let port = Int.random(in: 20_000...40_000)
        let stderr = folder.data.appendingPathComponent("serve.stderr")
        let server = ServerProcess(data: folder.data, port: port, standardError: stderr)
        try server.start()
        let pki = folder.pki
        let credentials = ["--key", pki.appendingPathComponent("participants/440800-HEALTH.key.pem").path,
                           "--cert", pki.appendingPathComponent("participants/440800-HEALTH.cert.pem").path, "--trust", pki.appendingPathComponent("trust").path]
        return (folder, port, server, stderr, credentials)
    }

    @Test("submit goes on past failures, prints one line per file and exits with the worst; refusals lists what the gateway refused; SIGTERM prints a line")
    func batchSubmit() async throws {
        let (folder, port, server, stderr, credentials) = try Self.startGateway("tongbao-submit")
        defer { server.stop() }
        let good = CLI.repository.appendingPathComponent("examples/bulletins/licence-revocation.xml").path
        let foreign = try CLI.file(try String(contentsOf: CLI.repository.appendingPathComponent("examples/bulletins/penalty-decision.json"), encoding: .utf8),
                                   name: "penalty.json")   // issued by the insurance administration: refused for health
        let first = try CLI.run(["submit", "--url", "https://127.0.0.1:\(port)"] + credentials + [good], retryingUntilServerIsUp: true)
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        #expect(first.lines.first?.hasPrefix("\(good): accepted 440800-HEALTH/440800-HEALTH-2025-0012 ") == true, "\(first.stdout)")

        // Again (re-signed: a duplicate, 0), a refused one (1), a missing file (74): every file gets its line, the exit is 74.
        let missing = folder.data.appendingPathComponent("missing.json").path
        let batch = try CLI.run(["submit", "--url", "https://127.0.0.1:\(port)"] + credentials + [good, foreign, missing])
        #expect(batch.status == 74, "\(batch.stdout)\(batch.stderr)")
        #expect(batch.lines.count == 3, "\(batch.stdout)")
        #expect(batch.lines.first?.hasPrefix("\(good): duplicate 440800-HEALTH/440800-HEALTH-2025-0012 ") == true, "\(batch.stdout)")
        #expect(batch.lines.dropFirst().first?.hasPrefix("\(foreign): untrusted-signer ") == true, "\(batch.stdout)")
        #expect(batch.lines.last?.hasPrefix("\(missing): io-error ") == true, "\(batch.stdout)")
        let refusedOnly = try CLI.run(["submit", "--url", "https://127.0.0.1:\(port)"] + credentials + [good, foreign])
        #expect(refusedOnly.status == 1, "\(refusedOnly.stdout)")
        let notBulletin = try CLI.file("{\"id\": 1}", name: "not-a-bulletin.json")
        #expect(try CLI.run(["submit", "--url", "https://127.0.0.1:\(port)"] + credentials + [good, notBulletin]).status == 65)
        let unreachable = try CLI.run(["submit", "--url", "https://127.0.0.1:1"] + credentials + [good])
        #expect(unreachable.status == 74 && unreachable.stdout.contains(": unreachable "), "\(unreachable.stdout)")

        // The refusals, from the record: both times the foreign penalty was refused, with its digest, not its bytes.
        let refusals = try CLI.run(["refusals", "--data", folder.data.path])
        #expect(refusals.status == 0, "\(refusals.stderr)")
        #expect(refusals.lines.count == 2 && refusals.lines.allSatisfy { $0.contains("\t440800-HEALTH\tuntrusted-signer/issuer-mismatch\tPenaltyDecision\t440800-INS-ADMIN/") },
                "\(refusals.stdout)")
        #expect(try CLI.run(["refusals", "--data", folder.data.path, "--since", "2999-01-01"]).lines.isEmpty)
        #expect(try CLI.run(["refusals", "--data", folder.data.path, "--since", "yesterday"]).status == 64)

        // The database and its WAL are the owner's only.
        for file in ["tongbao.sqlite", "tongbao.sqlite-wal"] {
            let mode = try FileManager.default.attributesOfItem(atPath: folder.data.appendingPathComponent(file).path)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(file): \(String(mode ?? 0, radix: 8))")
        }

        server.stop()
        #expect(try String(contentsOf: stderr, encoding: .utf8).contains("tongbao serve: stopped"))
    }

    @Test("serve refuses a gateway key that others may read, naming the file (65)")
    func looseGatewayKey() async throws {
        let folder = try GatewayDataFolder("tongbao-loose-key")
        try folder.writeParticipants(endpoints: [:])
        let key = folder.pki.appendingPathComponent("participants/440800-GATEWAY.key.pem")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: key.path)
        let child = Process()
        child.executableURL = CLI.executable
        child.arguments = ["serve", "--data", folder.data.path, "--listen", "127.0.0.1:0"]
        let errors = Pipe()
        child.standardError = errors
        child.standardOutput = FileHandle.nullDevice
        try child.run()
        let deadline = ContinuousClock.now + .seconds(30)
        while child.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        if child.isRunning { child.terminate() }
        child.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(child.terminationStatus == 65, "\(message)")
        #expect(message.contains(key.path) && message.contains("readable by others"), "\(message)")
    }

    @Test("sign refuses a key that is not the certificate's (65); --version prints the version")
    func signAndVersion() throws {
        let folder = try GatewayDataFolder("tongbao-sign")
        let participants = folder.pki.appendingPathComponent("participants")
        let foreignKey = try CLI.run(["sign", "--key", participants.appendingPathComponent("440800-DRUG.key.pem").path,
                                      "--cert", participants.appendingPathComponent("440800-HEALTH.cert.pem").path,
                                      CLI.repository.appendingPathComponent("examples/bulletins/licence-revocation.xml").path])
        #expect(foreignKey.status == 65 && foreignKey.stdout.isEmpty, "\(foreignKey.stdout)")
        #expect(foreignKey.stderr.contains("does not belong to the certificate"), "\(foreignKey.stderr)")
        let own = try CLI.run(["sign", "--key", participants.appendingPathComponent("440800-HEALTH.key.pem").path,
                               "--cert", participants.appendingPathComponent("440800-HEALTH.cert.pem").path,
                               CLI.repository.appendingPathComponent("examples/bulletins/licence-revocation.xml").path])
        #expect(own.status == 0 && own.stdout.contains("SignatureValue"))
        let version = try CLI.run(["--version"])
        #expect(version.status == 0 && version.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0.2.0")
    }

    @Test("a backup taken while bulletins arrive restores into a new folder with every bulletin receipted before it, and verifies")
    func backupUnderLoad() async throws {
        let folder = try GatewayDataFolder("tongbao-backup")
        try folder.writeParticipants(endpoints: [:])
        let port = Int.random(in: 20_000...40_000)
        let server = ServerProcess(data: folder.data, port: port)
        try server.start()
        defer { server.stop() }
        let client = try folder.client("440800-HEALTH")
        defer { _ = client.shutdown() }
        let signed = try signedRevocations(400, idPrefix: "BAK", personPrefix: "077", by: try folder.credentials("440800-HEALTH"))
        for bulletin in signed.prefix(150) {
            let answer = try await submitUntilAnswered(bulletin, with: client) { _ in "https://127.0.0.1:\(port)/v1/bulletins" }
            #expect(answer.status == 201 || answer.status == 200, "\(answer.body)")   // 200: a retried submission the gateway had committed
        }
        // More arrive while the backup is taken.
        let load = Task {
            for bulletin in signed.dropFirst(150) { _ = try await submitUntilAnswered(bulletin, with: client) { _ in "https://127.0.0.1:\(port)/v1/bulletins" } }
        }
        try await Task.sleep(for: .milliseconds(200))
        let copy = folder.data.appendingPathComponent("backup.sqlite").path
        let backup = try CLI.run(["backup", "--data", folder.data.path, "--out", copy])
        #expect(backup.status == 0 && backup.stdout.contains("chain intact"), "\(backup.stdout)\(backup.stderr)")
        try await load.value
        let mode = try FileManager.default.attributesOfItem(atPath: copy)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try CLI.run(["backup", "--data", folder.data.path, "--out", copy]).status == 74, "never over an existing file")

        let restored = FileManager.default.temporaryDirectory.appendingPathComponent("tongbao-restored-\(UUID().uuidString)")
        let restore = try CLI.run(["restore", "--in", copy, "--data", restored.path])
        #expect(restore.status == 0 && restore.stdout.contains("chain intact"), "\(restore.stdout)\(restore.stderr)")
        #expect(try CLI.run(["restore", "--in", copy, "--data", restored.path]).status == 65, "never over an existing store")
        #expect(try CLI.run(["log", "verify", "--data", restored.path]).status == 0)
        let log = try await RunningStore(try await SQLiteLedger.open(path: restored.appendingPathComponent("tongbao.sqlite").path))
        let ids = Set(try await log.entries(after: 0, limit: 10_000).filter { $0.content.outcome == .accepted }.map(\.content.id))
        #expect((0..<150).allSatisfy { ids.contains("BAK-\($0)") }, "every bulletin receipted before the backup is in it")
        #expect(ids.count >= 150 && ids.count <= 400)
    }

    @Test("backup of a PostgreSQL store under load (pg_dump, verified in a scratch database), restored into an empty database: log verify passes and every bulletin receipted before the backup is there")
    func backupUnderLoadPostgres() async throws {
        let postgres = try PostgresServer.shared()
        let database = try postgres.newDatabase()
        let folder = try GatewayDataFolder("tongbao-backup-pg")
        try folder.writeParticipants(endpoints: [:])
        let port = Int.random(in: 20_000...40_000)
        let server = ServerProcess(data: folder.data, port: port, extraArguments: ["--database", database])
        try server.start()
        defer { server.stop() }
        let client = try folder.client("440800-HEALTH")
        defer { _ = client.shutdown() }
        let signed = try signedRevocations(300, idPrefix: "PGB", personPrefix: "078", by: try folder.credentials("440800-HEALTH"))
        for bulletin in signed.prefix(100) {
            let answer = try await submitUntilAnswered(bulletin, with: client) { _ in "https://127.0.0.1:\(port)/v1/bulletins" }
            #expect(answer.status == 201 || answer.status == 200, "\(answer.body)")
        }
        let load = Task {
            for bulletin in signed.dropFirst(100) { _ = try await submitUntilAnswered(bulletin, with: client) { _ in "https://127.0.0.1:\(port)/v1/bulletins" } }
        }
        try await Task.sleep(for: .milliseconds(200))
        let dump = folder.data.appendingPathComponent("backup.pgdump").path
        let backup = try CLI.run(["backup", "--database", database, "--out", dump])
        #expect(backup.status == 0 && backup.stdout.contains("restored into a scratch database: chain intact"), "\(backup.stdout)\(backup.stderr)")
        try await load.value
        #expect(try FileManager.default.attributesOfItem(atPath: dump)[.posixPermissions] as? Int == 0o600)
        #expect(try CLI.run(["backup", "--database", database, "--out", dump]).status == 74, "never over an existing file")

        let target = try postgres.newDatabase()
        let restore = try CLI.run(["restore", "--in", dump, "--database", target])
        #expect(restore.status == 0 && restore.stdout.contains("chain intact"), "\(restore.stdout)\(restore.stderr)")
        #expect(try CLI.run(["restore", "--in", dump, "--database", target]).status == 65, "never over an existing store")
        #expect(try CLI.run(["log", "verify", "--database", target]).status == 0)
        let log = try await RunningStore.open(.postgres(url: target))
        let ids = Set(try await log.entries(after: 0, limit: 10_000).filter { $0.content.outcome == .accepted }.map(\.content.id))
        #expect((0..<100).allSatisfy { ids.contains("PGB-\($0)") }, "every bulletin receipted before the backup is in it")
        #expect(ids.count >= 100 && ids.count <= 300)
    }

    @Test("tongbao reload signals the running gateway, which reloads and goes on serving; a broken participants file is refused before anything is sent; the files in force are in the log, and a restart on the same files adds nothing")
    func reloadCommand() async throws {
        let (folder, port, server, stderr, credentials) = try Self.startGateway("tongbao-reload")
        defer { server.stop() }
        let pki = folder.pki
        let revocation = CLI.repository.appendingPathComponent("examples/bulletins/licence-revocation.xml").path
        #expect(try CLI.run(["submit", "--url", "https://127.0.0.1:\(port)"] + credentials + [revocation], retryingUntilServerIsUp: true).status == 0)

        let reload = try CLI.run(["reload", "--data", folder.data.path])
        #expect(reload.status == 0 && reload.stdout.contains("reload sent to process"), "\(reload.stdout)\(reload.stderr)")
        try await Task.sleep(for: .milliseconds(500))
        #expect(try CLI.run(["submit", "--url", "https://127.0.0.1:\(port)"] + credentials + [revocation]).status == 0, "SIGHUP did not stop the gateway")
        let logged = try String(contentsOf: stderr, encoding: .utf8)
        #expect(logged.contains("SIGHUP: reloading") && logged.components(separatedBy: "trust reloaded").count - 1 >= 2,
                "reloaded at start and again on the signal: \(logged.suffix(800))")

        let participants = pki.appendingPathComponent("participants.json")
        let good = try Data(contentsOf: participants)
        try Data(#"{"participants": [{"code": 1}]}"#.utf8).write(to: participants)
        let refused = try CLI.run(["reload", "--data", folder.data.path])
        #expect(refused.status == 65 && refused.stderr.contains("participants.json"), "\(refused.stderr)")
        try good.write(to: participants)

        // The files in force at start are in the log: the trust, the calendar and the rule packs; a restart on
        // the same files records nothing more.
        func changes() async throws -> [String: String] {
            let log = try await RunningStore(try await SQLiteLedger.open(path: folder.data.appendingPathComponent("tongbao.sqlite").path))
            let entries = try await log.entries(after: 0, limit: 10_000).filter { $0.content.outcome.isChange }
            return Dictionary(entries.map { ($0.content.type, String(decoding: $0.content.bytes, as: UTF8.self)) }, uniquingKeysWith: { $1 })
        }
        try await Task.sleep(for: .seconds(3))   // the file written back has been looked at
        let recorded = try await changes()
        #expect(Set(recorded.keys) == ["participants", "trust-store", "calendar", "rules"], "\(recorded.keys)")
        #expect(recorded["rules"]?.contains("\nfile packs/guangdong.json ") == true && recorded["rules"]?.contains("calendar/") == false)
        #expect(recorded["calendar"]?.contains("\nfile 2026.json ") == true)
        server.stop()
        let before = try await RunningStore(try await SQLiteLedger.open(path: folder.data.appendingPathComponent("tongbao.sqlite").path))
            .entries(after: 0, limit: 10_000).filter { $0.content.outcome.isChange }.count
        let again = ServerProcess(data: folder.data, port: port, standardError: stderr)
        try again.start()
        defer { again.stop() }
        #expect(try CLI.run(["submit", "--url", "https://127.0.0.1:\(port)"] + credentials + [revocation], retryingUntilServerIsUp: true).status == 0)
        try await Task.sleep(for: .seconds(1))
        let after = try await RunningStore(try await SQLiteLedger.open(path: folder.data.appendingPathComponent("tongbao.sqlite").path))
            .entries(after: 0, limit: 10_000).filter { $0.content.outcome.isChange }.count
        #expect(after == before, "a restart on unchanged files records no change")
    }
}
