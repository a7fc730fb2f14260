import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import StrictJSON
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
        let logKey = try await SubmitCommand.logKeys(url: url, client: client, trust: store).get()
        let latest = try await fetch("/v1/log/checkpoint", client)
        let new: SignedCheckpoint
        do {
            new = try SignedCheckpoint(text: String(decoding: latest, as: UTF8.self), logKeys: logKey)
        } catch {
            print("witness: the gateway's checkpoint does not verify: \(error)")
            throw ExitCode(1)
        }
        if let kept = try? readInput(state) {
            let old: SignedCheckpoint
            do {
                old = try SignedCheckpoint(text: String(decoding: kept, as: UTF8.self), logKeys: logKey)
            } catch {
                throw CLIError.data("\(state): the kept checkpoint does not verify with the log key: \(error)")
            }
            if let failure = try await inconsistency(from: old.checkpoint, to: new.checkpoint, client) {
                print("witness: inconsistent log: \(failure); kept checkpoint size \(old.checkpoint.size) root \(Data(old.checkpoint.root).base64EncodedString()), gateway's size \(new.checkpoint.size) root \(Data(new.checkpoint.root).base64EncodedString())")
                throw ExitCode(1)
            }
        }
        try keep(new.text)
        var line = "witness: checkpoint size \(new.checkpoint.size) root \(Data(new.checkpoint.root).base64EncodedString()) consistent with what was kept"
        if let cosign {
            guard let code = certificate.participantCodes.first else { throw CLIError.data("\(cert) names no participant") }
            guard let signer = NoteSigner(name: "\(code)/witness", type: NoteVerifierKey.cosignatureV1, key: try Ed25519PrivateKey.loadOrCreate(at: cosign)) else {
                throw CLIError.data("\(code)/witness is not a valid key name")
            }
            let cosignature = try Cosignature.sign(new.checkpoint, time: UInt64(Date().timeIntervalSince1970), with: signer)
            let body = JSONText.object([("size", String(new.checkpoint.size)), ("vkey", JSONText.quoted(signer.verifier.text)),
                                        ("cosignature", JSONText.quoted(cosignature.line))])
            var request = HTTPClientRequest(url: url + "/v1/log/cosignature")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
            let response = try await answer(request, client)
            guard response.status == 200 else {
                throw CLIError.data("the gateway refused the cosignature (\(response.status)): \(String(decoding: response.body.prefix(500), as: UTF8.self))")
            }
            line += "; cosigned as \(signer.verifier.text)"
        }
        return line
    }

    /// Why `new` cannot be the same log as `old` grown, or nil when the gateway proves that it is.
    private func inconsistency(from old: Checkpoint, to new: Checkpoint, _ client: HTTPClient) async throws -> String? {
        if new.size < old.size { return "the log shrank from \(old.size) to \(new.size) entries" }
        if new.size == old.size { return new.root == old.root ? nil : "the same size with another root" }
        if old.size == 0 { return nil }
        let proof = try await fetch("/v1/log/proof/consistency?from=\(old.size)&to=\(new.size)", client)
        guard let node = try? JSONParser().parse(proof), case .object(let members) = node.value,
              case .array(let items)? = members.first(where: { $0.key == "hashes" })?.node.value else {
            return "the gateway gave no consistency proof"
        }
        let hashes = items.compactMap { item -> TreeHash? in
            guard case .string(let text) = item.value, let bytes = Data(base64Encoded: text), bytes.count == 32 else { return nil }
            return Array(bytes)
        }
        guard hashes.count == items.count,
              MerkleProof.verifyConsistency(oldSize: old.size, newSize: new.size, oldRoot: old.root, newRoot: new.root, proof: hashes) else {
            return "the consistency proof from \(old.size) to \(new.size) does not verify"
        }
        return nil
    }

    private func fetch(_ path: String, _ client: HTTPClient) async throws -> [UInt8] {
        let response = try await answer(HTTPClientRequest(url: url + path), client)
        guard response.status == 200 else { throw CLIError.data("GET \(path) answered \(response.status)") }
        return response.body
    }

    private func answer(_ request: HTTPClientRequest, _ client: HTTPClient) async throws -> (status: UInt, body: [UInt8]) {
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            return (response.status.code, Array(buffer: try await response.body.collect(upTo: 1 << 20)))
        } catch {
            throw CLIError.io("the gateway at \(url) could not be reached: \(error)")
        }
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
