import Scoring
import Testing

/// scoring.md §10: the 2025 and 2026 State Council arrangements, day by day.
@Suite("working-day calendar")
struct WorkingDayCalendarTests {
    let calendar = Fixtures.calendar

    /// Every holiday block (first and last day off) of 2025 and 2026, from the notices.
    static let blocks: [(String, String)] = [
        ("2025-01-01", "2025-01-01"), ("2025-01-28", "2025-02-04"), ("2025-04-04", "2025-04-06"),
        ("2025-05-01", "2025-05-05"), ("2025-05-31", "2025-06-02"), ("2025-10-01", "2025-10-08"),
        ("2026-01-01", "2026-01-03"), ("2026-02-15", "2026-02-23"), ("2026-04-04", "2026-04-06"),
        ("2026-05-01", "2026-05-05"), ("2026-06-19", "2026-06-21"), ("2026-09-25", "2026-09-27"),
        ("2026-10-01", "2026-10-07"),
    ]

    /// Every adjusted working weekend day (调休上班).
    static let adjusted = [
        "2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11",
        "2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10",
    ]

    @Test("every day of each holiday block is a day off", arguments: blocks)
    func holidayBlock(first: String, last: String) throws {
        var day = d(first)
        var count = 0
        while day <= d(last) {
            #expect(try calendar.isWorkingDay(day) == false, "\(day)")
            day = day.adding(days: 1)
            count += 1
        }
        #expect(count >= 1)
    }

    @Test("each adjusted weekend day is a working day", arguments: adjusted)
    func adjustedDay(date: String) throws {
        #expect(d(date).isWeekend)
        #expect(try calendar.isWorkingDay(d(date)))
    }

    @Test("ordinary days: a Wednesday works, a Saturday does not")
    func ordinaryDays() throws {
        #expect(try calendar.isWorkingDay(d("2025-03-05")))
        #expect(try calendar.isWorkingDay(d("2025-03-08")) == false)
    }

    @Test("both years have 248 working days")
    func yearCounts() throws {
        #expect(try calendar.workingDays(in: 2025).count == 248)
        #expect(try calendar.workingDays(in: 2026).count == 248)
    }

    @Test("counting forward: the start day is not counted", arguments: [
        ("2025-09-30", 3, "2025-10-11"), ("2025-01-24", 3, "2025-02-05"), ("2025-01-24", 5, "2025-02-07"),
        ("2025-04-25", 10, "2025-05-13"), ("2025-12-31", 3, "2026-01-06"), ("2026-02-13", 3, "2026-02-25"),
        ("2026-02-13", 7, "2026-03-02"), ("2026-09-18", 10, "2026-10-09"), ("2026-04-30", 20, "2026-06-01"),
    ])
    func forward(start: String, days: Int, expected: String) throws {
        #expect(try calendar.addWorkingDays(days, to: d(start)) == d(expected))
    }

    @Test("counting backward", arguments: [
        ("2025-10-31", -15, "2025-10-11"), ("2025-10-31", -10, "2025-10-17"),
        ("2026-03-05", -15, "2026-02-06"), ("2026-03-05", -10, "2026-02-13"),
    ])
    func backward(start: String, days: Int, expected: String) throws {
        #expect(try calendar.addWorkingDays(days, to: d(start)) == d(expected))
    }

    @Test("a date outside the loaded years is an error, never a guess")
    func outside() {
        #expect(throws: ScoringError.self) { try calendar.isWorkingDay(d("2027-01-04")) }
        #expect(throws: ScoringError.self) { try calendar.addWorkingDays(3, to: d("2026-12-30")) }
        #expect(throws: ScoringError.self) { try calendar.workingDays(in: 2024) }
    }

    @Test("a broken calendar file names the field")
    func brokenFile() {
        let text = #"{"year": 2025, "source": "x", "holidays": [{"name": "a", "from": "2025-02-30", "to": "2025-03-01"}], "adjustedWorkdays": []}"#
        do {
            _ = try WorkingDayCalendar.loadYear(Array(text.utf8), source: "2025.json")
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .calendarInvalid)
            #expect(error.field == "/holidays/0/from")
        }
    }
}
