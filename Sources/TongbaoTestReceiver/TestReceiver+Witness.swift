import AsyncHTTPClient
import Foundation
import Gateway
import NIOSSL
import Synchronization
import TransparencyLog
import Trust

extension TestReceiver {
    /// What the receiver's witness keeps between rounds: the last checkpoint it accepted, and its key.
    final class WitnessState: Sendable {
        let kept = Mutex<String?>(nil)
        let key: Ed25519PrivateKey

        init() throws {
            key = try Ed25519PrivateKey.generate()
        }
    }

    /// Witnesses the gateway at `gateway` (`https://HOST:PORT`) as the receiving department would
    /// (``LogWitness``), with its participant certificate from `folder` (mutual TLS): the checkpoint it kept
    /// from its last round must be proved consistent with the latest one, which it then keeps and cosigns as
    /// `CODE/receiver`. The verdict; an inconsistent log is neither kept nor cosigned.
    public func witness(gateway: String, folder: URL) async throws -> LogWitness.Verdict {
        var tls = TLSConfiguration.makeClientConfiguration()
        let participants = folder.appendingPathComponent("participants")
        tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(try Data(contentsOf: participants.appendingPathComponent("\(code).cert.pem"))))
            .map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(try Data(contentsOf: participants.appendingPathComponent("\(code).key.pem"))), format: .pem))
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(try Data(contentsOf: folder.appendingPathComponent("trust/roots/root.pem")))))
        tls.certificateVerification = .noHostnameVerification
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        do {
            let witness = LogWitness(url: gateway, client: client, trust: try TrustStore(directory: folder.appendingPathComponent("trust").path))
            let verdict = try await witness.check(kept: witnessState.kept.withLock { $0 })
            if case .consistent(let checkpoint) = verdict {
                witnessState.kept.withLock { $0 = checkpoint.text }
                guard let signer = NoteSigner(name: "\(code)/receiver", type: NoteVerifierKey.cosignatureV1, key: witnessState.key) else {
                    throw TrustError(code: .cryptoFailure, message: "\(code)/receiver is not a valid key name")
                }
                try await witness.cosign(checkpoint.checkpoint, as: signer)
            }
            try await client.shutdown()
            return verdict
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// Makes the witness keep `checkpoint` as if it had accepted it (a test feeding it another history).
    public func keepForWitnessing(_ checkpoint: String) {
        witnessState.kept.withLock { $0 = checkpoint }
    }

    /// The witness's cosigning key, as the gateway lists its cosignatures (`CODE/receiver+KEYID+…`).
    public var witnessName: String { "\(code)/receiver" }
}
