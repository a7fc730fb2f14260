import AsyncHTTPClient
import Foundation
import Gateway
import NIOCore
import NIOSSL
import Trust

/// A data folder for `tongbao serve` child processes, laid out as `serve` makes it: a development PKI in
/// `DATA/pki` and a participants file, written once the tests know their receivers' endpoints.
struct GatewayDataFolder {
    let data: URL
    var pki: URL { data.appendingPathComponent("pki") }

    /// The folder `tongbao serve` made at `data` (its PKI generated on first start).
    init(existing data: URL) {
        self.data = data
    }

    /// A new folder with a development PKI (ECDSA) for the default participants.
    init(_ prefix: String) throws {
        data = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        _ = try DevelopmentPKI.generate(
            members: ParticipantsFile.defaults.map { DevelopmentPKI.Member(code: $0.code, name: $0.name) },
            algorithm: .ecdsa, into: data.appendingPathComponent("pki"), now: Int(Date().timeIntervalSince1970))
    }

    /// Writes the default participants, with push `endpoints` by participant code.
    func writeParticipants(endpoints: [String: String]) throws {
        let participants = ParticipantsFile.defaults.map { participant in
            var participant = participant
            participant.endpoint = endpoints[participant.code]
            return participant
        }
        try Data(ParticipantsFile.text(participants).utf8).write(to: pki.appendingPathComponent("participants.json"))
    }

    /// `code`'s signing key and certificate.
    func credentials(_ code: String) throws -> (key: PrivateKey, certificate: Trust.Certificate) {
        let folder = pki.appendingPathComponent("participants")
        return (try PrivateKey(pem: Array(try Data(contentsOf: folder.appendingPathComponent("\(code).key.pem")))),
                try Trust.Certificate(pem: Array(try Data(contentsOf: folder.appendingPathComponent("\(code).cert.pem")))))
    }

    /// An HTTP client presenting `code`'s certificate and trusting the PKI's root (short connect timeout:
    /// the tests retry against gateways they kill).
    func client(_ code: String) throws -> HTTPClient {
        let folder = pki.appendingPathComponent("participants")
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(try Data(contentsOf: folder.appendingPathComponent("\(code).cert.pem"))))
            .map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(try Data(contentsOf: folder.appendingPathComponent("\(code).key.pem"))), format: .pem))
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(try Data(contentsOf: pki.appendingPathComponent("trust/roots/root.pem")))))
        tls.certificateVerification = .noHostnameVerification
        return HTTPClient(eventLoopGroupProvider: .singleton,
                          configuration: .init(tlsConfiguration: tls, timeout: .init(connect: .seconds(2), read: .seconds(10))))
    }
}

/// `count` licence revocations by the health department, one per person (`D4408` + `personPrefix` + index),
/// signed as compact JWS: each makes its person terminated and causes a Referral to health.
func signedRevocations(_ count: Int, idPrefix: String, personPrefix: String, by credentials: (key: PrivateKey, certificate: Trust.Certificate)) throws -> [[UInt8]] {
    try (0..<count).map { index in
        let person = "D4408\(personPrefix)\(String(format: "%05d", index))"
        let text = #"{"id":"\#(idPrefix)-\#(index)","type":"LicenceRevocation","issuer":"440800-HEALTH","issuedAt":"2025-05-21T15:00:00+08:00","region":"440800","rules":"guangdong","body":{"decisionNo":"湛卫医罚〔2025〕\#(index)号","decidedOn":"2025-05-20","person":{"code":"\#(person)","category":"physician","responsibility":"main"},"institutions":["H44080200001"],"certificate":{"kind":"practising","number":"110\#(personPrefix)\#(index)"},"action":"revoked"}}"#
        return Array(try JWS().sign(Array(text.utf8), key: credentials.key, chain: [credentials.certificate]).utf8)
    }
}

/// Posts `bulletin` until a gateway answers (retrying while it is down or restarting), to the URL `url`
/// gives for each attempt; the status and body of the answer. Gives up after `attempts`.
func submitUntilAnswered(_ bulletin: [UInt8], with client: HTTPClient, attempts: Int = 400, url: (Int) -> String) async throws -> (status: UInt, body: String) {
    for attempt in 1...attempts {
        var request = HTTPClientRequest(url: url(attempt))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/jose+json")
        request.body = .bytes(ByteBuffer(bytes: bulletin))
        if let response = try? await client.execute(request, timeout: .seconds(10)), let body = try? await response.body.collect(upTo: 1 << 20) {
            return (response.status.code, String(buffer: body))
        }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw CancellationError()
}
