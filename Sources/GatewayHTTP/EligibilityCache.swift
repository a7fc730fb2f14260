import Intake
import Scoring
import Synchronization

/// Eligibility answers already computed, by person and date, each kept with the projection stamp it was
/// computed under (``FactProjection/stamp(of:)``): an answer is served again only while no fact that could
/// change it has arrived. Settlement systems ask about the same practitioners over and over; a fold per
/// claim would cost more than the HTTP exchange. Bounded: when full, it starts again empty.
final class EligibilityCache: Sendable {
    private struct Key: Hashable {
        let person: String
        let date: CalendarDate
    }
    private struct Answer {
        let stamp: ProjectionStamp
        let body: String
    }

    private let answers = Mutex<[Key: Answer]>([:])
    private let capacity: Int

    init(capacity: Int = 200_000) {
        self.capacity = capacity
    }

    /// The answer for `person` on `date`: the remembered one if its stamp still holds, else `compute`'s.
    func answer(person: String, on date: CalendarDate, stamp: ProjectionStamp, compute: () throws -> String) rethrows -> String {
        let key = Key(person: person, date: date)
        if let known = answers.withLock({ $0[key] }), known.stamp == stamp { return known.body }
        let body = try compute()
        answers.withLock { answers in
            if answers.count >= capacity { answers.removeAll(keepingCapacity: true) }
            answers[key] = Answer(stamp: stamp, body: body)
        }
        return body
    }
}
