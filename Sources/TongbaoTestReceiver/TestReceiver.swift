import Bulletins
import Foundation
import Gateway
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import Synchronization
import Trust

/// A participant's receiving endpoint, as a department would run it: HTTPS with client certificates
/// required, every bulletin's signature verified against the trust store (issuer bound to the gateway or
/// the forwarding participant), deduplicated by (issuer, id). It can fail its first requests on purpose.
/// `folder` is a development PKI (``DevelopmentPKI``): `trust/` and `participants/CODE.{key,cert}.pem`.
/// For tests; not part of the product.
public final class TestReceiver: Sendable {
    /// What the receiver has seen.
    public struct Received: Sendable {
        public var requests = 0
        public var failedOnPurpose = 0
        public var rejected = 0
        /// Unique bulletins by "issuer/id", with their decoded bulletin.
        public var bulletins: [String: Bulletin] = [:]
        /// How many times each bulletin arrived (before dedup).
        public var arrivals: [String: Int] = [:]
    }

    /// The participant it receives for.
    public let code: String
    /// Its port.
    public let port: Int
    private let shared: SharedState
    private let task: Task<Void, any Error>
    /// Its witness of the gateway's log (``witness(gateway:folder:)``).
    let witnessState: WitnessState

    private init(code: String, port: Int, shared: SharedState, task: Task<Void, any Error>, witnessState: WitnessState) {
        self.code = code
        self.port = port
        self.shared = shared
        self.task = task
        self.witnessState = witnessState
    }

    /// The URL to put in the participants file.
    public var url: String { "https://127.0.0.1:\(port)/inbound" }

    /// What it has received so far.
    public var received: Received { shared.state.withLock { $0 } }

    /// Starts `code`'s endpoint with its development certificate from `folder` (port 0: any free one).
    public static func start(folder: URL, code: String, failFirst: Int = 0, port: Int = 0) async throws -> TestReceiver {
        try await start(folder: folder, code: code, shared: SharedState(failFirst: failFirst), port: port)
    }

    /// Starts again on the same port, keeping what was received.
    public func restarted(folder: URL) async throws -> TestReceiver {
        try await Self.start(folder: folder, code: code, shared: shared, port: port)
    }

    private static func start(folder: URL, code: String, shared: SharedState, port: Int) async throws -> TestReceiver {
        let store = try TrustStore(directory: folder.appendingPathComponent("trust").path)
        let reader = try BulletinReader()
        let router = Router()
        router.post("/inbound") { request, _ -> Response in
            let body = Array(buffer: try await request.body.collect(upTo: 2 << 20))
            return shared.receive(body, store: store, reader: reader)
        }
        let tls = try GatewayServer.tlsConfiguration(
            certificatePEM: try String(contentsOf: folder.appendingPathComponent("participants/\(code).cert.pem"), encoding: .utf8),
            keyPEM: try String(contentsOf: folder.appendingPathComponent("participants/\(code).key.pem"), encoding: .utf8),
            rootsPEM: [try String(contentsOf: folder.appendingPathComponent("trust/roots/root.pem"), encoding: .utf8)])
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(router: router, server: try .tls(.http1(), tlsConfiguration: tls),
                              configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "receiver"),
                              onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: Logger(label: "receiver"))
        let task = Task { try await app.run() }
        var bound = 0
        for await value in stream {
            bound = value
            break
        }
        return TestReceiver(code: code, port: bound, shared: shared, task: task, witnessState: try WitnessState())
    }

    /// Stops listening.
    public func stop() async {
        task.cancel()
        _ = try? await task.value
    }

    /// The receiving logic, shared by the route closure.
    private final class SharedState: Sendable {
        let state = Mutex(Received())
        let failuresLeft: Mutex<Int>

        init(failFirst: Int) {
            failuresLeft = Mutex(failFirst)
        }

        func receive(_ body: [UInt8], store: TrustStore, reader: BulletinReader) -> Response {
            let fail = failuresLeft.withLock { left in
                defer { left = max(0, left - 1) }
                return left > 0
            }
            state.withLock { $0.requests += 1 }
            if fail {
                state.withLock { $0.failedOnPurpose += 1 }
                return Response(status: .serviceUnavailable)
            }
            let now = Int(Date().timeIntervalSince1970)
            let bulletin: Bulletin
            do {
                if body.first == UInt8(ascii: "<") {
                    let verified = try XMLSignature().verify(body, trust: store, at: [now])
                    bulletin = try reader.read(verified.canonical).bulletin
                    guard verified.participants.contains(bulletin.issuer) else { throw TrustError(code: .issuerMismatch, message: "") }
                } else {
                    let verified = try JWS().verify(body, trust: store, at: [now])
                    bulletin = try reader.read(verified.payload).bulletin
                    guard verified.participants.contains(bulletin.issuer) else { throw TrustError(code: .issuerMismatch, message: "") }
                }
            } catch {
                state.withLock { $0.rejected += 1 }
                return Response(status: .badRequest)
            }
            state.withLock { received in
                let key = "\(bulletin.issuer)/\(bulletin.id)"
                received.arrivals[key, default: 0] += 1
                received.bulletins[key] = received.bulletins[key] ?? bulletin
            }
            return Response(status: .accepted)
        }
    }
}
