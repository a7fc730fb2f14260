import Foundation
import Scoring

/// RFC 3339 timestamps in China Standard Time (+08:00), the form every envelope carries, and "today" in China.
public enum Timestamps {
    /// The RFC 3339 timestamp of `date` in China Standard Time.
    public static func chinaStandardTime(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down)) + 8 * 3600
        let day = CalendarDate(dayNumber: Int((Double(seconds) / 86_400).rounded(.down)))
        let inDay = seconds - day.dayNumber * 86_400
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(day)T\(two(inDay / 3600)):\(two(inDay / 60 % 60)):\(two(inDay % 60))+08:00"
    }

    /// The calendar date in China of `date`.
    public static func chinaDate(_ date: Date) -> CalendarDate {
        CalendarDate(dayNumber: Int(((date.timeIntervalSince1970 + 8 * 3600) / 86_400).rounded(.down)))
    }
}
