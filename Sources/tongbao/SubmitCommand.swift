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
        discussion: "Prints each receipt (verified against --trust); exit 0 when all are accepted, else 1.")

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
        var failed = false
        do {
            let reader = try BulletinReader()
            for path in files {
                let (body, mediaType) = try prepare(try readInput(path), key: privateKey, certificate: certificate, reader: reader)
                var request = HTTPClientRequest(url: url + "/v1/bulletins")
                request.method = .POST
                request.headers.add(name: "Content-Type", value: mediaType)
                request.body = .bytes(ByteBuffer(bytes: body))
                let response = try await client.execute(request, timeout: .seconds(30))
                let answer = Array(buffer: try await response.body.collect(upTo: 4 << 20))
                guard response.status.code == 201 else {
                    failed = true
                    print("\(path): \(response.status.code) \(String(decoding: answer, as: UTF8.self))")
                    continue
                }
                let verifier = SignedBulletinVerifier(trust: store, reader: reader)
                let receipt = try verifier.verify(answer, now: Int(Date().timeIntervalSince1970))
                guard case .receipt(let body) = receipt.body else { throw CLIError.data("\(path): the gateway answered with a \(receipt.type.rawValue)") }
                print("\(path): accepted \(body.bulletin.issuer)/\(body.bulletin.id) sha256 \(body.sha256) log position \(body.logPosition.map(String.init) ?? "-") (receipt signed by \(receipt.issuer))")
            }
        } catch {
            try await client.shutdown()
            throw error
        }
        try await client.shutdown()
        if failed { throw ExitCode(1) }
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
