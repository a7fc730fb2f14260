import Scoring

/// RFC 3339 timestamp checks for envelope fields.
enum Timestamp {
    /// Whether `text` is `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, with a real date and time.
    static func isRFC3339WithOffset(_ text: String) -> Bool {
        var text = text
        return text.withUTF8(isRFC3339WithOffset)
    }

    /// The same check on UTF-8 bytes.
    static func isRFC3339WithOffset(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count >= 20, bytes.count <= 40 else { return false }
        func digits(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                guard index < bytes.count, (0x30...0x39).contains(bytes[index]) else { return nil }
                value = value * 10 + Int(bytes[index] - 0x30)
            }
            return value
        }
        guard let year = digits(0..<4), bytes[4] == UInt8(ascii: "-"), let month = digits(5..<7), bytes[7] == UInt8(ascii: "-"),
              let day = digits(8..<10), bytes[10] == UInt8(ascii: "T"),
              let hour = digits(11..<13), bytes[13] == UInt8(ascii: ":"), let minute = digits(14..<16),
              bytes[16] == UInt8(ascii: ":"), let second = digits(17..<19),
              hour < 24, minute < 60, second < 60,
              CalendarDate(year: year, month: month, day: day) != nil else { return false }
        var index = 19
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < bytes.count, (0x30...0x39).contains(bytes[index]) { index += 1 }
            guard index > start else { return false }
        }
        guard index < bytes.count else { return false }
        if bytes[index] == UInt8(ascii: "Z") { return index + 1 == bytes.count }
        guard bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-"), index + 6 == bytes.count,
              let offsetHour = digits(index + 1..<index + 3), bytes[index + 3] == UInt8(ascii: ":"),
              let offsetMinute = digits(index + 4..<index + 6) else { return false }
        return offsetHour < 24 && offsetMinute < 60
    }
}


extension Bulletin {
    /// `issuedAt` as seconds since 1970 (UTC), or nil when it is not a valid RFC 3339 timestamp with offset.
    public var issuedAtSeconds: Int? { Timestamp.secondsSince1970(issuedAt) }
}

extension Timestamp {
    /// The date in China (UTC+8) of an RFC 3339 timestamp with offset: a bulletin's issue date, an entry's
    /// acceptance date.
    static func chinaDate(of text: String) -> CalendarDate? {
        secondsSince1970(text).map { seconds in
            let shifted = seconds + 8 * 3600
            return CalendarDate(dayNumber: shifted >= 0 ? shifted / 86_400 : (shifted - 86_399) / 86_400)
        }
    }

    /// Seconds since 1970 (UTC) of an RFC 3339 timestamp with offset; fractions are dropped.
    static func secondsSince1970(_ text: String) -> Int? {
        guard isRFC3339WithOffset(text) else { return nil }
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int {
            range.reduce(0) { $0 * 10 + Int(bytes[$1] - 0x30) }
        }
        guard let date = CalendarDate(year: number(0..<4), month: number(5..<7), day: number(8..<10)) else { return nil }
        var seconds = date.dayNumber * 86_400 + number(11..<13) * 3600 + number(14..<16) * 60 + number(17..<19)
        var index = 19
        if bytes[index] == UInt8(ascii: ".") {
            index += 1
            while index < bytes.count, (0x30...0x39).contains(bytes[index]) { index += 1 }
        }
        if bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            let offset = number(index + 1..<index + 3) * 3600 + number(index + 4..<index + 6) * 60
            seconds += bytes[index] == UInt8(ascii: "+") ? -offset : offset
        }
        return seconds
    }
}
