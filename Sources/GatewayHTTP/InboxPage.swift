import Intake
import Ledger
import Scoring
import StrictJSON

/// The JSON of `GET /v1/inbox` and the body of `POST /v1/inbox/ack`.
enum InboxPage {
    /// `{"items": [{"cursor", "issuer", "id", "type", "state", "mediaType", "bulletin"}], "next": N}`: the
    /// signed bulletin is the exact logged text (flattened JWS or XML-DSig), as a JSON string.
    static func render(_ messages: [OutboundMessage], after: Int) -> String {
        let items = messages.map { message in
            let delivery = message.delivery
            let isXML = message.bytes.first == UInt8(ascii: "<")
            return JSONText.object([
                ("cursor", String(delivery.sequence)), ("issuer", JSONText.quoted(delivery.issuer)), ("id", JSONText.quoted(delivery.id)),
                ("type", JSONText.quoted(delivery.type)), ("state", JSONText.quoted(delivery.state.rawValue)),
                ("mediaType", JSONText.quoted(isXML ? "application/xml" : "application/jose+json")),
                ("bulletin", JSONText.quoted(String(decoding: message.bytes, as: UTF8.self))),
            ])
        }
        return JSONText.object([("items", JSONText.list(items)), ("next", String(messages.last?.delivery.sequence ?? after))])
    }

    /// The cursors of `{"cursors": [N, …]}`, or nil when the body is not that.
    /// The largest cursor (2^53 − 1: every JSON reader holds it exactly).
    static let maximumCursor = 9_007_199_254_740_991

    /// A cursor: a positive integer up to ``maximumCursor``, written as one (`616`) or with a zero fraction (`616.0`, which JSON
    /// Schema's `integer` admits too).
    private static func cursor(_ node: JSONNode) -> Int? {
        guard case .number(let lexeme) = node.value else { return nil }
        var digits = Substring(lexeme)
        if let point = digits.firstIndex(of: ".") {
            guard digits[digits.index(after: point)...].allSatisfy({ $0 == "0" }) else { return nil }
            digits = digits[..<point]
        }
        guard let value = Int(digits), (1...maximumCursor).contains(value) else { return nil }
        return value
    }

    static func cursors(in body: [UInt8]) -> [Int]? {
        guard let root = try? JSONParser().parse(body), let object = try? JSONObject(root, pointer: "", allowedKeys: ["cursors"]),
              let elements = try? object.array("cursors", maxCount: 10_000) else { return nil }
        var cursors: [Int] = []
        for element in elements {
            guard let cursor = Self.cursor(element.node) else { return nil }
            cursors.append(cursor)
        }
        return cursors
    }
}

extension DeadlineItem {
    /// `{"date", "deadlines": [{"step", "due", "state", "act": {"issuer", "id"} | null, "persons"}]}`.
    static func render(_ items: [DeadlineItem], on date: CalendarDate) -> String {
        let rendered = items.map { item in
            JSONText.object([
                ("step", JSONText.quoted(item.step)), ("due", JSONText.quoted(item.due.description)), ("state", JSONText.quoted(item.state.rawValue)),
                ("act", item.act.map { JSONText.object([("issuer", JSONText.quoted($0.issuer)), ("id", JSONText.quoted($0.id))]) } ?? "null"),
                ("persons", JSONText.array(item.persons)),
            ] + (item.provisional ? [("provisional", "true")] : []))
        }
        return JSONText.object([("date", JSONText.quoted(date.description)), ("deadlines", JSONText.list(rendered))])
    }
}
