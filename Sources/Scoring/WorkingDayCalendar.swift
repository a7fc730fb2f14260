import StrictJSON

/// Mainland China's working days (scoring.md §10): Monday–Friday, minus the State Council's public
/// holidays, plus the adjusted working weekend days (调休上班), for the years loaded from data.
///
/// ``isWorkingDay(_:)`` and ``addWorkingDays(_:to:)`` refuse a date outside the loaded years: they never
/// guess. Deadlines use ``countWorkingDays(_:from:)`` instead, which counts Monday–Friday through a year not
/// yet loaded and says so (`provisional`): a deadline is never dropped because the State Council has not
/// published next year's arrangement yet, and it is recomputed from the facts once the year is loaded.
public struct WorkingDayCalendar: Sendable, Equatable {
    /// A date counted in working days, and whether the count went through a year without an official
    /// calendar (counted on weekdays only, so the date may move when that year is loaded).
    public struct CountedDate: Sendable, Equatable {
        /// The date.
        public var date: CalendarDate
        /// Whether a day counted lay in a year not loaded.
        public var provisional: Bool

        /// Creates a counted date.
        public init(date: CalendarDate, provisional: Bool) {
            self.date = date
            self.provisional = provisional
        }
    }

    /// One year's arrangement.
    public struct Year: Sendable, Equatable {
        /// A named block of days off.
        public struct Holiday: Sendable, Equatable {
            /// The holiday's name (元旦, 春节, …).
            public var name: String
            /// The first day off.
            public var from: CalendarDate
            /// The last day off (inclusive).
            public var to: CalendarDate
        }

        /// The year.
        public var year: Int
        /// The State Council notice the data comes from.
        public var source: String
        /// The holiday blocks.
        public var holidays: [Holiday]
        /// Weekend days that are working days.
        public var adjustedWorkdays: Set<CalendarDate>
        /// Every day off that would otherwise be a working day, or is inside a holiday block.
        public var daysOff: Set<CalendarDate>
    }

    /// The loaded years, by year.
    public private(set) var years: [Int: Year]

    /// Creates a calendar from loaded years.
    public init(years: [Year]) {
        self.years = Dictionary(years.map { ($0.year, $0) }, uniquingKeysWith: { _, last in last })
    }

    /// Whether `date` is a working day.
    /// - Throws: `date-outside-calendar` when the year is not loaded.
    public func isWorkingDay(_ date: CalendarDate) throws(ScoringError) -> Bool {
        guard let year = years[date.year] else { throw outside(date) }
        if year.adjustedWorkdays.contains(date) { return true }
        if year.daysOff.contains(date) { return false }
        return !date.isWeekend
    }

    /// The `count`-th working day after `date` (before it when negative; `date` itself when zero).
    /// The start day is not counted (scoring.md §10).
    public func addWorkingDays(_ count: Int, to date: CalendarDate) throws(ScoringError) -> CalendarDate {
        guard years[date.year] != nil else { throw outside(date) }
        let step = count >= 0 ? 1 : -1
        var remaining = abs(count)
        var current = date
        while remaining > 0 {
            current = current.adding(days: step)
            if try isWorkingDay(current) { remaining -= 1 }
        }
        return current
    }

    /// The `count`-th working day after `date` (before it when negative), counting Monday–Friday in years
    /// not loaded and marking the result provisional when it did.
    public func countWorkingDays(_ count: Int, from date: CalendarDate) -> CountedDate {
        let step = count >= 0 ? 1 : -1
        var remaining = abs(count)
        var current = date
        var provisional = false
        while remaining > 0 {
            current = current.adding(days: step)
            let working: Bool
            if let year = years[current.year] {
                working = year.adjustedWorkdays.contains(current) || (!year.daysOff.contains(current) && !current.isWeekend)
            } else {
                provisional = true
                working = !current.isWeekend
            }
            if working { remaining -= 1 }
        }
        return CountedDate(date: current, provisional: provisional)
    }

    /// The last day the loaded years cover without a gap from `date` on (31 December of the last of them);
    /// nil when `date`'s own year is not loaded. Deadlines past it are provisional.
    public func coveredThrough(from date: CalendarDate) -> CalendarDate? {
        guard years[date.year] != nil else { return nil }
        var last = date.year
        while years[last + 1] != nil { last += 1 }
        return CalendarDate(year: last, month: 12, day: 31)
    }

    /// Every working day of `year`, in order.
    public func workingDays(in year: Int) throws(ScoringError) -> [CalendarDate] {
        guard let first = CalendarDate(year: year, month: 1, day: 1), years[year] != nil else {
            throw ScoringError(code: .dateOutsideCalendar, field: "year",
                               message: "no working-day calendar for \(year); loaded years: \(loadedYearsText)")
        }
        var result: [CalendarDate] = []
        var day = first
        while day.year == year {
            if try isWorkingDay(day) { result.append(day) }
            day = day.adding(days: 1)
        }
        return result
    }

    private var loadedYearsText: String {
        years.keys.sorted().map(String.init).joined(separator: ", ")
    }

    private func outside(_ date: CalendarDate) -> ScoringError {
        ScoringError(code: .dateOutsideCalendar, field: "date",
                     message: "\(date) is outside the working-day calendar (loaded years: \(loadedYearsText))")
    }

    // MARK: Loading

    /// Decodes one year's calendar file; `source` names the file in errors.
    public static func loadYear<Bytes: Collection>(_ bytes: Bytes, source: String) throws(ScoringError) -> Year
    where Bytes.Element == UInt8 {
        func invalid(_ error: JSONDecodingError) -> ScoringError {
            ScoringError(code: .calendarInvalid, source: source, field: error.pointer, line: error.line, message: error.message)
        }
        let root: JSONNode
        do {
            root = try JSONParser().parse(bytes)
        } catch {
            throw ScoringError(code: .calendarInvalid, source: source, line: error.line, message: "not valid JSON: \(error.message)")
        }
        do {
            return try decodeYear(root)
        } catch {
            throw invalid(error)
        }
    }

    private static func decodeYear(_ root: JSONNode) throws(JSONDecodingError) -> Year {
        let object = try JSONObject(root, pointer: "", allowedKeys: ["$schema", "year", "source", "holidays", "adjustedWorkdays"])
        let year = try object.int("year", in: 1900...2200)
        func date(_ node: JSONNode, _ pointer: String) throws(JSONDecodingError) -> CalendarDate {
            let text = try JSONObject.string(node, pointer: pointer, maxLength: 10)
            guard let value = CalendarDate(iso: text) else {
                throw JSONDecodingError(pointer: pointer, line: node.line, message: "\"\(text)\" is not a YYYY-MM-DD date")
            }
            guard value.year == year else {
                throw JSONDecodingError(pointer: pointer, line: node.line, message: "\(value) is not in \(year)")
            }
            return value
        }
        var holidays: [Year.Holiday] = []
        var daysOff = Set<CalendarDate>()
        for element in try object.array("holidays", maxCount: 50) {
            let holiday = try JSONObject(element.node, pointer: element.pointer, allowedKeys: ["name", "from", "to"])
            let from = try date(try required(holiday, "from"), holiday.pointer(of: "from"))
            let to = try date(try required(holiday, "to"), holiday.pointer(of: "to"))
            guard from <= to else { throw holiday.error("to", "holiday ends (\(to)) before it starts (\(from))") }
            var day = from
            while day <= to {
                guard daysOff.insert(day).inserted else { throw holiday.error("from", "\(day) is already in another holiday") }
                day = day.adding(days: 1)
            }
            holidays.append(Year.Holiday(name: try holiday.string("name", maxLength: 64), from: from, to: to))
        }
        var adjusted = Set<CalendarDate>()
        for element in try object.array("adjustedWorkdays", maxCount: 50) {
            let day = try date(element.node, element.pointer)
            guard day.isWeekend else {
                throw JSONDecodingError(pointer: element.pointer, line: element.node.line, message: "\(day) is not a weekend day")
            }
            guard !daysOff.contains(day) else {
                throw JSONDecodingError(pointer: element.pointer, line: element.node.line, message: "\(day) is also a holiday")
            }
            adjusted.insert(day)
        }
        return Year(year: year, source: try object.string("source"), holidays: holidays, adjustedWorkdays: adjusted, daysOff: daysOff)
    }

    private static func required(_ object: JSONObject, _ key: String) throws(JSONDecodingError) -> JSONNode {
        guard let node = object.node(key) else { throw object.error(key, "missing required field \"\(key)\"") }
        return node
    }
}
