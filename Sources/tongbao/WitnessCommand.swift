import ArgumentParser
import AsyncHTTPClient
import Foundation
import Gateway
import TransparencyLog
import Trust

/// `tongbao witness`: what a participant runs to hold the gateway to one view of its log (C2SP witnessing).
struct WitnessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "witness",
        abstract: "Check the gateway's latest checkpoint against the one kept in --state, keep it, and cosign it.",
        discussion: """
            Fetches the log key (its binding to the gateway's certificate checked against --trust) and the latest \
            checkpoint, verifies the consistency proof from the checkpoint kept in --state to it, and keeps the new one. \
            With --cosign (an Ed25519 key, made there on first use), posts a C2SP tlog-cosignature as CODE/witness, CODE \
            being --cert's participant. Exit 0 when the log only grew; 1 when it shrank, changed or cannot prove that it \
            extends the kept checkpoint (a rewrite or a split view), naming both checkpoints; 74 when unreachable.
            """)

    @Option(help: "The gateway's base URL (https://HOST:PORT).")
    var url: String

    @Option(help: "Your private key (PEM), for mutual TLS.")
    var key: String

    @Option(help: "Your certificate (PEM), for mutual TLS.")
    var cert: String

    @Option(help: "The trust store folder the log key's binding is checked against.")
    var trust: String

    @Option(help: "The file that keeps the last checkpoint seen (created on first run).")
    var state: String

    @Option(help: "Your Ed25519 cosigning key (PEM; created on first use).")
    var cosign: String?

    func run() async throws {
        try await runReportingErrors("witness") {
            let store = try TrustStore(directory: trust)
            let certificate = try Trust.Certificate(pem: try readInput(cert))
            let client = try MutualTLSClient.make(keyPEM: try readInput(key), certificatePEM: try readInput(cert), trust: store)
            let outcome: Result<String, any Error>
            do {
                outcome = .success(try await witness(client: client, store: store, certificate: certificate))
            } catch {
                outcome = .failure(error)
            }
            try await client.shutdown()
            print(try outcome.get())
        }
    }

    /// One round: verify, keep, cosign; the line to print.
    private func witness(client: HTTPClient, store: TrustStore, certificate: Trust.Certificate) async throws -> String {
        let witness = LogWitness(url: url, client: client, trust: store)
        let kept = (try? readInput(state)).map { String(decoding: $0, as: UTF8.self) }
        let new: SignedCheckpoint
        do {
            switch try await witness.check(kept: kept) {
            case .consistent(let checkpoint):
                new = checkpoint
            case .inconsistent(let old, let offered, let reason):
                print("witness: inconsistent log: \(reason); kept checkpoint size \(old.size) root \(Data(old.root).base64EncodedString()), gateway's size \(offered.size) root \(Data(offered.root).base64EncodedString())")
                throw ExitCode(1)
            }
        } catch let failure as LogWitness.Failure {
            throw failure.unreachable ? CLIError.io(failure.description) : CLIError.data(failure.description)
        }
        try keep(new.text)
        var line = "witness: checkpoint size \(new.checkpoint.size) root \(Data(new.checkpoint.root).base64EncodedString()) consistent with what was kept"
        if let cosign {
            guard let code = certificate.participantCodes.first else { throw CLIError.data("\(cert) names no participant") }
            guard let signer = NoteSigner(name: "\(code)/witness", type: NoteVerifierKey.cosignatureV1, key: try Ed25519PrivateKey.loadOrCreate(at: cosign)) else {
                throw CLIError.data("\(code)/witness is not a valid key name")
            }
            do {
                try await witness.cosign(new.checkpoint, as: signer)
            } catch {
                throw error.unreachable ? CLIError.io(error.description) : CLIError.data(error.description)
            }
            line += "; cosigned as \(signer.verifier.text)"
        }
        return line
    }

    /// Writes the checkpoint to the state file atomically, readable by its owner only.
    private func keep(_ text: String) throws {
        let target = URL(fileURLWithPath: state)
        let temporary = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).\(getpid())")
        do {
            try Data(text.utf8).write(to: temporary)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: temporary.path)
            guard rename(temporary.path, target.path) == 0 else { throw CLIError.io("cannot replace \(state): \(String(cString: strerror(errno)))") }
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError.io("cannot write \(state): \(error.localizedDescription)")
        }
    }
}
