import Foundation
import Synchronization
import Testing
import ThreadParking

@Suite("parking the project's own threads")
struct ParkingTests {
    @Test("a task never parks; a thread of its own sleeps until woken, and a wake-up given before counts")
    func parksOnlyOwnThreads() async throws {
        let parking = Parking()
        #expect(parking.park() == false, "called from a task: returns at once")
        parking.wake()   // given before the thread parks: it counts
        let woken = Atomic<Int>(0)
        let thread = Thread {
            for _ in 0..<2 where parking.park() { woken.add(1, ordering: .relaxed) }
        }
        thread.start()
        // Generous deadlines: a full parallel test run can keep a new thread waiting for a core for seconds.
        var deadline = ContinuousClock.now + .seconds(60)
        while woken.load(ordering: .relaxed) < 1, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(woken.load(ordering: .relaxed) == 1, "the early wake-up let it through once; now it sleeps")
        try await Task.sleep(for: .milliseconds(50))
        #expect(woken.load(ordering: .relaxed) == 1)
        parking.wake()
        deadline = ContinuousClock.now + .seconds(60)
        while woken.load(ordering: .relaxed) < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(woken.load(ordering: .relaxed) == 2)
    }
}
