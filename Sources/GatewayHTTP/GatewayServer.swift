import Bulletins
import Foundation
import Hummingbird
import HummingbirdTLS
import Intake
import Ledger
import Logging
import NIOCore
import NIOSSL
import Scoring
import StrictJSON
import Trust

/// The request context: it keeps the channel, whose TLS peer certificate names the participant.
public struct GatewayRequestContext: RequestContext {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The connection's channel.
    public let channel: any Channel

    /// Creates the context of one request on a connection.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// Bulletins are at most 1 MiB; a little more lets intake answer `too-large` itself.
    public var maxUploadSize: Int { (1 << 20) + 4096 }
}

/// The gateway's HTTP API over mutual TLS (gateway.md §6).
public struct GatewayServer: Sendable {
    let intake: BulletinIntake
    let ledger: any LedgerStore
    let configuration: GatewayConfiguration
    let participants: [String: Participant]
    /// Eligibility answers, kept while the person's facts stand still (shared by the API and the internal listener).
    let eligibilityAnswers = EligibilityCache()

    /// Creates the server over intake and the ledger it appends to (which the read routes read).
    public init(intake: BulletinIntake, ledger: any LedgerStore) {
        self.intake = intake
        self.ledger = ledger
        configuration = intake.configuration
        participants = Dictionary(intake.configuration.participants.map { ($0.code, $0) }, uniquingKeysWith: { first, _ in first })
    }

    var metrics: GatewayMetrics { intake.metrics }
    var projection: FactProjection { intake.projection }

    /// The router of the API.
    public func router() -> Router<GatewayRequestContext> {
        let router = Router(context: GatewayRequestContext.self)
        router.addMiddleware { MetricsMiddleware(metrics: metrics) }   // first: it wraps only later routes
        router.post("/v1/bulletins") { request, context -> Response in
            let sender = try await participant(of: context)
            let body = try await request.body.collect(upTo: context.maxUploadSize)
            let result = IntakeResponse(await intake.submit(Array(buffer: body), mediaType: request.headers[.contentType], sender: sender))
            return Response(status: .init(code: result.status), headers: [.contentType: result.contentType],
                            body: .init(byteBuffer: ByteBuffer(bytes: result.body)))
        }
        router.get("/v1/bulletins/{issuer}/{id}/receipt") { _, context -> Response in
            _ = try await participant(of: context)
            let issuer = try context.parameters.require("issuer")
            let id = try context.parameters.require("id")
            guard let entry = try await ledger.accepted(issuer: issuer, id: id), let receipt = try await ledger.receipt(for: entry.position) else {
                return problem(GatewayError(.notFound, "no accepted bulletin \(issuer)/\(id)"))
            }
            let type = BulletinReader.encoding(of: receipt) == .xml ? "application/xml" : "application/jose+json"
            return Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: receipt)))
        }
        router.get("/v1/persons/{code}/eligibility") { request, context -> Response in
            try eligibility(request, context)
        }
        router.get("/v1/persons/{code}") { request, context -> Response in
            _ = try await participant(of: context)
            return try withCodeAndDate(request, context, format: .personCode) { code, date in
                ReplayLine.render(try projection.state(of: code, on: date, explain: true), explain: true)
            }
        }
        router.get("/v1/institutions/{code}") { request, context -> Response in
            _ = try await participant(of: context)
            return try withCodeAndDate(request, context, format: .institutionCode) { code, date in
                IndicatorLine.render(try projection.indicators(of: code, on: date))
            }
        }
        router.get("/v1/inbox") { request, context -> Response in
            let recipient = try await participant(of: context)
            let query = request.uri.queryParameters
            guard let after = Int(query.get("after") ?? "0"), after >= 0, let limit = Int(query.get("limit") ?? "100"), (1...1000).contains(limit) else {
                return problem(GatewayError(.malformed, "after= must be a cursor (0 or more) and limit= 1 to 1000"))
            }
            return json(InboxPage.render(try await ledger.inbox(of: recipient.code, after: after, limit: limit), after: after))
        }
        router.post("/v1/inbox/ack") { request, context -> Response in
            let recipient = try await participant(of: context)
            let body = try await request.body.collect(upTo: 1 << 20)
            guard let cursors = InboxPage.cursors(in: Array(buffer: body)) else {
                return problem(GatewayError(.malformed, #"send {"cursors": [N, …]} with at most 10000 cursors from GET /v1/inbox"#))
            }
            let count = try await ledger.acknowledge(cursors, by: recipient.code, at: Timestamps.chinaStandardTime(Date()))
            return json(JSONText.object([("acknowledged", String(count))]))
        }
        router.get("/v1/deadlines") { request, context -> Response in
            _ = try await participant(of: context)
            let query = request.uri.queryParameters
            let date: CalendarDate
            do throws(GatewayError) { date = try Self.requestedDate(query.get("date").map { String($0) }) } catch { return problem(error) }
            let overdue = query.get("overdue") == "true"
            let items = try DeadlineReport.items(facts: projection.allFacts(), scorer: projection.scoring, on: date, overdueOnly: overdue)
            return json(DeadlineItem.render(items, on: date))
        }
        addOperationalRoutes(router)
        return router
    }

    private func json(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// Checks the `{code}` path parameter and the `date=` query (today in China when absent), then answers
    /// with the JSON `body` makes; a bad code or date is a 400 problem.
    private func withCodeAndDate<Context: RequestContext>(
        _ request: Request, _ context: Context, format: CodeFormat, _ body: (String, CalendarDate) throws -> String
    ) throws -> Response {
        let code = try context.parameters.require("code")
        let date: CalendarDate
        do throws(GatewayError) {
            try Self.check(code, format)
            date = try Self.requestedDate(request.uri.queryParameters.get("date").map { String($0) })
        } catch {
            return problem(error)
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: try body(code, date))))
    }

    private func addOperationalRoutes<Context: RequestContext>(_ router: Router<Context>) {
        router.get("/healthz") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
        }
        router.get("/metrics") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: await metricsText())))
        }
    }

    /// `GET /v1/persons/{code}/eligibility?date=YYYY-MM-DD`: status, until and points exactly as
    /// `tongbao replay` says for that date; an unknown person is normal with 0 points.
    func eligibility<Context: RequestContext>(_ request: Request, _ context: Context) throws -> Response {
        let date: String? = request.uri.queryParameters.get("date").map { String($0) }
        let answer = eligibility(code: try context.parameters.require("code"), date: date)
        return Response(status: .init(code: answer.status), headers: [.contentType: answer.contentType],
                        body: .init(byteBuffer: ByteBuffer(string: answer.body)))
    }

    /// The eligibility answer for `code` on `date` (today in China when nil): the JSON, or a problem.
    /// One function for the mTLS API and the internal listener.
    func eligibility(code: String, date text: String?) -> (status: Int, contentType: String, body: String) {
        let date: CalendarDate
        do throws(GatewayError) {
            try Self.check(code, .personCode)
            date = try Self.requestedDate(text)
        } catch {
            return Problem(error).answer
        }
        do {
            let projection = projection
            let stamp = projection.stamp(of: code)   // before the fold: a fact arriving meanwhile makes the answer stale, never wrong
            return (200, "application/json", try eligibilityAnswers.answer(person: code, on: date, stamp: stamp) {
                let state = try projection.state(of: code, on: date)
                let eligible = state.status == .normal
                let reason = eligible ? "normal" : state.status == .terminated ? "terminated" : (state.until == nil ? "suspended-open-ended" : "suspended")
                return JSONText.object([
                    ("person", JSONText.quoted(code)), ("date", JSONText.quoted(date.description)), ("eligible", eligible ? "true" : "false"),
                    ("status", JSONText.quoted(state.status.rawValue)), ("until", state.until.map { JSONText.quoted($0.description) } ?? "null"),
                    ("points", String(state.points)), ("reason", JSONText.quoted(reason)),
                ])
            })
        } catch {
            return Problem(GatewayError(.internal, (error as? ScoringError)?.message ?? "\(error)")).answer
        }
    }

    /// A `{code}` path parameter of `format`, else a 400 problem.
    static func check(_ code: String, _ format: CodeFormat) throws(GatewayError) {
        guard format.matches(code) else {
            throw GatewayError(.malformed, "\"\(code)\" is not \(format.description)")
        }
    }

    /// The `date=` query value, or today in China when it is absent; a 400 problem when it is not a date.
    static func requestedDate(_ text: String?) throws(GatewayError) -> CalendarDate {
        guard let date = text.map({ CalendarDate(iso: $0) }) ?? Timestamps.chinaDate(Date()) else {
            throw GatewayError(.malformed, "date=\(text ?? "") is not a YYYY-MM-DD date")
        }
        return date
    }

    /// The Prometheus text of `/metrics` (the ledger's counts are read from the store: asynchronously).
    func metricsText() async -> String {
        let entries = (try? await ledger.count()) ?? 0
        let outbox = (try? await ledger.deliveryCounts()) ?? [:]
        return metrics.render(ledgerEntries: entries, outbox: outbox)
    }

    /// The participant of the TLS client certificate, checked against the trust store (chain, CRL, validity).
    func participant(of context: GatewayRequestContext) async throws -> Participant {
        guard let certificate = try await context.channel.nioSSL_peerCertificate().get() else {
            throw HTTPError(.unauthorized, message: "a client certificate is required")
        }
        let der = try certificate.toDERBytes()
        let codes: [String]
        do {
            codes = try configuration.trust.verify(try Trust.Certificate.cached(der: der), at: Int(Date().timeIntervalSince1970))
        } catch {
            throw HTTPError(.forbidden, message: "the client certificate is not trusted: \(error.message)")
        }
        guard let participant = codes.lazy.compactMap({ participants[$0] }).first else {
            throw HTTPError(.forbidden, message: "the client certificate names no known participant")
        }
        return participant
    }

    func problem(_ error: GatewayError) -> Response {
        let problem = Problem(error)
        return Response(status: .init(code: problem.status), headers: [.contentType: "application/problem+json"],
                        body: .init(byteBuffer: ByteBuffer(string: problem.json)))
    }

    /// The TLS configuration: the gateway's certificate, and client certificates required, chained to the
    /// trust store's roots (the full chain, CRL and participant checks follow per request).
    public static func tlsConfiguration(certificatePEM: String, keyPEM: String, rootsPEM: [String]) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)))
        tls.trustRoots = .certificates(try rootsPEM.flatMap { try NIOSSLCertificate.fromPEMBytes(Array($0.utf8)) })
        tls.certificateVerification = .noHostnameVerification
        tls.minimumTLSVersion = .tlsv12
        return tls
    }

    /// The internal listener (plain HTTP, read-only: eligibility, `/healthz`, `/metrics`) at `host:port`.
    public func internalApplication(host: String, port: Int, logger: Logger,
                                    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) -> InternalListener {
        InternalListener(server: self, host: host, port: port, logger: logger, onServerRunning: onServerRunning)
    }

    /// A Hummingbird application serving the API over mutual TLS at `host:port`.
    public func application(host: String, port: Int, tls: TLSConfiguration, logger: Logger,
                            onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        Application(
            router: router(),
            server: try .tls(.http1(), tlsConfiguration: tls),
            configuration: .init(address: .hostname(host, port: port), serverName: "tongbao"),
            onServerRunning: onServerRunning,
            logger: logger)
    }
}

/// Counts every request by route and status for `/metrics`.
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: GatewayMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            let response = try await next(request, context)
            metrics.request(route: context.endpointPath ?? "unmatched", status: Int(response.status.code))
            return response
        } catch let error as HTTPError {
            metrics.request(route: context.endpointPath ?? "unmatched", status: Int(error.status.code))
            throw error
        } catch {
            metrics.request(route: context.endpointPath ?? "unmatched", status: 500)
            throw error
        }
    }
}
