import AsyncHTTPClient
import Bulletins
import Foundation
import Gateway
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing
import Trust

/// One contract for every answer, and the mistakes and attacks a real deployment meets, against a live
/// gateway over mutual TLS.
@Suite("the HTTP contract: every answer, who reads what, limits", .serialized)
struct HTTPContractTests {
    /// A request with any method and body.
    static func send(_ client: HTTPClient, _ gateway: LiveGateway, _ method: HTTPMethod, _ path: String, body: [UInt8]? = nil,
                     headers: [(String, String)] = []) async throws -> (status: Int, headers: HTTPHeaders, text: String) {
        var request = HTTPClientRequest(url: gateway.url + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await client.execute(request, timeout: .seconds(30))
        let text = String(decoding: Array(buffer: try await response.body.collect(upTo: 4 << 20)), as: UTF8.self)
        return (Int(response.status.code), response.headers, text)
    }

    @Test("unknown routes, wrong methods, oversize bodies, unreadable JOSE and unknown or revoked client certificates are problem documents, counted under their status")
    func everyAnswerIsAProblem() async throws {
        let gateway = try await LiveGateway.start()
        defer { gateway.stop() }
        let health = try gateway.client("440800-HEALTH")
        defer { _ = health.shutdown() }

        let unknown = try await Self.send(health, gateway, .GET, "/v1/nothing-here")
        #expect(unknown.status == 404 && unknown.headers.first(name: "Content-Type") == "application/problem+json")
        #expect(unknown.text.contains(#""code":"not-found""#))

        let wrongMethod = try await Self.send(health, gateway, .DELETE, "/v1/bulletins")
        #expect(wrongMethod.status == 405 && wrongMethod.text.contains(#""code":"method-not-allowed""#))
        #expect(wrongMethod.headers.first(name: "Allow") == "POST")
        let wrongOnParameter = try await Self.send(health, gateway, .POST, "/v1/persons/D1/eligibility")
        #expect(wrongOnParameter.status == 405 && wrongOnParameter.headers.first(name: "Allow")?.contains("GET") == true)

        // Bodies above 1 MiB, whatever their size, and before the body is read when the length is declared.
        for size in [(1 << 20) + 1, 3 << 20] {
            let large = try await Self.send(health, gateway, .POST, "/v1/bulletins", body: [UInt8](repeating: 0x20, count: size),
                                            headers: [("Content-Type", "application/xml")])
            #expect(large.status == 413 && large.text.contains(#""code":"too-large""#), "\(size): \(large.text)")
        }
        let ack = try await Self.send(health, gateway, .POST, "/v1/inbox/ack", body: [UInt8](repeating: 0x20, count: 2 << 20))
        #expect(ack.status == 413 && ack.text.contains(#""code":"too-large""#), "\(ack.status) \(ack.text)")

        let notJOSE = try await Self.send(health, gateway, .POST, "/v1/bulletins", body: Array("not json".utf8), headers: [("Content-Type", "application/jose+json")])
        #expect(notJOSE.status == 400 && notJOSE.text.contains(#""code":"malformed""#), "\(notJOSE.status) \(notJOSE.text)")
        let badAck = try await Self.send(health, gateway, .POST, "/v1/inbox/ack", body: Array("{".utf8))
        #expect(badAck.status == 400 && badAck.text.contains(#""code":"malformed""#))

        // A revoked certificate, and one that names no participant: 403 on every route, the operational ones too.
        for name in ["health-revoked", "unlisted"] {
            let client = try gateway.client(name)
            for path in ["/healthz", "/metrics", "/v1/persons/D440802000789/eligibility", "/v1/persons/D440802000789", "/v1/inbox", "/v1/deadlines"] {
                let refused = try await Self.send(client, gateway, .GET, path)
                #expect(refused.status == 403 && refused.text.contains(#""code":"not-authorized""#), "\(name) \(path): \(refused.text)")
            }
            try await client.shutdown()
        }

        let metrics = try await Self.send(health, gateway, .GET, "/metrics").text
        #expect(metrics.contains(#"tongbao_http_requests_total{route="unmatched",status="404"} 1"#), "\(metrics)")
        #expect(metrics.contains(#"tongbao_http_requests_total{route="unmatched",status="405"} 2"#))
        #expect(metrics.contains(#"tongbao_http_requests_total{route="/v1/bulletins",status="413"} 2"#))
        #expect(metrics.contains(#"tongbao_http_requests_total{route="/v1/inbox/ack",status="400"} 1"#))
        #expect(metrics.contains(#"tongbao_http_requests_total{route="/healthz",status="403"} 2"#))
        #expect(!metrics.contains(#"status="500""#), "nothing is counted as the gateway's failure")
    }

    @Test("20 refused bodies of about 1 MiB and 20 oversize ones leave the data folder's size unchanged (within 1 MB); each refusal is recorded with its digest")
    func refusalsDoNotGrowTheStore() async throws {
        let gateway = try await LiveGateway.start()
        defer { gateway.stop() }
        let health = try gateway.client("440800-HEALTH")
        defer { _ = health.shutdown() }
        func folderSize() throws -> Int {
            let files = FileManager.default.enumerator(at: gateway.folder, includingPropertiesForKeys: [.fileSizeKey])
            return try (files?.allObjects as? [URL] ?? []).reduce(0) { $0 + (try $1.resourceValues(forKeys: [.fileSizeKey]).fileSize ?? 0) }
        }
        let before = try folderSize()
        let unreadable = Array("<Bulletin>".utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: (1 << 20) - 100)
        for _ in 0..<20 {
            #expect(try await post(health, gateway, unreadable, type: "application/xml").status == 400)
            #expect(try await post(health, gateway, [UInt8](repeating: 0x20, count: 2 << 20), type: "application/xml").status == 413)
        }
        let grown = try folderSize() - before
        #expect(grown < 1_000_000, "the data folder grew by \(grown) bytes")
        let refusals = try await gateway.log.refusals(since: nil, limit: 100)
        #expect(refusals.filter { $0.code == "malformed" && $0.sha256 == SHA256.hex(unreadable) && $0.size == unreadable.count }.count == 20)
        #expect(refusals.filter { $0.code == "too-large" && $0.size == 2 << 20 && $0.sender == "440800-HEALTH" }.count == 20)
    }

    @Test("a bulletin issued in the future, one for a region outside the issuer's, and text with control characters are refused")
    func intakeChecks() async throws {
        let gateway = try await LiveGateway.start()
        defer { gateway.stop() }
        let health = try gateway.client("440800-HEALTH")
        defer { _ = health.shutdown() }
        let credentials = try gateway.credentials("440800-HEALTH")
        func submit(_ text: String) async throws -> Answer {
            let token = try JWS().sign(Array(text.utf8), key: credentials.key, chain: [credentials.certificate])
            return try await post(health, gateway, Array(token.utf8), type: "application/jose+json")
        }
        let notice = try reissued("practice-notice", issuer: "440800-HEALTH", id: "H-C-1")
        let issuedAt = try #require(notice.range(of: #""issuedAt": "[^"]*""#, options: .regularExpression))

        let future = notice.replacingCharacters(in: issuedAt, with: #""issuedAt": "2036-01-01T10:00:00+08:00""#)
        let ahead = try await submit(future)
        #expect(ahead.status == 400 && ahead.text.contains(#""code":"issued-in-future""#), "\(ahead.text)")
        // Within the allowed skew (5 minutes) it is accepted.
        let soon = Timestamps.chinaStandardTime(Date().addingTimeInterval(120))
        #expect(try await submit(notice.replacingCharacters(in: issuedAt, with: #""issuedAt": "\#(soon)""#)).status == 201)

        let elsewhere = try reissued("practice-notice", issuer: "440800-HEALTH", id: "H-C-2")
            .replacingOccurrences(of: #""region": "440800""#, with: #""region": "440900""#)
        let outside = try await submit(elsewhere)
        #expect(outside.status == 403 && outside.text.contains(#""code":"not-authorized""#) && outside.text.contains("440900"), "\(outside.text)")
        let below = try reissued("practice-notice", issuer: "440800-HEALTH", id: "H-C-3")
            .replacingOccurrences(of: #""region": "440800""#, with: #""region": "440802""#)
        #expect(try await submit(below).status == 201, "a county of the issuer's city is within its region")

        for (index, control) in ["\\u0000", "\\u001b", "\\r", "\\u007f"].enumerated() {
            let withControl = Self.insertingInFirstText(try reissued("practice-notice", issuer: "440800-HEALTH", id: "H-CC-\(index)"), control)
            #expect(withControl.contains(control))
            let refused = try await submit(withControl)
            #expect(refused.status == 422 && refused.text.contains(#""code":"schema-invalid""#) && refused.text.contains("control character"),
                    "\(control): \(refused.text)")
        }
        #expect(try await submit(Self.insertingInFirstText(try reissued("practice-notice", issuer: "440800-HEALTH", id: "H-CC-ok"), "\\t\\n")).status == 201,
                "tab and newline are text")
    }

    /// `text` with `escape` put inside the value of its first `"name"` member.
    static func insertingInFirstText(_ text: String, _ escape: String) -> String {
        guard let range = text.range(of: #""name": ""#) else { return text }
        var result = text
        result.insert(contentsOf: escape, at: range.upperBound)
        return result
    }

    @Test("who may read what: own receipts, persons and institutions of one's region and sector, deadlines of one's region")
    func readAccess() async throws {
        let gateway = try await LiveGateway.start()
        defer { gateway.stop() }
        let clients = try Dictionary(uniqueKeysWithValues: ["440800-HEALTH", "440800-DRUG", "440800-INS-ADMIN", "440800-INS-AGENCY", LiveGateway.neighbour.code].map {
            ($0, try gateway.client($0))
        })
        defer { for client in clients.values { _ = client.shutdown() } }
        func client(_ code: String) throws -> HTTPClient { try #require(clients[code]) }
        let credentials = try gateway.credentials("440800-HEALTH")
        let revocation = Array(try Data(contentsOf: LiveGateway.repository.appendingPathComponent("examples/bulletins/licence-revocation.xml")))
        #expect(try await post(try client("440800-HEALTH"), gateway, try XMLSignature().sign(revocation, key: credentials.key, certificate: credentials.certificate),
                               type: "application/xml").status == 201)
        let person = "/v1/persons/D440802000789"   // a physician of H44080200001, region 440800

        // Receipts: the issuer's own only.
        let receipt = "/v1/bulletins/440800-HEALTH/440800-HEALTH-2025-0012/receipt"
        #expect(try await Self.send(try client("440800-HEALTH"), gateway, .GET, receipt).status == 200)
        for other in ["440800-INS-ADMIN", "440800-DRUG", LiveGateway.neighbour.code] {
            let refused = try await Self.send(try client(other), gateway, .GET, receipt)
            #expect(refused.status == 403 && refused.text.contains(#""code":"not-authorized""#), "\(other)")
        }

        // The person: insurance roles and health of the region; not drug (a physician), not another city.
        for (code, status) in [("440800-HEALTH", 200), ("440800-INS-ADMIN", 200), ("440800-INS-AGENCY", 200), ("440800-DRUG", 403), (LiveGateway.neighbour.code, 403)] {
            for path in [person, person + "/eligibility?date=2025-06-01"] {
                let answer = try await Self.send(try client(code), gateway, .GET, path)
                #expect(answer.status == status, "\(code) \(path): \(answer.text)")
            }
        }
        // A person no bulletin named tells nothing about anyone: normal, 0 points, for every participant.
        let stranger = try await Self.send(try client(LiveGateway.neighbour.code), gateway, .GET, "/v1/persons/D440900000001/eligibility?date=2025-06-01")
        #expect(stranger.status == 200 && stranger.text.contains(#""points":0"#))

        // The institution: its region only.
        #expect(try await Self.send(try client("440800-INS-AGENCY"), gateway, .GET, "/v1/institutions/H44080200001?date=2025-06-01").status == 200)
        #expect(try await Self.send(try client(LiveGateway.neighbour.code), gateway, .GET, "/v1/institutions/H44080200001?date=2025-06-01").status == 403)

        // Deadlines: only the acts of one's region.
        let own = try await Self.send(try client("440800-INS-AGENCY"), gateway, .GET, "/v1/deadlines?date=2025-06-01")
        #expect(own.status == 200 && own.text.contains(#""id":"440800-HEALTH-2025-0012""#), "\(own.text)")
        let neighbours = try await Self.send(try client(LiveGateway.neighbour.code), gateway, .GET, "/v1/deadlines?date=2025-06-01")
        #expect(neighbours.status == 200 && !neighbours.text.contains("440800-HEALTH-2025-0012"), "\(neighbours.text)")
        let maybe = try await Self.send(try client("440800-INS-AGENCY"), gateway, .GET, "/v1/deadlines?overdue=maybe")
        #expect(maybe.status == 400 && maybe.text.contains("overdue=maybe"))

        // The inbox: one's own (the referral went to health, not to the neighbour).
        let inbox = try await Self.send(try client(LiveGateway.neighbour.code), gateway, .GET, "/v1/inbox")
        #expect(inbox.status == 200 && !inbox.text.contains("Referral"))
    }

    @Test("sockets that never finish a handshake or a request are closed within the idle timeout while the listeners keep answering; a participant past its rate gets 429")
    func idleConnectionsAndRates() async throws {
        let gateway = try await LiveGateway.start(configure: { settings in
            settings.connectionLimits = ConnectionLimits(idleTimeout: .seconds(2), maxConnections: 1000)
            settings.requestsPerSecond = 20
        })
        defer { gateway.stop() }
        let group = MultiThreadedEventLoopGroup.singleton
        var idle: [any Channel] = []
        for port in [gateway.port, gateway.internalPort] {
            for _ in 0..<150 {
                idle.append(try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port).get())
            }
        }
        // Half a request head, never finished, on some of the internal listener's sockets.
        for channel in idle.suffix(20) { try await channel.writeAndFlush(ByteBuffer(string: "GET /healthz HTTP/1.1\r\nHost: x\r\n")) }
        let started = ContinuousClock.now
        let health = try gateway.client("440800-HEALTH")
        defer { _ = health.shutdown() }
        #expect(try await Self.send(health, gateway, .GET, "/healthz").status == 200, "new handshakes succeed while 300 sockets sit idle")
        let plain = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = plain.shutdown() }
        let internalHealth = try await plain.execute(HTTPClientRequest(url: "http://127.0.0.1:\(gateway.internalPort)/healthz"), timeout: .seconds(10))
        #expect(internalHealth.status.code == 200)
        for channel in idle {
            try await withThrowingTaskGroup(of: Bool.self) { race in
                race.addTask { try await channel.closeFuture.get(); return true }
                race.addTask { try await Task.sleep(for: .seconds(20)); return false }
                let closed = try await race.next() ?? false
                race.cancelAll()
                #expect(closed, "an idle socket stayed open")
            }
        }
        let elapsed = ContinuousClock.now - started
        #expect(elapsed < .seconds(15), "closed after \(elapsed), the idle timeout is 2 s")

        // 20 requests per second, bursts of 40: a tight loop of 80 runs into the limit. (A new client: the
        // first one's keep-alive connection has been idle for longer than the 2 s timeout meanwhile.)
        let busy = try gateway.client("440800-HEALTH")
        defer { _ = busy.shutdown() }
        var statuses: [Int] = []
        var retryAfter: String?
        var refusal: String?
        for _ in 0..<80 {
            let answer = try await Self.send(busy, gateway, .GET, "/healthz")
            statuses.append(answer.status)
            if answer.status == 429 {
                retryAfter = answer.headers.first(name: "Retry-After")
                refusal = answer.text
            }
        }
        #expect(statuses.contains(429) && statuses.prefix(30).allSatisfy { $0 == 200 }, "\(statuses)")
        #expect(retryAfter == "1")
        // The refusal's own body (a request after the loop may find the bucket refilled on a slow machine).
        #expect(refusal?.contains(#""code":"rate-limited""#) == true, "\(refusal ?? "no 429")")
    }
}
