/// Strict base64url without padding (RFC 7515 §2): any other character, or padding, is an error.
enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        let full = bytes.count / 3
        let rest = bytes.count - full * 3
        let length = full * 4 + (rest == 0 ? 0 : rest + 1)
        return alphabet.withUnsafeBufferPointer { alphabet in
            bytes.withUnsafeBufferPointer { input in
                String(unsafeUninitializedCapacity: length) { output in
                    // Every index stays inside `input` (3 per group), `output` (4 per group) and `alphabet` (6 bits).
                    var written = 0
                    for group in 0..<full {
                        let at = group * 3
                        let value = UInt32(input[at]) << 16 | UInt32(input[at + 1]) << 8 | UInt32(input[at + 2])
                        output[written] = alphabet[Int(value >> 18 & 63)]
                        output[written + 1] = alphabet[Int(value >> 12 & 63)]
                        output[written + 2] = alphabet[Int(value >> 6 & 63)]
                        output[written + 3] = alphabet[Int(value & 63)]
                        written += 4
                    }
                    if rest > 0 {
                        let at = full * 3
                        let value = UInt32(input[at]) << 16 | (rest == 2 ? UInt32(input[at + 1]) << 8 : 0)
                        output[written] = alphabet[Int(value >> 18 & 63)]
                        output[written + 1] = alphabet[Int(value >> 12 & 63)]
                        written += 2
                        if rest == 2 {
                            output[written] = alphabet[Int(value >> 6 & 63)]
                            written += 1
                        }
                    }
                    return written
                }
            }
        }
    }

    static func decode<Bytes: Collection>(_ text: Bytes) -> [UInt8]? where Bytes.Element == UInt8 {
        guard text.count % 4 != 1 else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(text.count * 3 / 4)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in text {
            let value: UInt32
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(byte - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(byte - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "_"): value = 63
            default: return nil
            }
            buffer = buffer << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        // Left-over bits must be zero (canonical encoding).
        guard buffer & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return output
    }
}
