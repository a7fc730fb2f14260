import Bulletins
import Foundation
import Hummingbird
import HummingbirdCore
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
    /// The participant of the TLS client certificate, set by ``ClientIdentityMiddleware`` before any route runs.
    public var participant: Participant?

    /// Creates the context of one request on a connection.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// No route reads a body larger than a bulletin (1 MiB).
    public var maxUploadSize: Int { 1 << 20 }

    /// The client's participant: every route runs after ``ClientIdentityMiddleware`` has set it.
    func client() throws(GatewayError) -> Participant {
        guard let participant else { throw GatewayError(.notAuthorized, "the request has no identified client") }
        return participant
    }
}

/// The gateway's HTTP API over mutual TLS (gateway.md §6).
public struct GatewayServer: Sendable {
    let intake: BulletinIntake
    let ledger: any LedgerStore
    let configuration: GatewayConfiguration
    /// Eligibility answers, kept while the person's facts stand still (shared by the API and the internal listener).
    let eligibilityAnswers = EligibilityCache()
    /// Who may read what.
    let access: ReadAccess
    /// Requests per participant and second over mutual TLS; nil: unlimited.
    let rateLimiter: RateLimiter?
    /// What `/healthz` checks.
    let health: HealthCheck

    /// Creates the server over intake and the ledger it appends to (which the read routes read).
    public init(intake: BulletinIntake, ledger: any LedgerStore, rateLimiter: RateLimiter? = nil, health: HealthCheck = HealthCheck(storeFolder: nil)) {
        self.intake = intake
        self.ledger = ledger
        self.rateLimiter = rateLimiter
        self.health = health
        configuration = intake.configuration
        access = ReadAccess(directory: intake.directory)
        intake.metrics.sawCertificate(of: intake.configuration.code, notAfter: intake.configuration.signingCertificate.notAfter)
    }

    var metrics: GatewayMetrics { intake.metrics }
    var projection: FactProjection { intake.projection }

    /// The router of the API. Every request is counted, identified by its client certificate (and
    /// rate-limited) before any route runs, and every failure becomes a problem document.
    public func router() -> Router<GatewayRequestContext> {
        let router = Router(context: GatewayRequestContext.self)
        let routes = RouteMethods()
        router.addMiddleware {   // middleware wraps only the routes added after it
            MetricsMiddleware(metrics: metrics)
            ProblemMiddleware(routes: routes)
            ClientIdentityMiddleware(liveTrust: intake.liveTrust, rateLimiter: rateLimiter, metrics: metrics)
        }
        router.post("/v1/bulletins") { request, context -> Response in
            let sender = try context.client()
            // Refused before a byte of the body is read when its length is declared too large.
            let result: IntakeResponse
            if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > configuration.maxBodyBytes {
                result = IntakeResponse(await intake.refuseOversize(declaredLength: length, sender: sender))
            } else {
                let body = try await request.body.collect(upTo: configuration.maxBodyBytes)
                result = IntakeResponse(await intake.submit(Array(buffer: body), mediaType: request.headers[.contentType], sender: sender))
            }
            var headers: HTTPFields = [.contentType: result.contentType]
            if result.status == 413 { headers[.connection] = "close" }   // the unread body is not drained
            return Response(status: .init(code: result.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: result.body)))
        }
        router.get("/v1/bulletins/{issuer}/{id}/receipt") { _, context -> Response in
            let issuer = try context.parameters.require("issuer")
            let id = try context.parameters.require("id")
            try access.checkReceipt(of: issuer, by: try context.client())
            guard let entry = try await ledger.accepted(issuer: issuer, id: id), let receipt = try await ledger.receipt(for: entry.position) else {
                throw GatewayError(.notFound, "no accepted bulletin \(issuer)/\(id)")
            }
            let type = IntakeResponse.receiptMediaType(receipt, encoding: BulletinReader.encoding(of: receipt))
            return Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: receipt)))
        }
        router.get("/v1/persons/{code}/eligibility") { request, context -> Response in
            let code = try context.parameters.require("code")
            try Self.check(code, .personCode)
            try access.checkPerson(code, by: try context.client())
            return try eligibility(request, context)
        }
        router.get("/v1/persons/{code}") { request, context -> Response in
            let reader = try context.client()
            return try withCodeAndDate(request, context, format: .personCode) { code, date in
                try access.checkPerson(code, by: reader)
                return ReplayLine.render(try projection.state(of: code, on: date, explain: true), explain: true)
            }
        }
        router.get("/v1/institutions/{code}") { request, context -> Response in
            let reader = try context.client()
            return try withCodeAndDate(request, context, format: .institutionCode) { code, date in
                try access.checkInstitution(code, by: reader)
                return IndicatorLine.render(try projection.indicators(of: code, on: date))
            }
        }
        router.get("/v1/inbox") { request, context -> Response in
            let recipient = try context.client()
            let query = request.uri.queryParameters
            guard let after = Int(query.get("after") ?? "0"), (0...InboxPage.maximumCursor).contains(after), let limit = Int(query.get("limit") ?? "100"), (1...1000).contains(limit) else {
                throw GatewayError(.malformed, "after= must be a cursor (0 or more) and limit= 1 to 1000")
            }
            return json(InboxPage.render(try await ledger.inbox(of: recipient.code, after: after, limit: limit), after: after))
        }
        router.post("/v1/inbox/ack") { request, context -> Response in
            let recipient = try context.client()
            let body = try await request.body.collect(upTo: 1 << 20)
            guard let cursors = InboxPage.cursors(in: Array(buffer: body)) else {
                throw GatewayError(.malformed, #"send {"cursors": [N, …]} with at most 10000 cursors from GET /v1/inbox"#)
            }
            let count = try await ledger.acknowledge(cursors, by: recipient.code, at: Timestamps.chinaStandardTime(Date()))
            return json(JSONText.object([("acknowledged", String(count))]))
        }
        router.get("/v1/deadlines") { request, context -> Response in
            let reader = try context.client()
            let query = request.uri.queryParameters
            let date = try Self.requestedDate(query.get("date").map { String($0) })
            let overdue: Bool
            switch query.get("overdue") {
            case nil, "false": overdue = false
            case "true": overdue = true
            case let other?: throw GatewayError(.malformed, "overdue=\(other) must be true or false")
            }
            let items = try DeadlineReport.items(facts: projection.allFacts(), scorer: projection.scoring, on: date, overdueOnly: overdue)
            return json(DeadlineItem.render(items.filter { mayRead($0, by: reader) }, on: date))
        }
        addLogRoutes(router)
        addOperationalRoutes(router)
        routes.learn(router.routes.map { ($0.path, $0.method) })
        return router
    }

    /// Whether `reader` may see a deadline: its act's region, or (an open restoration) its persons.
    private func mayRead(_ item: DeadlineItem, by reader: Participant) -> Bool {
        if let act = item.act { return access.mayRead(act: act, by: reader) }
        return item.persons.allSatisfy { person in (try? access.checkPerson(person, by: reader)) != nil }
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
        try Self.check(code, format)
        let date = try Self.requestedDate(request.uri.queryParameters.get("date").map { String($0) })
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: try body(code, date))))
    }

    private func addOperationalRoutes<Context: RequestContext>(_ router: Router<Context>) {
        router.get("/healthz") { _, _ -> Response in
            let answer = healthAnswer()
            return Response(status: .init(code: answer.status), headers: [.contentType: answer.contentType], body: .init(byteBuffer: ByteBuffer(string: answer.body)))
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
                let eligibility = state.eligibility
                return JSONText.object([
                    ("person", JSONText.quoted(code)), ("date", JSONText.quoted(date.description)), ("eligible", eligibility.eligible ? "true" : "false"),
                    ("status", JSONText.quoted(state.status.rawValue)), ("until", state.until.map { JSONText.quoted($0.description) } ?? "null"),
                    ("points", String(state.points)), ("reason", JSONText.quoted(eligibility.reason)),
                ])
            })
        } catch {
            return Problem(GatewayError(.internal, (error as? ScoringError)?.message ?? "\(error)")).answer
        }
    }

    /// The `/healthz` answer (both listeners): 503 with the failing checks, or 200 with any warnings.
    func healthAnswer() -> (status: Int, contentType: String, body: String) {
        let report = health.report(intake: intake)
        return (report.status, report.contentType, report.json)
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
        return metrics.render(ledgerEntries: entries, outbox: outbox) + trustAndCalendarMetrics(now: Date())
    }

    /// When each CRL must be replaced, and how many days the working-day calendar still covers: what an
    /// operator alerts on before `/healthz` fails.
    func trustAndCalendarMetrics(now: Date) -> String {
        var lines = ["# HELP tongbao_crl_next_update_seconds When each CRL of the trust store must be replaced (Unix time).",
                     "# TYPE tongbao_crl_next_update_seconds gauge"]
        for list in intake.liveTrust.snapshot.trust.revocationLists {
            guard let next = list.nextUpdate else { continue }
            let issuer = list.issuerName.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            lines.append("tongbao_crl_next_update_seconds{issuer=\"\(issuer)\"} \(next)")
        }
        let today = Timestamps.chinaDate(now)
        let runway = projection.scoring.calendar?.coveredThrough(from: today).map { $0.dayNumber - today.dayNumber } ?? 0
        lines += ["# HELP tongbao_calendar_runway_days Days the working-day calendar still covers from today (0: today is not covered).",
                  "# TYPE tongbao_calendar_runway_days gauge", "tongbao_calendar_runway_days \(runway)"]
        return lines.joined(separator: "\n") + "\n"
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
    public func internalApplication(host: String, port: Int, limits: ConnectionLimits = ConnectionLimits(), logger: Logger,
                                    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) -> InternalListener {
        InternalListener(server: self, host: host, port: port, limits: limits, logger: logger, onServerRunning: onServerRunning)
    }

    /// A Hummingbird application serving the API over mutual TLS at `host:port`, within `limits`.
    public func application(host: String, port: Int, tls: TLSConfiguration, limits: ConnectionLimits = ConnectionLimits(), logger: Logger,
                            onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        Application(
            router: router(),
            server: try .tls(.http1(configuration: .init(idleTimeout: limits.idleTimeAmount)), tlsConfiguration: tls),
            configuration: .init(address: .hostname(host, port: port), serverName: "tongbao",
                                 availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections, logger: logger)),
            onServerRunning: onServerRunning,
            logger: logger)
    }
}

/// Counts every request by route and status for `/metrics`.
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: GatewayMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // Hummingbird names the path of no route "NotFound"; the metrics call it "unmatched", as the internal listener does.
        let route = context.endpointPath.flatMap { $0 == "NotFound" ? nil : $0 } ?? "unmatched"
        do {
            let response = try await next(request, context)
            metrics.request(route: route, status: Int(response.status.code))
            return response
        } catch let error as HTTPError {
            metrics.request(route: route, status: Int(error.status.code))
            throw error
        } catch {
            metrics.request(route: route, status: 500)
            throw error
        }
    }
}
