import HummingbirdCore
import Intake
import Ledger
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The internal listener: plain HTTP/1.1, read-only, for a co-located settlement system that asks about
/// eligibility on every claim. It serves three GET routes — `/v1/persons/{code}/eligibility`, `/healthz`
/// and `/metrics` — straight on SwiftNIO's HTTP/1 request decoder: no router, no middleware chain, no task
/// per request. Each answer is encoded into one buffer (status line, three headers, body) and the buffers
/// are flushed once per read burst, so pipelined and keep-alive clients cost little more than the lookup of
/// one person's answer. The API over mutual TLS stays on Hummingbird.
public struct InternalListener: Service {
    let server: GatewayServer
    let host: String
    let port: Int
    let limits: ConnectionLimits
    let logger: Logger
    let onServerRunning: @Sendable (any Channel) async -> Void

    /// A listener on `host:port` answering from `server`'s projection and metrics.
    public init(server: GatewayServer, host: String, port: Int, limits: ConnectionLimits = ConnectionLimits(), logger: Logger,
                onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) {
        self.server = server
        self.host = host
        self.port = port
        self.limits = limits
        self.logger = logger
        self.onServerRunning = onServerRunning
    }

    /// Listens until the task is cancelled or a graceful shutdown begins.
    public func run() async throws {
        let routes = InternalRoutes(server: server)
        let (maxConnections, idleTimeout) = (limits.maxConnections, limits.idleTimeAmount)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AvailableConnectionsChannelHandler(maxConnections: maxConnections))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // A connection that sends no complete request for the idle timeout is closed.
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idleTimeout))
                    // Reading stops while answers cannot be written (a client that sends and never reads).
                    try channel.pipeline.syncOperations.addHandler(BackPressureHandler())
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
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

/// An answer of the internal listener: status, media type and body.
typealias InternalAnswer = (status: Int, contentType: String, body: String)

/// What each route answers (the same functions as the API's routes).
struct InternalRoutes: Sendable {
    let server: GatewayServer

    /// What a request gets: an answer now (from memory), or one that must first read the ledger.
    enum Reply {
        case now(InternalAnswer)
        case later(@Sendable () async -> InternalAnswer)
    }

    /// The reply to `method uri`. Each request is counted under its route.
    func reply(method: HTTPMethod, uri: String) -> Reply {
        let target = InternalRequestTarget(uri)
        let route = target.route
        let answer: InternalAnswer
        switch route {
        case .unmatched:
            answer = Problem(GatewayError(.notFound, "no route \(target.path) on the internal listener")).answer
        case _ where method != .GET:
            answer = Problem(GatewayError(.methodNotAllowed, "the internal listener answers GET only")).answer
        case .eligibility(let code):
            answer = server.eligibility(code: String(code), date: target.parameter("date"))
        case .health:
            answer = server.healthAnswer()
        case .metrics:
            server.metrics.request(route: route.name, status: 200)   // before /metrics is rendered, as the API counts it
            let server = server
            return .later { (200, "text/plain; version=0.0.4", await server.metricsText()) }
        }
        server.metrics.request(route: route.name, status: answer.status)
        return .now(answer)
    }
}

/// A request target (`/path?query`) of the internal listener, read byte by byte: its delimiters are ASCII
/// (so every split falls between characters), and comparing `Character`s would cost each request a
/// grapheme-breaking walk over it.
struct InternalRequestTarget {
    /// What a target asks for.
    enum Route: Equatable {
        case eligibility(code: Substring)
        case health
        case metrics
        case unmatched

        /// The route's name in the request metrics.
        var name: String {
            switch self {
            case .eligibility: "/v1/persons/{code}/eligibility"
            case .health: "/healthz"
            case .metrics: "/metrics"
            case .unmatched: "unmatched"
            }
        }
    }

    /// Everything before the first `?`.
    let path: Substring
    /// Everything after the first `?` (empty without one).
    let query: Substring

    init(_ uri: String) {
        guard let mark = uri.utf8.firstIndex(of: UInt8(ascii: "?")) else {
            (path, query) = (uri[...], "")
            return
        }
        (path, query) = (uri[..<mark], uri[uri.utf8.index(after: mark)...])
    }

    private static let personsPrefix = "/v1/persons/".utf8
    private static let eligibilitySuffix = "/eligibility".utf8

    /// The route of the path: `/healthz`, `/metrics`, or `/v1/persons/{code}/eligibility` with a code that
    /// is not empty and has no `/`.
    var route: Route {
        let bytes = path.utf8
        if bytes.elementsEqual("/healthz".utf8) { return .health }
        if bytes.elementsEqual("/metrics".utf8) { return .metrics }
        let fixed = Self.personsPrefix.count + Self.eligibilitySuffix.count
        guard bytes.count > fixed, bytes.starts(with: Self.personsPrefix), bytes.suffix(Self.eligibilitySuffix.count).elementsEqual(Self.eligibilitySuffix) else {
            return .unmatched
        }
        let start = bytes.index(bytes.startIndex, offsetBy: Self.personsPrefix.count)
        let end = bytes.index(bytes.endIndex, offsetBy: -Self.eligibilitySuffix.count)
        guard !bytes[start..<end].contains(UInt8(ascii: "/")) else { return .unmatched }
        return .eligibility(code: path[start..<end])
    }

    /// The first value of `name` in the query ("" for a bare `name`); no percent-decoding: the values
    /// served here are codes and dates.
    func parameter(_ name: String) -> String? {
        for pair in query.utf8.split(separator: UInt8(ascii: "&")) {
            guard let equals = pair.firstIndex(of: UInt8(ascii: "=")) else {
                if pair.elementsEqual(name.utf8) { return "" }
                continue
            }
            if pair[..<equals].elementsEqual(name.utf8) {
                return String(query[pair.index(after: equals)..<pair.endIndex])
            }
        }
        return nil
    }
}

/// One connection of the internal listener: answers each request when its end arrives (in order, so
/// pipelined requests are answered in the order sent), flushes once per read burst, keeps the connection
/// open unless the client asked to close it, and answers a request it cannot parse with 400 and closes.
///
/// An answer that reads the ledger (`/metrics`) is made on a task, never on the event loop; requests that
/// arrive meanwhile wait for it, so that the answers still leave in the order the requests came.
final class InternalHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = ByteBuffer

    /// Where answers that read the ledger are made.
    static let answeringThread = SerialThread(name: "tongbao-internal")

    /// Requests that may wait behind an answer being made, at most; past that the connection is closed
    /// (a client pipelining that many requests behind `/metrics` is not a settlement system).
    static let maximumWaiting = 1024

    private let routes: InternalRoutes
    private var request: HTTPRequestHead?
    private var pendingFlush = false
    private var closing = false
    /// Whether an answer is being made off the event loop.
    private var answering = false
    /// Requests whose end arrived while an answer was being made, in order.
    private var waiting: [HTTPRequestHead] = []

    init(routes: InternalRoutes) {
        self.routes = routes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break   // GET routes only: a body is ignored
        case .end:
            guard let head = request else { return }
            request = nil
            guard !answering else {
                guard waiting.count < Self.maximumWaiting else {
                    closing = true
                    context.close(promise: nil)
                    return
                }
                waiting.append(head)
                return
            }
            answer(head, context: context)
        }
    }

    /// Answers `head` now, or starts making its answer and answers the requests waiting behind it after.
    private func answer(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        switch routes.reply(method: head.method, uri: head.uri) {
        case .now(let answer):
            send(answer, to: head, context: context)
        case .later(let make):
            answering = true
            let promise = context.eventLoop.makePromise(of: InternalAnswer.self)
            // On a thread of the listener's own, not the cooperative pool: a health check or a scrape must be
            // answered even when every cooperative thread is busy (or, in a test process, blocked).
            Task(executorPreference: Self.answeringThread) { promise.succeed(await make()) }
            let made = promise.futureResult
            let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
            made.whenSuccess { answer in
                let (handler, context) = bound.value
                handler.answering = false
                guard !handler.closing else { return }
                handler.send(answer, to: head, context: context)
                while !handler.answering, !handler.closing, !handler.waiting.isEmpty {
                    handler.answer(handler.waiting.removeFirst(), context: context)
                }
                if handler.pendingFlush {
                    handler.pendingFlush = false
                    context.flush()
                }
            }
        }
    }

    private func send(_ answer: InternalAnswer, to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let keepAlive = head.isKeepAlive
        var response = context.channel.allocator.buffer(capacity: 160 + answer.body.utf8.count)
        InternalResponse.write(status: answer.status, contentType: answer.contentType, body: answer.body,
                               version: head.version, keepAlive: keepAlive, into: &response)
        if keepAlive {
            context.write(wrapOutboundOut(response), promise: nil)
            pendingFlush = true
        } else {
            close(context, after: response)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if pendingFlush {
            pendingFlush = false
            context.flush()
        }
        context.fireChannelReadComplete()
    }

    /// A connection that sent nothing for the idle timeout is closed (a request under way is not: its
    /// answer is being made).
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        guard !answering, waiting.isEmpty, !closing else { return }
        closing = true
        context.close(promise: nil)
    }

    /// A request the decoder cannot parse (or one past its size limits) is answered 400 with a `malformed`
    /// problem, and the connection closed: what follows it on the connection cannot be framed.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !closing else { return }
        guard error is HTTPParserError else {
            closing = true
            context.close(promise: nil)
            return
        }
        let problem = Problem(GatewayError(.malformed, "the request is not HTTP/1.x the listener can read (\(error))")).answer
        var response = context.channel.allocator.buffer(capacity: 160 + problem.body.utf8.count)
        InternalResponse.write(status: problem.status, contentType: problem.contentType, body: problem.body, version: .http1_1, keepAlive: false,
                               into: &response)
        close(context, after: response)
    }

    private func close(_ context: ChannelHandlerContext, after response: ByteBuffer) {
        closing = true
        pendingFlush = false
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(response)).whenComplete { _ in channel.close(promise: nil) }
    }
}

/// An HTTP/1.x response of the internal listener, encoded in one buffer.
enum InternalResponse {
    /// Writes the status line, `Content-Type`, `Content-Length`, `Connection` where the version's default
    /// is not what happens (`close` on a connection about to close, `keep-alive` for HTTP/1.0), and `body`.
    static func write(status: Int, contentType: String, body: String, version: HTTPVersion, keepAlive: Bool, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("HTTP/")
        buffer.writeString(String(version.major))
        buffer.writeStaticString(".")
        buffer.writeString(String(version.minor))
        buffer.writeStaticString(" ")
        buffer.writeString(String(status))
        buffer.writeStaticString(" ")
        buffer.writeString(HTTPResponseStatus(statusCode: status).reasonPhrase)
        buffer.writeStaticString("\r\nContent-Type: ")
        buffer.writeString(contentType)
        buffer.writeStaticString("\r\nContent-Length: ")
        buffer.writeString(String(body.utf8.count))
        if status == 405 {
            buffer.writeStaticString("\r\nAllow: GET")
        }
        if !keepAlive {
            buffer.writeStaticString("\r\nConnection: close")
        } else if version == .http1_0 {
            buffer.writeStaticString("\r\nConnection: keep-alive")
        }
        buffer.writeStaticString("\r\n\r\n")
        buffer.writeString(body)
    }
}
