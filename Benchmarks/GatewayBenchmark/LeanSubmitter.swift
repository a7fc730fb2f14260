import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A load generator as lean as wrk, for intake: each keep-alive mutual-TLS connection sends one prepared
/// request at a time (head and body built before the run) and reads only the answer's status, then sends
/// the next. No per-request client objects, so that the two cores go to the gateway, not to the client.
enum LeanSubmitter {
    /// What the run did.
    struct Outcome {
        var answered = 0
        var accepted = 0
    }

    /// Sends every body of `bodies` once, over `connections` connections, and waits for every answer.
    /// `answered` is called after each answer (for progress).
    static func run(bodies: [[UInt8]], port: Int, tls: TLSConfiguration, connections: Int, path: String, contentType: String,
                    answered: @escaping @Sendable () -> Void) async throws -> Outcome {
        let context = try NIOSSLContext(configuration: tls)
        let requests = bodies.map { body -> (HTTPRequestHead, ByteBuffer) in
            var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
            head.headers.add(name: "Host", value: "127.0.0.1:\(port)")
            head.headers.add(name: "Content-Type", value: contentType)
            head.headers.add(name: "Content-Length", value: String(body.count))
            return (head, ByteBuffer(bytes: body))
        }
        let work = Work(requests: requests)
        let group = MultiThreadedEventLoopGroup.singleton
        var finished: [EventLoopFuture<Void>] = []
        for _ in 0..<min(connections, requests.count) {
            let done = group.next().makePromise(of: Void.self)
            let channel = try await ClientBootstrap(group: group)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(Connection(work: work, done: done, answered: answered))
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
            finished.append(done.futureResult.always { _ in channel.close(promise: nil) })
        }
        for future in finished { try await future.get() }
        return work.outcome.withLockedValue { $0 }
    }

    /// The requests, handed out one at a time to whichever connection is free, and the tally.
    final class Work: Sendable {
        let requests: [(HTTPRequestHead, ByteBuffer)]
        let next = NIOLockedValueBox(0)
        let outcome = NIOLockedValueBox(Outcome())

        init(requests: [(HTTPRequestHead, ByteBuffer)]) {
            self.requests = requests
        }

        func take() -> (HTTPRequestHead, ByteBuffer)? {
            let index = next.withLockedValue { value -> Int in defer { value += 1 }; return value }
            return index < requests.count ? requests[index] : nil
        }
    }

    /// One connection: sends a request, waits for its answer's end, sends the next; succeeds `done` when
    /// no request is left.
    final class Connection: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPClientResponsePart
        typealias OutboundOut = HTTPClientRequestPart

        let work: Work
        let done: EventLoopPromise<Void>
        let answered: @Sendable () -> Void
        private var status: HTTPResponseStatus?
        private var finished = false

        init(work: Work, done: EventLoopPromise<Void>, answered: @escaping @Sendable () -> Void) {
            self.work = work
            self.done = done
            self.answered = answered
        }

        func channelActive(context: ChannelHandlerContext) {
            sendNext(context: context)
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                status = head.status
            case .body:
                break
            case .end:
                let accepted = status == .created
                work.outcome.withLockedValue {
                    $0.answered += 1
                    if accepted { $0.accepted += 1 }
                }
                answered()
                sendNext(context: context)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            finish(.failure(error))
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            finish(.failure(ChannelError.ioOnClosedChannel))
            context.fireChannelInactive()
        }

        private func finish(_ result: Result<Void, any Error>) {
            guard !finished else { return }
            finished = true
            done.completeWith(result)
        }

        private func sendNext(context: ChannelHandlerContext) {
            guard let (head, body) = work.take() else {
                finish(.success(()))
                return
            }
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
