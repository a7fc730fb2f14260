@testable import StrictJSON
import Testing
import TongbaoTestSupport

/// The parser's own UTF-8 check agrees with the standard library's on every input.
@Suite("UTF-8 validation")
struct UTF8TextTests {
    static func valid(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer(UTF8Text.isValid)
    }

    @Test("well-formed text, including every length of sequence, is accepted")
    func wellFormed() {
        for text in ["", "plain ASCII longer than eight bytes", "湛江市医疗保障局", "é", "€", "𝄞 and 😀", "a\u{7F}b\u{80}c\u{7FF}\u{800}\u{FFFF}\u{10000}\u{10FFFF}"] {
            #expect(Self.valid(Array(text.utf8)), "\(text)")
        }
    }

    @Test("overlong forms, surrogates, values above U+10FFFF and truncated sequences are refused", arguments: [
        [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF], [0xF0, 0x8F, 0xBF, 0xBF],
        [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF],
        [0x80], [0xC3], [0xE2, 0x82], [0xF0, 0x9F, 0x98], [0xC3, 0x28], [0xE2, 0x28, 0xA1], [0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0xC3],
    ] as [[UInt8]])
    func refused(bytes: [UInt8]) {
        #expect(!Self.valid(bytes))
    }

    @Test("random bytes: the same answer as the standard library's String(validating:)")
    func agreesWithStandardLibrary() {
        var random = SeededGenerator(seed: 3)
        let alphabet: [UInt8] = [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xDF, 0xE0, 0xE1, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF4, 0xF5, 0xFF]
        var disagreements = 0
        var validSeen = 0
        for round in 0..<50_000 {
            let count = round % 13
            let bytes = (0..<count).map { _ in alphabet[random.below(alphabet.count)] }
            let expected = String(validating: bytes, as: UTF8.self) != nil
            if Self.valid(bytes) != expected { disagreements += 1 }
            if expected { validSeen += 1 }
        }
        #expect(disagreements == 0)
        #expect(validSeen > 1_000)
    }
}
