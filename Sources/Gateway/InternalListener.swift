import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The internal listener: plain HTTP/1.1, read-only, for a co-located settlement system that asks about
/// eligibility on every claim. It serves three GET routes — `/v1/persons/{code}/eligibility`, `/healthz`
/// and `/metrics` — straight on SwiftNIO's HTTP/1 codec: no router, no middleware chain, no task per
/// request; each answer is written and flushed once per read burst, so pipelined and keep-alive clients
/// cost little more than the fold of one person's facts. The API over mutual TLS stays on Hummingbird.
public struct InternalListener: Service {
    let server: GatewayServer
    let host: String
    let port: Int
    let logger: Logger
    let onServerRunning: @Sendable (any Channel) async -> Void

    /// A listener on `host:port` answering from `server`'s projection and metrics.
    public init(server: GatewayServer, host: String, port: Int, logger: Logger,
                onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) {
        self.server = server
        self.host = host
        self.port = port
        self.logger = logger
        self.onServerRunning = onServerRunning
    }

    /// Listens until the task is cancelled or a graceful shutdown begins.
    public func run() async throws {
        let routes = InternalRoutes(server: server)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(InternalHTTPHandler(routes: routes))
                }
            }
            .bind(host: host, port: port).get()
        logger.info("internal listener started", metadata: ["address": .string("\(host):\(channel.localAddress?.port ?? port)")])
        await onServerRunning(channel)
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onCancelOrGracefulShutdown: {
            channel.close(promise: nil)
        }
    }
}

/// What each route answers (the same functions as the API's routes).
struct InternalRoutes: Sendable {
    let server: GatewayServer

    /// The answer to `method uri`: status, media type and body. Each request is counted under its route.
    func answer(method: HTTPMethod, uri: String) -> (status: Int, contentType: String, body: String) {
        let (path, query) = Self.split(uri)
        let route: String
        let personCode: Substring?
        if path == "/healthz" || path == "/metrics" {
            (route, personCode) = (String(path), nil)
        } else if path.hasPrefix("/v1/persons/"), path.hasSuffix("/eligibility"),
                  case let code = path.dropFirst("/v1/persons/".count).dropLast("/eligibility".count), !code.isEmpty, !code.contains("/") {
            (route, personCode) = ("/v1/persons/{code}/eligibility", code)
        } else {
            server.pipeline.metrics.request(route: "unmatched", status: 404)
            return GatewayError(code: "not-found", status: 404, detail: "no route \(path) on the internal listener").plainAnswer
        }
        guard method == .GET else {
            server.pipeline.metrics.request(route: route, status: 405)
            return GatewayError(code: "method-not-allowed", status: 405, detail: "the internal listener answers GET only").plainAnswer
        }
        if let personCode {
            let answer = server.eligibility(code: String(personCode), date: Self.parameter("date", in: query))
            server.pipeline.metrics.request(route: route, status: answer.status)
            return answer
        }
        server.pipeline.metrics.request(route: route, status: 200)   // before /metrics is rendered, as the API counts it
        return route == "/healthz" ? (200, "application/json", #"{"status":"ok"}"#) : (200, "text/plain; version=0.0.4", server.metricsText())
    }

    /// The path and the query of a request target.
    static func split(_ uri: String) -> (path: Substring, query: Substring) {
        guard let mark = uri.firstIndex(of: "?") else { return (Substring(uri), "") }
        return (uri[..<mark], uri[uri.index(after: mark)...])
    }

    /// The first value of `name` in a query (no percent-decoding: the values served here are codes and dates).
    static func parameter(_ name: String, in query: Substring) -> String? {
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.first == Substring(name) { return parts.count == 2 ? String(parts[1]) : "" }
        }
        return nil
    }
}

/// One connection of the internal listener: answers each request when its end arrives, flushes once per
/// read burst, keeps the connection open unless the client asked to close it.
final class InternalHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let routes: InternalRoutes
    private var request: HTTPRequestHead?
    private var pendingFlush = false

    init(routes: InternalRoutes) {
        self.routes = routes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break   // GET routes only: a body is ignored
        case .end:
            guard let head = request else { return }
            request = nil
            let answer = routes.answer(method: head.method, uri: head.uri)
            var body = context.channel.allocator.buffer(capacity: answer.body.utf8.count)
            body.writeString(answer.body)
            var headers = HTTPHeaders()
            headers.reserveCapacity(3)
            headers.add(name: "Content-Type", value: answer.contentType)
            headers.add(name: "Content-Length", value: String(body.readableBytes))
            let keepAlive = head.isKeepAlive
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            let response = HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: answer.status), headers: headers)
            context.write(wrapOutboundOut(.head(response)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            if keepAlive {
                context.write(wrapOutboundOut(.end(nil)), promise: nil)
                pendingFlush = true
            } else {
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if pendingFlush {
            pendingFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }
}
