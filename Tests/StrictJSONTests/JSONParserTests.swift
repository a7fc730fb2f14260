import StrictJSON
import Testing

@Suite("strict JSON parser")
struct JSONParserTests {
    let parser = JSONParser()

    @Test("values, escapes and surrogate pairs")
    func values() throws {
        let node = try parser.parse(#"{"a": [1, -2.5e3, true, false, null], "s": "\u00e9\ud83d\ude00\n\"x\"", "中": "文"}"#)
        guard case .object(let members) = node.value else { Issue.record("not an object"); return }
        #expect(members.map(\.key) == ["a", "s", "中"])
        #expect(members[0].node.value == .array([
            JSONNode(.number("1"), line: 1), JSONNode(.number("-2.5e3"), line: 1), JSONNode(.bool(true), line: 1),
            JSONNode(.bool(false), line: 1), JSONNode(.null, line: 1),
        ]))
        #expect(members[1].node.value == .string("é😀\n\"x\""))
    }

    @Test("lines are tracked, and firstLine offsets them")
    func lines() throws {
        let node = try parser.parse("{\n  \"a\": 1,\n  \"b\": {\n    \"c\": \"x\"\n  }\n}", firstLine: 10)
        #expect(node.line == 10)
        #expect(node.line(at: "/a") == 11)
        #expect(node.line(at: "/b/c") == 13)
        #expect(node.line(at: "/b/missing") == 12)
    }

    @Test("rejects what RFC 8259 rejects, with the line", arguments: [
        ("{\"a\": 1,}", "expected a string key"),
        ("[1,]", "unexpected character"),
        ("{\"a\": 01}", "expected ',' or '}'"),
        ("{'a': 1}", "expected a string key"),
        ("{\"a\": 1} x", "unexpected content"),
        ("\"\\x\"", "invalid escape"),
        ("\"\\ud800\"", "unpaired surrogate"),
        ("\"a\u{01}\"", "control character"),
        ("{\"a\": 1, \"a\": 2}", "duplicate key"),
        ("tru", "unexpected end"),
        ("", "unexpected end"),
        ("-", "invalid number"),
        ("1.", "digits expected"),
    ])
    func rejects(text: String, message: String) {
        #expect {
            try parser.parse(text)
        } throws: { error in
            (error as? JSONSyntaxError)?.message.contains(message) == true
        }
    }

    @Test("duplicate keys are found in small and large objects")
    func duplicatesInLargeObjects() throws {
        let keys = (0..<40).map { "\"k\($0)\": \($0)" }
        #expect(throws: Never.self) { try parser.parse("{" + keys.joined(separator: ",") + "}") }
        #expect(throws: JSONSyntaxError.self) { try parser.parse("{" + (keys + ["\"k3\": 0"]).joined(separator: ",") + "}") }
        #expect(throws: JSONSyntaxError.self) { try parser.parse("{" + (keys + ["\"k39\": 0"]).joined(separator: ",") + "}") }
        #expect(throws: JSONSyntaxError.self) { try parser.parse("{\"a\": 1, \"b\": 2, \"a\": 3}") }
    }

    @Test("invalid UTF-8 is refused")
    func invalidUTF8() {
        #expect(throws: JSONSyntaxError.self) { try parser.parse([0x22, 0xC3, 0x28, 0x22]) }
    }

    @Test("depth, string and container limits")
    func limits() {
        let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        #expect(throws: JSONSyntaxError.self) { try parser.parse(deep) }
        let small = JSONParser(limits: JSONLimits(maxDepth: 4, maxStringBytes: 4, maxContainerCount: 2))
        #expect(throws: JSONSyntaxError.self) { try small.parse("\"abcde\"") }
        #expect(throws: JSONSyntaxError.self) { try small.parse("[1,2,3]") }
        #expect(throws: Never.self) { try small.parse("[[[1]]]") }
    }

    @Test("random bytes never crash the parser")
    func fuzz() {
        var state: UInt64 = 42
        let alphabet = Array("{}[]\",:0123456789.eE+-tfnrul\\ \n\"ab中".utf8)
        for _ in 0..<5000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int(state % 40) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                bytes.append(state % 5 == 0 ? UInt8(truncatingIfNeeded: state >> 33) : alphabet[Int((state >> 33) % UInt64(alphabet.count))])
            }
            _ = try? parser.parse(bytes)
        }
    }
}

@Suite("JSON object reader")
struct JSONObjectTests {
    @Test("unknown keys, missing keys and wrong kinds name the pointer")
    func errors() throws {
        let node = try JSONParser().parse("{\n\"a\": \"x\",\n\"b/c\": 1\n}")
        #expect(throws: JSONDecodingError(pointer: "/b~1c", line: 3, message: "unknown field \"b/c\"")) {
            try JSONObject(node, pointer: "", allowedKeys: ["a"])
        }
        let object = try JSONObject(node, pointer: "", allowedKeys: ["a", "b/c", "d"])
        #expect(throws: JSONDecodingError(pointer: "/d", line: 1, message: "missing required field \"d\"")) { try object.string("d") }
        #expect(throws: JSONDecodingError(pointer: "/a", line: 2, message: "expected an integer, found a string")) { try object.int("a") }
        #expect(try object.int("b/c", in: 0...5) == 1)
    }

    @Test("text output escapes what JSON needs")
    func text() {
        #expect(JSONText.quoted("a\"b\\c\n\u{01}中") == #""a\"b\\c\n\u0001中""#)
        let long = String(repeating: "MIIBkTCB-_", count: 300)
        #expect(JSONText.quoted(long) == "\"" + long + "\"")
        #expect(JSONText.quoted(long + "\"" + long) == "\"" + long + "\\\"" + long + "\"")
        #expect(JSONText.quoted("") == "\"\"")
        #expect(JSONText.object([("k", "1"), ("a", JSONText.array(["x"]))]) == #"{"k":1,"a":["x"]}"#)
    }
}
