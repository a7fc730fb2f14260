import Foundation
import NIOHTTP1
import NIOCore
import Testing
#if canImport(Glibc)
import Glibc
#endif
import Gateway
@testable import GatewayHTTP

/// The internal listener's own HTTP/1 layer: how a request target is routed, how an answer is encoded,
/// and what a raw client sees on the wire (pipelining, HTTP/1.0, a request that cannot be parsed).
@Suite struct InternalListenerTests {
    @Test("a request target is routed by its bytes")
    func routes() {
        #expect(InternalRequestTarget("/healthz").route == .health)
        #expect(InternalRequestTarget("/metrics?x=1").route == .metrics)
        #expect(InternalRequestTarget("/v1/persons/D440802000789/eligibility?date=2025-06-01").route == .eligibility(code: "D440802000789"))
        for unmatched in ["/", "", "/healthz/", "/v1/persons//eligibility", "/v1/persons/eligibility", "/v1/persons/a/b/eligibility",
                          "/v1/persons/D1/eligibilities", "/v2/persons/D1/eligibility", "/v1/persons/D1", "/v1/persons/医保/eligibilit",
                          "?/v1/persons/D1/eligibility"] {
            #expect(InternalRequestTarget(unmatched).route == .unmatched, "\(unmatched)")
        }
        // A code that is not ASCII is routed (and then refused by the code check, as on the API).
        #expect(InternalRequestTarget("/v1/persons/医保/eligibility").route == .eligibility(code: "医保"))
    }

    @Test("query parameters: the first value, a bare name, none")
    func parameters() {
        let target = InternalRequestTarget("/v1/persons/D1/eligibility?x=1&date=2025-06-01&date=2026-01-01&flag&empty=")
        #expect(target.path == "/v1/persons/D1/eligibility")
        #expect(target.parameter("date") == "2025-06-01")
        #expect(target.parameter("flag") == "")
        #expect(target.parameter("empty") == "")
        #expect(target.parameter("dat") == nil)
        #expect(target.parameter("x") == "1")
        #expect(InternalRequestTarget("/healthz").parameter("date") == nil)
        #expect(InternalRequestTarget("/healthz?a=b?c").parameter("a") == "b?c")
    }

    @Test("an answer is one buffer: status line, three headers at most, body")
    func encoding() {
        func encoded(_ status: Int, _ version: HTTPVersion, keepAlive: Bool) -> String {
            var buffer = ByteBufferAllocator().buffer(capacity: 0)
            InternalResponse.write(status: status, contentType: "application/json", body: #"{"a":"é"}"#, version: version, keepAlive: keepAlive, into: &buffer)
            return String(buffer: buffer)
        }
        #expect(encoded(200, .http1_1, keepAlive: true) == "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{\"a\":\"é\"}")
        #expect(encoded(400, .http1_1, keepAlive: false) == "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: 10\r\nConnection: close\r\n\r\n{\"a\":\"é\"}")
        #expect(encoded(200, .http1_0, keepAlive: true) == "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10\r\nConnection: keep-alive\r\n\r\n{\"a\":\"é\"}")
        #expect(encoded(404, .http1_0, keepAlive: false).hasPrefix("HTTP/1.0 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 10\r\nConnection: close\r\n\r\n"))
    }

    @Test("on the wire: pipelined requests answered in order, HTTP/1.0 closed, a malformed request answered 400 and closed")
    func wire() async throws {
        let gateway = try await LiveGateway.start()
        defer { gateway.stop() }
        let port = gateway.internalPort

        // Three requests in one write; the connection stays open until the last asks to close it.
        let pipelined = try RawConnection.exchange(port: port, sending: """
            GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n\
            GET /v1/persons/bad!/eligibility HTTP/1.1\r\nHost: a\r\n\r\n\
            GET /v1/persons/D1/eligibility?date=2025-06-01 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n
            """)
        // A body is not followed by a line break, so the next status line starts right after it.
        let statuses = pipelined.components(separatedBy: "HTTP/1.1 ").dropFirst().map { $0.components(separatedBy: "\r\n").first ?? "" }
        #expect(statuses == ["200 OK", "400 Bad Request", "200 OK"], "\(pipelined)")
        #expect(pipelined.hasSuffix(#"{"person":"D1","date":"2025-06-01","eligible":true,"status":"normal","until":null,"points":0,"reason":"normal"}"#))
        #expect(pipelined.contains("Content-Type: application/problem+json"))

        // /metrics reads the ledger off the event loop; what is pipelined behind it still comes after it.
        let behindMetrics = try RawConnection.exchange(port: port, sending: """
            GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n\
            GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n\
            GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n\
            GET /v1/persons/D1/eligibility?date=2025-06-01 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n
            """)
        let kinds = behindMetrics.components(separatedBy: "HTTP/1.1 200 OK\r\nContent-Type: ").dropFirst()
            .map { ($0.components(separatedBy: "\r\n").first ?? "").components(separatedBy: ";").first ?? "" }
        #expect(kinds == ["text/plain", "application/json", "text/plain", "application/json"], "\(behindMetrics)")
        #expect(behindMetrics.contains("tongbao_ledger_entries"), "\(behindMetrics)")
        #expect(behindMetrics.hasSuffix(#""reason":"normal"}"#))

        // HTTP/1.0 without keep-alive: answered, then closed (the read ends).
        let old = try RawConnection.exchange(port: port, sending: "GET /healthz HTTP/1.0\r\n\r\n")
        // (ok, or warn while the working-day calendar runs out: a warning is still 200)
        #expect(old.hasPrefix("HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: ") && old.contains("\r\nConnection: close\r\n\r\n{\"status\":"), "\(old)")

        // Not HTTP: 400, then closed, and nothing after it is answered.
        let garbage = try RawConnection.exchange(port: port, sending: "NOT HTTP\u{0}\r\n\r\nGET /healthz HTTP/1.1\r\n\r\n")
        #expect(garbage.hasPrefix("HTTP/1.1 400 Bad Request\r\n") && garbage.contains("Connection: close"), "\(garbage)")
        #expect(!garbage.contains("200 OK"))
        #expect(garbage.contains("Content-Type: application/problem+json") && garbage.contains(#""code":"malformed""#), "\(garbage)")

        // The listener still answers after all that.
        let after = try RawConnection.exchange(port: port, sending: "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n")
        #expect(after.hasPrefix("HTTP/1.1 200 OK") && after.contains(#"{"status":"#), "\(after)")
    }
}

/// A blocking TCP client on loopback: sends bytes as they are, reads until the server closes.
enum RawConnection {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Connects to 127.0.0.1:`port`, writes `text`, and returns everything read until the server closes
    /// the connection (at most 10 s, at most 1 MiB).
    static func exchange(port: Int, sending text: String) throws -> String {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket: \(errno)") }
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "connect: \(errno)") }
        let bytes = Array(text.utf8)
        guard bytes.withUnsafeBytes({ send(descriptor, $0.baseAddress, $0.count, 0) }) == bytes.count else {
            throw Failure(description: "send: \(errno)")
        }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while received.count < 1 << 20 {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count == 0 { break }
            guard count > 0 else { throw Failure(description: "recv: errno \(errno) after \(received.count) bytes: \(String(decoding: received, as: UTF8.self))") }
            received += chunk[0..<count]
        }
        return String(decoding: received, as: UTF8.self)
    }
}
