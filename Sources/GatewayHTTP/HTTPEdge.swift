import Foundation
import Hummingbird
import Intake
import NIOCore
import NIOSSL
import Synchronization
import Trust

/// Turns every failure of a later middleware or route into a problem document, so that every answer that
/// is not a success, at every layer (an unknown route, a wrong method, an oversize body, a failing store),
/// has one shape and is counted under its real status.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The methods each route answers, for `405` and its `Allow` header.
    let routes: RouteMethods

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as GatewayError {
            return Self.response(Problem(error), headers: error.code == .rateLimited ? [.retryAfter: "1"] : [:])
        } catch let error as HTTPError {
            return answer(error, request: request)
        } catch is NIOTooManyBytesError {
            return Self.response(Problem(GatewayError(.tooLarge, "the body is larger than this route accepts (at most \(context.maxUploadSize) bytes)")),
                                 headers: [.connection: "close"])
        } catch {
            return Self.response(Problem(GatewayError(.internal, "the gateway failed: \(error)")))
        }
    }

    /// The problem for an error Hummingbird raised: no route, a body too large, a parameter missing.
    private func answer(_ error: HTTPError, request: Request) -> Response {
        switch error.status {
        case .notFound:
            let allowed = routes.methods(for: request.uri.path)
            guard allowed.isEmpty else {
                let list = allowed.map(\.rawValue).joined(separator: ", ")
                return Self.response(Problem(GatewayError(.methodNotAllowed, "\(request.uri.path) answers \(list), not \(request.method.rawValue)")),
                                     headers: [.allow: list])
            }
            return Self.response(Problem(GatewayError(.notFound, "no route \(request.method.rawValue) \(request.uri.path)")))
        case .contentTooLarge:
            return Self.response(Problem(GatewayError(.tooLarge, error.body ?? "the body is larger than this route accepts")), headers: [.connection: "close"])
        case .badRequest:
            return Self.response(Problem(GatewayError(.malformed, error.body ?? "the request cannot be read")))
        default:
            return Self.response(Problem(GatewayError(.internal, error.body ?? "the gateway failed (\(error.status.code))")))
        }
    }

    static func response(_ problem: Problem, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = Problem.mediaType
        return Response(status: .init(code: problem.status), headers: fields, body: .init(byteBuffer: ByteBuffer(string: problem.json)))
    }
}

/// The methods each route of a router answers, filled in once the routes are added (the middleware that
/// reads it is added before them).
final class RouteMethods: Sendable {
    private let routes = Mutex<[(path: RouterPath, method: HTTPRequest.Method)]>([])

    init() {}

    /// Learns the router's routes.
    func learn(_ routes: [(path: RouterPath, method: HTTPRequest.Method)]) {
        self.routes.withLock { $0 = routes }
    }

    /// The methods answered at `path`, sorted; empty when no route has this path.
    func methods(for path: String) -> [HTTPRequest.Method] {
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        let found = routes.withLock { routes in
            routes.filter { route in
                route.path.components.count == components.count
                    && zip(route.path.components, components).allSatisfy { element, component in element ~= component }
            }.map(\.method)
        }
        return Set(found.map(\.rawValue)).sorted().compactMap { HTTPRequest.Method($0) }
    }
}

/// Who the client of a request is: the participant its TLS certificate names, checked against the trust
/// store on every request (chain, CRL, validity), so that a certificate revoked since the connection was
/// opened is refused from its next request on. Every route over mutual TLS goes through it.
struct ClientIdentityMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext
    /// The trust store and participants in force, read per request.
    let liveTrust: LiveTrust
    let rateLimiter: RateLimiter?
    /// Where each participant's certificate expiry is recorded.
    let metrics: GatewayMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let participant = try await identify(context.channel)
        if let rateLimiter, !rateLimiter.admit(participant.code) {
            throw GatewayError(.rateLimited, "\(participant.code) sent more than \(rateLimiter.rate) requests per second; try again in a second")
        }
        context.participant = participant
        return try await next(request, context)
    }

    private func identify(_ channel: any Channel) async throws(GatewayError) -> Participant {
        let certificate: NIOSSLCertificate?
        do {
            certificate = try await channel.nioSSL_peerCertificate().get()
        } catch {
            throw GatewayError(.notAuthorized, "the TLS connection has no usable client certificate")
        }
        guard let certificate, let der = try? certificate.toDERBytes() else {
            throw GatewayError(.notAuthorized, "a client certificate is required")
        }
        let inForce = liveTrust.snapshot
        let codes: [String]
        let client: Trust.Certificate
        do {
            client = try Trust.Certificate.cached(der: der)
            codes = try inForce.trust.verify(client, at: Int(Date().timeIntervalSince1970))
        } catch {
            throw GatewayError(.notAuthorized, "the client certificate is not trusted: \(error.message)", reason: error.code.description)
        }
        guard let participant = codes.lazy.compactMap({ inForce.participants[$0] }).first else {
            throw GatewayError(.notAuthorized, "the client certificate names no known participant")
        }
        metrics.sawCertificate(of: participant.code, notAfter: client.notAfter)
        return participant
    }
}

/// Requests per participant and second, as a token bucket: a participant may send `rate` per second on
/// average and up to `burst` at once; beyond that it is answered `429 rate-limited` with `Retry-After`.
/// One bucket per participant code, whatever connection or node-local listener it comes through.
public final class RateLimiter: Sendable {
    /// The average rate allowed, per second.
    public let rate: Int
    /// The most requests allowed at once.
    public let burst: Int
    private let buckets = Mutex<[String: (tokens: Double, at: ContinuousClock.Instant)]>([:])

    /// A limiter of `rate` requests per second with bursts of `burst` (default: two seconds' worth).
    public init(rate: Int, burst: Int? = nil) {
        self.rate = max(1, rate)
        self.burst = max(1, burst ?? 2 * rate)
    }

    /// Takes a token of `participant`'s bucket; false when it is empty.
    func admit(_ participant: String, now: ContinuousClock.Instant = .now) -> Bool {
        buckets.withLock { buckets in
            var bucket = buckets[participant] ?? (Double(burst), now)
            let elapsed = now - bucket.at
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(Double(burst), bucket.tokens + seconds * Double(rate))
            bucket.at = now
            let admitted = bucket.tokens >= 1
            if admitted { bucket.tokens -= 1 }
            buckets[participant] = bucket
            return admitted
        }
    }
}

/// The limits every listener puts on connections, so that clients that open sockets and send nothing (or
/// too slowly) cannot take the file descriptors and threads others need.
public struct ConnectionLimits: Sendable {
    /// How long a connection may go without a complete TLS handshake, a complete request head, or (between
    /// requests) a new request before it is closed.
    public var idleTimeout: Duration
    /// The most connections a listener holds at once; beyond it, new ones wait in the listen backlog
    /// until one closes.
    public var maxConnections: Int

    /// Creates limits.
    public init(idleTimeout: Duration = .seconds(30), maxConnections: Int = ConnectionLimits.defaultMaxConnections) {
        self.idleTimeout = idleTimeout
        self.maxConnections = max(1, maxConnections)
    }

    /// 1,000, or a third of the process's file descriptor limit when that is lower (the rest is for the
    /// store, the push client and the other listener).
    public static var defaultMaxConnections: Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < 1 << 30 else { return 1000 }
        return max(16, min(1000, Int(limit.rlim_cur) / 3))
    }

    /// The idle timeout as NIO's time amount.
    var idleTimeAmount: TimeAmount {
        let (seconds, attoseconds) = idleTimeout.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
