/// A forward-only reader of JSON text for one-pass decoders that know the shape they expect.
///
/// It reads exactly the tokens it is asked for and gives up — throws ``Miss`` — on anything else,
/// including anything it does not handle itself: string escapes, numbers, `null`, control characters.
/// It never says *why*; a decoder built on it is a fast path whose every miss is decided again by the
/// full parser (``JSONParser``), which gives the precise error. It therefore only has to be right when it
/// succeeds: whatever it accepts, the full parser accepts as the same text.
///
/// The cursor works on borrowed bytes: use it inside `withUnsafeBufferPointer`.
public struct JSONCursor {
    /// The one way a cursor read fails: the text is not what was expected (or needs the full parser).
    public struct Miss: Error, Sendable {
        public init() {}
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0

    /// A cursor at the start of `bytes`.
    public init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    /// Consumes `byte` after optional whitespace, or misses.
    private mutating func expect(_ byte: UInt8) throws(Miss) {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == byte else { throw Miss() }
        index += 1
    }

    /// Whether the next byte after whitespace is `byte`; consumes it when it is.
    private mutating func take(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// Reads an object, calling `member` with each key's bytes while the cursor stands at its value; the
    /// callback must read the value. Duplicate and unknown keys are the callback's to refuse.
    public mutating func forEachMember(
        _ member: (inout JSONCursor, UnsafeBufferPointer<UInt8>) throws(Miss) -> Void
    ) throws(Miss) {
        try expect(UInt8(ascii: "{"))
        if take(UInt8(ascii: "}")) { return }
        repeat {
            let key = try string()
            try expect(UInt8(ascii: ":"))
            try member(&self, key)
        } while take(UInt8(ascii: ","))
        try expect(UInt8(ascii: "}"))
    }

    /// Reads an array, calling `element` with the cursor at each element; the callback must read it.
    public mutating func forEachElement(_ element: (inout JSONCursor) throws(Miss) -> Void) throws(Miss) {
        try expect(UInt8(ascii: "["))
        if take(UInt8(ascii: "]")) { return }
        repeat {
            try element(&self)
        } while take(UInt8(ascii: ","))
        try expect(UInt8(ascii: "]"))
    }

    /// The raw bytes between the quotes of a string without escapes or control characters. They are
    /// not checked as UTF-8: compare them with known ASCII values, or use ``text(maxBytes:)``.
    public mutating func string() throws(Miss) -> UnsafeBufferPointer<UInt8> {
        try expect(UInt8(ascii: "\""))
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return UnsafeBufferPointer(rebasing: bytes[start..<(index - 1)])
            }
            guard byte >= 0x20, byte != UInt8(ascii: "\\") else { throw Miss() }
            index += 1
        }
        throw Miss()
    }

    /// A string of 1…`maxBytes` bytes of well-formed UTF-8, without control characters (DEL included).
    public mutating func text(maxBytes: Int) throws(Miss) -> String {
        let raw = try string()
        guard raw.count >= 1, raw.count <= maxBytes, !raw.contains(0x7F), let text = UTF8Text.string(raw) else { throw Miss() }
        return text
    }

    /// `true` or `false`.
    public mutating func bool() throws(Miss) -> Bool {
        skipWhitespace()
        if matchLiteral("true") { return true }
        if matchLiteral("false") { return false }
        throw Miss()
    }

    private mutating func matchLiteral(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard bytes.count - index >= count else { return false }
        for offset in 0..<count where bytes[index + offset] != literal.utf8Start[offset] { return false }
        index += count
        return true
    }

    /// Misses unless only whitespace is left.
    public mutating func end() throws(Miss) {
        skipWhitespace()
        guard index == bytes.count else { throw Miss() }
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// Whether these bytes are exactly the ASCII text of `name`.
    public func isEqual(to name: StaticString) -> Bool {
        guard count == name.utf8CodeUnitCount else { return false }
        for offset in 0..<count where self[offset] != name.utf8Start[offset] { return false }
        return true
    }
}
