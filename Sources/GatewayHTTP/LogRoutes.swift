import Foundation
import Hummingbird
import Intake
import NIOCore
import StrictJSON
import TransparencyLog

/// The verifiable log's routes (gateway.md §6): open to every participant, as entries carry digests, never
/// personal data.
extension GatewayServer {
    func addLogRoutes(_ router: Router<GatewayRequestContext>) {
        let log = intake.log
        router.get("/v1/log/checkpoint") { _, _ -> Response in
            Self.text(try await log.latestCheckpoint(), type: "text/plain; charset=utf-8", cache: "no-cache")
        }
        router.get("/v1/log/key") { _, _ -> Response in
            Self.text(log.keyDocument, type: "application/json", cache: "max-age=3600")
        }
        router.get("/v1/log/entries/{index}") { _, context -> Response in
            let index = try Self.number(try context.parameters.require("index"), "index")
            return Self.bytes(try await log.leaf(index: index), cache: "max-age=31536000, immutable")
        }
        router.get("/v1/log/proof/inclusion") { request, _ -> Response in
            let query = request.uri.queryParameters
            let index = try Self.number(query.get("index").map { String($0) }, "index")
            let size = try Self.number(query.get("size").map { String($0) }, "size")
            let hashes = try await log.inclusionProof(index: index, size: size)
            return Self.text(JSONText.object([("index", String(index)), ("size", String(size)), ("hashes", Self.base64(hashes))]),
                             type: "application/json", cache: "max-age=31536000, immutable")
        }
        router.get("/v1/log/proof/consistency") { request, _ -> Response in
            let query = request.uri.queryParameters
            let from = try Self.number(query.get("from").map { String($0) }, "from")
            let to = try Self.number(query.get("to").map { String($0) }, "to")
            let hashes = try await log.consistencyProof(from: from, to: to)
            return Self.text(JSONText.object([("from", String(from)), ("to", String(to)), ("hashes", Self.base64(hashes))]),
                             type: "application/json", cache: "max-age=31536000, immutable")
        }
        router.get("/v1/log/tile/**") { _, context -> Response in
            let path = context.parameters.getCatchAll().map(String.init)
            guard let tile = TilePath(path) else { throw GatewayError(.notFound, "not a C2SP tile path: tile/\(path.joined(separator: "/"))") }
            let bytes = switch tile.level {
            case nil: try await log.entryBundle(index: tile.index, width: tile.width)
            case let level?: try await log.tile(level: level, index: tile.index, width: tile.width)
            }
            return Self.bytes(bytes, cache: "max-age=31536000, immutable")   // a tile never changes: a partial one has another path
        }
        router.post("/v1/log/cosignature") { request, context -> Response in
            let witness = try context.client()
            let body = try await request.body.collect(upTo: 64 * 1024)
            guard let object = try? JSONParser().parse(Array(buffer: body)), case .object(let members) = object.value,
                  case .string(let vkey)? = members.first(where: { $0.key == "vkey" })?.node.value,
                  case .string(let line)? = members.first(where: { $0.key == "cosignature" })?.node.value,
                  case .number(let sizeText)? = members.first(where: { $0.key == "size" })?.node.value, let size = Self.wholeNumber(sizeText) else {
                throw GatewayError(.malformed, #"send {"size": N, "vkey": "NAME+KEYID+KEY", "cosignature": "— NAME BASE64"}"#)
            }
            let cosigned = try await log.addCosignature(vkey: vkey, line: line, size: size, by: witness.code)
            return Self.text(cosigned, type: "text/plain; charset=utf-8", cache: "no-cache")
        }
    }

    private static func number(_ text: String?, _ name: String) throws(GatewayError) -> Int {
        guard let text, text.utf8.count <= 18, let value = Int(text), value >= 0, String(value) == text else {
            throw GatewayError(.malformed, "\(name)= must be a whole number (0 or more, without leading zeros)")
        }
        return value
    }

    /// A JSON number that is a whole number (`12`, or `12.0` as JSON Schema counts it), within 2^53.
    private static func wholeNumber(_ lexeme: String) -> Int? {
        if let value = Int(lexeme) { return value }
        guard let value = Double(lexeme), value.rounded() == value, abs(value) < 9_007_199_254_740_992 else { return nil }
        return Int(value)
    }

    private static func base64(_ hashes: [TreeHash]) -> String {
        JSONText.array(hashes.map { Data($0).base64EncodedString() })
    }

    private static func text(_ text: String, type: String, cache: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: cache], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    private static func bytes(_ bytes: [UInt8], cache: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/octet-stream", .cacheControl: cache], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// A C2SP `tlog-tiles` path after `tile/`: `L/N[.p/W]` for a hash tile of level L, `entries/N[.p/W]` for an
/// entry bundle, with N written in groups of three digits, each but the last prefixed by `x`
/// (`x001/x234/067` is 1234067).
struct TilePath: Equatable {
    /// The tile level; nil for an entry bundle.
    let level: Int?
    /// The tile index.
    let index: Int
    /// How many hashes or entries: 256 for a full tile.
    let width: Int

    init(level: Int?, index: Int, width: Int) {
        self.level = level
        self.index = index
        self.width = width
    }

    init?(_ segments: [String]) {
        guard segments.count >= 2, segments.count <= 10, let head = segments.first else { return nil }
        if head == "entries" {
            level = nil
        } else if head.count == 1, let level = Int(head), (0...7).contains(level) {
            self.level = level
        } else {
            return nil
        }
        var groups = Array(segments.dropFirst())
        var width = VerifiableLog.tileWidth
        if groups.count >= 2, groups[groups.count - 2].hasSuffix(".p") {
            guard let partial = Int(groups[groups.count - 1]), (1..<VerifiableLog.tileWidth).contains(partial),
                  String(partial) == groups[groups.count - 1] else { return nil }
            width = partial
            groups.removeLast()
            groups[groups.count - 1] = String(groups[groups.count - 1].dropLast(2))
        }
        var index = 0
        for (offset, group) in groups.enumerated() {
            let digits = offset == groups.count - 1 ? Substring(group) : group.hasPrefix("x") ? group.dropFirst() : ""
            guard digits.count == 3, digits.allSatisfy(\.isASCII), let value = Int(digits), index <= (Int.max - value) / 1000 else { return nil }
            index = index * 1000 + value
        }
        self.index = index
        self.width = width
    }
}
