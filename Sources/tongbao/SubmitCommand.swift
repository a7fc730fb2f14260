import ArgumentParser
import AsyncHTTPClient
import Bulletins
import BulletinVerification
import Foundation
import Gateway
import NIOCore
import NIOSSL
import TransparencyLog
import Trust

/// `tongbao submit`: signs (when not signed), submits over mutual TLS, verifies the receipt, prints it.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit bulletins to a gateway over mutual TLS; sign them first when they are not signed.",
        discussion: """
            Goes on past a file that fails and prints one line per file: FILE: accepted …, FILE: duplicate … (the \
            original receipt of the same content), or FILE: CODE reason. Every receipt is verified offline: the log key \
            (from /v1/log/key, its binding to the gateway's certificate checked against --trust) must sign its \
            checkpoint, its inclusion proof must hold, and its leaf must name the bulletin and the SHA-256 of the bytes sent. \
            Exits with the worst outcome: 0 all accepted or duplicate, 1 a refusal, 65 a file that is not a \
            bulletin, 74 the gateway could not be reached.
            """)

    @Option(help: "The gateway's base URL (https://HOST:PORT).")
    var url: String

    @Option(help: "Your private key (PEM): signs and authenticates.")
    var key: String

    @Option(help: "Your certificate (PEM).")
    var cert: String

    @Option(help: "The trust store folder (verifies the gateway and its receipts).")
    var trust: String

    @Argument(help: "Bulletins: unsigned XML/JSON, or signed XML-DSig/JWS.")
    var files: [String]

    func run() async throws {
        let keyPEM = try readInput(key)
        let certPEM = try readInput(cert)
        let privateKey = try PrivateKey(pem: keyPEM)
        let certificate = try Trust.Certificate(pem: certPEM)
        let store = try TrustStore(directory: trust)
        let client = try MutualTLSClient.make(keyPEM: keyPEM, certificatePEM: certPEM, trust: store)
        var worst = SubmitOutcome.accepted
        let reader = try BulletinReader()
        switch await Self.logKeys(url: url, client: client, trust: store) {
        case .success(let logKey):
            for path in files {
                let outcome = await submit(path, client: client, key: privateKey, certificate: certificate, reader: reader, logKey: logKey)
                worst = max(worst, outcome)
            }
        case .failure(let error):
            for path in files { print("\(path): \(error.exitCode == 74 ? "unreachable" : "log-key-invalid") \(error.description)") }
            worst = error.exitCode == 74 ? .ioFailure : .refused
        }
        try await client.shutdown()
        if worst.exitCode != 0 { throw ExitCode(worst.exitCode) }
    }

    /// The gateway's log keys (the current one first, then those it rotated from), from `GET /v1/log/key`,
    /// once each one's binding to the gateway's certificate verifies against `trust`.
    static func logKeys(url: String, client: HTTPClient, trust: TrustStore) async -> Result<[NoteVerifierKey], CLIError> {
        do {
            return .success(try await LogWitness(url: url, client: client, trust: trust).logKeys())
        } catch {
            return .failure(error.unreachable ? .io(error.description) : .data(error.description))
        }
    }

    /// Submits one file and prints its line; goes on whatever happens, returning the outcome.
    private func submit(_ path: String, client: HTTPClient, key: PrivateKey, certificate: Trust.Certificate, reader: BulletinReader,
                        logKey: [NoteVerifierKey]) async -> SubmitOutcome {
        let body: [UInt8]
        let mediaType: String
        do {
            (body, mediaType) = try prepare(try readInput(path), key: key, certificate: certificate, reader: reader)
        } catch let error as CLIError where error.exitCode == 74 {
            print("\(path): io-error \(error.description)")
            return .ioFailure
        } catch {
            print("\(path): malformed \(Self.message(error))")
            return .unreadable
        }
        var request = HTTPClientRequest(url: url + "/v1/bulletins")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: mediaType)
        request.body = .bytes(ByteBuffer(bytes: body))
        let status: UInt
        let answer: [UInt8]
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            status = response.status.code
            answer = Array(buffer: try await response.body.collect(upTo: 4 << 20))
        } catch {
            print("\(path): unreachable the gateway at \(url) could not be reached: \(error)")
            return .ioFailure
        }
        guard status == 201 || status == 200 else {
            let problem = (try? JSONSerialization.jsonObject(with: Data(answer))) as? [String: Any]
            let code = problem?["code"] as? String ?? "http-\(status)"
            let detail = problem?["detail"] as? String ?? String(decoding: answer.prefix(300), as: UTF8.self)
            print("\(path): \(code) \(detail)")
            return .refused
        }
        do {
            let receipt = try LogReceipt(bytes: answer)
            let checkpoint = try receipt.verify(logKeys: logKey)
            // A resubmission's receipt is the original one: it states the digest of the bytes first accepted,
            // which differ from these when the retry was signed again.
            let sent = SHA256.hex(body)
            guard status == 200 || receipt.sha256 == sent else {
                print("\(path): receipt-invalid the receipt states SHA-256 \(receipt.sha256), the bytes sent have \(sent)")
                return .refused
            }
            let word = status == 201 ? "accepted" : "duplicate"
            print("\(path): \(word) \(receipt.issuer)/\(receipt.id) sha256 \(receipt.sha256) log position \(receipt.position) (proved in the checkpoint of size \(checkpoint.checkpoint.size) signed by \(checkpoint.checkpoint.origin))")
            return .accepted
        } catch {
            print("\(path): receipt-invalid the receipt does not verify: \(Self.message(error))")
            return .refused
        }
    }

    private static func message(_ error: any Error) -> String {
        switch error {
        case let error as CLIError: error.description
        case let error as TrustError: "\(error.code): \(error.message)"
        case let error as BulletinError: "\(error.location): \(error.message)"
        default: "\(error)"
        }
    }

    /// The body to send and its media type: signed bulletins as they are, unsigned ones signed here.
    private func prepare(_ bytes: [UInt8], key: PrivateKey, certificate: Trust.Certificate, reader: BulletinReader) throws -> ([UInt8], String) {
        let isXML = BulletinReader.encoding(of: bytes) == .xml
        let text = String(decoding: bytes, as: UTF8.self)
        if isXML {
            let signed = text.contains("http://www.w3.org/2000/09/xmldsig#") ? bytes : try XMLSignature().sign(bytes, key: key, certificate: certificate)
            return (signed, "application/xml")
        }
        if BulletinReader.encoding(of: bytes) == .json, !text.contains("\"protected\"") {
            _ = try reader.read(bytes)
            return (Array(try JWS().sign(bytes, key: key, chain: [certificate], compact: false).utf8), "application/jose+json")
        }
        return (bytes, "application/jose+json")
    }
}

/// What became of one file, ordered from best to worst: the exit code is the worst one's.
enum SubmitOutcome: Int, Comparable {
    case accepted, refused, unreadable, ioFailure

    var exitCode: Int32 {
        switch self {
        case .accepted: 0
        case .refused: 1
        case .unreadable: 65
        case .ioFailure: 74
        }
    }

    static func < (lhs: SubmitOutcome, rhs: SubmitOutcome) -> Bool { lhs.rawValue < rhs.rawValue }
}
