import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
import Synchronization
import Testing
import TongbaoTestSupport
@testable import Ledger
import Trust

/// `tongbao serve` as a child process that can be killed with SIGKILL and started again on the same data.
final class ServerProcess: @unchecked Sendable {
    let data: URL
    let port: Int
    let extraArguments: [String]
    /// Where the child's standard error goes (nowhere when nil).
    let standardError: URL?
    private let process = Mutex<Process?>(nil)

    init(data: URL, port: Int, extraArguments: [String] = [], standardError: URL? = nil) {
        self.data = data
        self.port = port
        self.extraArguments = extraArguments
        self.standardError = standardError
    }

    func start() throws {
        let child = Process()
        child.executableURL = CLI.executable
        child.arguments = ["serve", "--data", data.path, "--listen", "127.0.0.1:\(port)"] + extraArguments
        var environment = ProcessInfo.processInfo.environment
        environment["TONGBAO_RULES_DIR"] = CLI.repository.appendingPathComponent("rules").path
        child.environment = environment
        child.standardOutput = FileHandle.nullDevice
        if let standardError {
            _ = FileManager.default.createFile(atPath: standardError.path, contents: nil)
            child.standardError = try FileHandle(forWritingTo: standardError)
        } else {
            child.standardError = FileHandle.nullDevice
        }
        try child.run()
        process.withLock { $0 = child }
    }

    func kill() {
        process.withLock { child in
            guard let child, child.isRunning else { return }
            Foundation.kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
        }
    }

    func stop() {
        process.withLock { child in
            guard let child, child.isRunning else { return }
            child.terminate()
            child.waitUntilExit()
        }
    }
}

@Suite("crash safety")
struct CrashTests {
    @Test("2,000 submissions with the server killed (SIGKILL) four times: every receipted bulletin is logged exactly once, the chain holds, and eligibility equals replay")
    func killAndRestart() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("tongbao-crash-\(UUID().uuidString)")
        let port = Int.random(in: 20_000...40_000)
        let server = ServerProcess(data: data, port: port)
        try server.start()
        defer { server.stop() }
        // Wait for the PKI to exist.
        let pki = data.appendingPathComponent("pki/participants")
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: pki.appendingPathComponent("440800-INS-ADMIN.key.pem").path) {
            try await Task.sleep(for: .milliseconds(50))
        }
        let (key, certificate) = try GatewayDataFolder(existing: data).credentials("440800-INS-ADMIN")

        // 2,000 penalty decisions over 150 physicians during 2025, signed as JWS.
        var unsigned: [String] = []
        var signed: [[UInt8]] = []
        for index in 0..<2000 {
            let person = "D4408020\(String(format: "%05d", index % 150))"
            let month = 1 + index % 12
            let day = 1 + (index / 12) % 28
            let situation = ["procurement.non-selected", "penalty.art38-39", "impersonation"][index % 3]
            let responsibility = ["general", "important", "main"][index / 7 % 3]
            let text = #"{"id":"CRASH-\#(index)","type":"PenaltyDecision","issuer":"440800-INS-ADMIN","issuedAt":"2025-12-31T10:00:00+08:00","region":"440800","rules":"guangdong","body":{"decisionNo":"湛医保罚〔2025〕\#(index)号","decidedOn":"2025-\#(String(format: "%02d", month))-\#(String(format: "%02d", day))","institution":{"code":"H44080200\#(index % 9)01","kind":"medical"},"findings":[{"violation":"V1","situations":["\#(situation)"],"persons":[{"code":"\#(person)","responsibility":"\#(responsibility)"}]}]}}"#
            unsigned.append(text)
            signed.append(Array(try JWS().sign(Array(text.utf8), key: key, chain: [certificate]).utf8))
        }

        let client = try GatewayDataFolder(existing: data).client("440800-INS-ADMIN")

        // Submit in order with 4 workers; retry whatever fails until it has a receipt. Kill every 400 receipts.
        let shared = SubmissionProgress()
        let bulletins = signed
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    while true {
                        let index = shared.next.withLock { value -> Int in defer { value += 1 }; return value }
                        guard index < bulletins.count else { return }
                        let answer = try await submitUntilAnswered(bulletins[index], with: client) { _ in "https://127.0.0.1:\(port)/v1/bulletins" }
                        // 200: a retry of one committed before the kill, whose first answer was lost.
                        #expect(answer.status == 201 || answer.status == 200, "\(answer.body)")
                        let count = shared.receipts.withLock { $0[index] = answer.body; return $0.count }
                        if count % 400 == 0, count < 2000 {
                            let killNow = shared.kills.withLock { total -> Bool in
                                guard total < count / 400 else { return false }
                                total += 1
                                return true
                            }
                            if killNow {
                                server.kill()
                                try server.start()
                            }
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(shared.kills.withLock { $0 } == 4)
        #expect(shared.receipts.withLock { $0.count } == 2000)

        // Exactly once in the log, and the chain holds.
        server.stop()
        let log = try await RunningStore.open(.sqlite(path: data.appendingPathComponent("tongbao.sqlite").path))
        let entries = try await log.entries(after: 0, limit: 100_000).filter { $0.content.outcome == .accepted }
        #expect(entries.count == 2000)
        #expect(Set(entries.map(\.content.id)).count == 2000)
        #expect(try await log.verifyChain().firstBroken == nil)
        let verify = try CLI.run(["log", "verify", "--data", data.path])
        #expect(verify.status == 0)

        // The scores equal a replay of the same bulletins.
        let replay = try CLI.run(["replay", "--rules", "guangdong", "--as-of", "2025-12-31", try CLI.file(unsigned.joined(separator: "\n"))])
        #expect(replay.status == 0)

        // `ledger rebuild` gives the same bytes every time, and its person lines are replay's, byte for byte.
        let first = data.appendingPathComponent("projections-1.jsonl").path
        let second = data.appendingPathComponent("projections-2.jsonl").path
        for out in [first, second] {
            #expect(try CLI.run(["ledger", "rebuild", "--data", data.path, "--as-of", "2025-12-31", "--out", out]).status == 0)
        }
        let rebuilt = try String(contentsOfFile: first, encoding: .utf8)
        #expect(rebuilt == (try String(contentsOfFile: second, encoding: .utf8)))
        #expect(rebuilt.hasPrefix(replay.stdout))
        #expect(rebuilt.dropFirst(replay.stdout.count).split(separator: "\n").allSatisfy { $0.hasPrefix(#"{"institution":"#) })
        try server.start()
        for line in replay.lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let person = try #require(object["person"] as? String)
            var answer: [String: Any] = [:]
            for _ in 0..<100 {
                if let response = try? await client.execute(HTTPClientRequest(url: "https://127.0.0.1:\(port)/v1/persons/\(person)/eligibility?date=2025-12-31"), timeout: .seconds(10)),
                   let body = try? await response.body.collect(upTo: 1 << 16),
                   let parsed = try? JSONSerialization.jsonObject(with: Data(Array(buffer: body))) as? [String: Any] {
                    answer = parsed
                    break
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(answer["points"] as? Int == object["points"] as? Int, "\(person)")
            #expect(answer["status"] as? String == object["status"] as? String, "\(person)")
            #expect((answer["until"] as? String) == (object["until"] as? String), "\(person)")
        }
        try await client.shutdown()
    }
}

/// What the submitting workers share.
final class SubmissionProgress: Sendable {
    let receipts = Mutex([Int: String]())
    let kills = Mutex(0)
    let next = Mutex(0)
}
