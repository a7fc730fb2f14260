import ArgumentParser
import AsyncHTTPClient
import Bulletins
import BulletinVerification
import Foundation
import Gateway
import NIOCore
import NIOSSL
import Trust

/// `tongbao submit`: signs (when not signed), submits over mutual TLS, verifies the receipt, prints it.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit bulletins to a gateway over mutual TLS; sign them first when they are not signed.",
        discussion: """
            Goes on past a file that fails and prints one line per file: FILE: accepted …, FILE: duplicate … (the \
            original receipt of the same content), or FILE: CODE reason. Every receipt is verified against --trust. \
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
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(certPEM).map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: keyPEM, format: .pem))
        tls.trustRoots = .certificates(try store.roots.map { try NIOSSLCertificate(bytes: try $0.der(), format: .der) })
        tls.certificateVerification = .noHostnameVerification
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        var worst = SubmitOutcome.accepted
        let reader = try BulletinReader()
        let verifier = SignedBulletinVerifier(trust: store, reader: reader)
        for path in files {
            let outcome = await submit(path, client: client, key: privateKey, certificate: certificate, reader: reader, verifier: verifier)
            worst = max(worst, outcome)
        }
        try await client.shutdown()
        if worst.exitCode != 0 { throw ExitCode(worst.exitCode) }
    }

    /// Submits one file and prints its line; goes on whatever happens, returning the outcome.
    private func submit(_ path: String, client: HTTPClient, key: PrivateKey, certificate: Trust.Certificate, reader: BulletinReader,
                        verifier: SignedBulletinVerifier) async -> SubmitOutcome {
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
            let receipt = try verifier.verify(answer, now: Int(Date().timeIntervalSince1970))
            guard case .receipt(let body) = receipt.body else {
                print("\(path): receipt-invalid the gateway answered with a \(receipt.type.rawValue), not a Receipt")
                return .refused
            }
            let word = status == 201 ? "accepted" : "duplicate"
            print("\(path): \(word) \(body.bulletin.issuer)/\(body.bulletin.id) sha256 \(body.sha256) log position \(body.logPosition.map(String.init) ?? "-") (receipt signed by \(receipt.issuer))")
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
