import ThreadParking
import Foundation
import Synchronization

/// A thread of its own that runs work one piece at a time: closures handed to ``run(_:)`` and, as a Swift
/// task executor, the jobs of tasks that prefer it (`withTaskExecutorPreference`). Code that must block —
/// SQLite's calls, a commit waiting for the other cores' signatures — blocks this thread only, never an
/// event loop or the cooperative pool; and a task that prefers it resumes here after each await, without
/// queueing behind other tasks' work or waking another thread.
public final class SerialThread: TaskExecutor, Sendable {
    /// The queue the thread drains; shared with the thread, which holds no reference to its owner, so the
    /// thread ends when its owner is released.
    private final class Queue: Sendable {
        enum Work: @unchecked Sendable {   // UnownedJob is used by this thread only, once
            case job(UnownedJob)
            case closure(@Sendable () -> Void)
        }

        let work = Mutex<(items: [Work], stopping: Bool)>(([], false))
        let wake = Parking()
        let threadID = Mutex<pthread_t?>(nil)

        func add(_ item: Work) {
            work.withLock { $0.items.append(item) }
            wake.wake()
        }

        /// The thread's loop: each piece of work in turn, until stopped with nothing left.
        func drain(as executor: UnownedTaskExecutor) {
            threadID.withLock { $0 = pthread_self() }
            while true {
                wake.park()   // on this thread of its own, between pieces of work
                let next = work.withLock { state -> (Work?, Bool) in
                    state.items.isEmpty ? (nil, state.stopping) : (state.items.removeFirst(), false)
                }
                switch next {
                case (.job(let job)?, _): job.runSynchronously(on: executor)
                case (.closure(let closure)?, _): closure()
                case (nil, true): return
                case (nil, false): continue
                }
            }
        }
    }

    private let queue = Queue()

    /// Starts the thread, named `name` (Linux shows at most 15 characters).
    public init(name: String) {
        let queue = queue
        let executor = UnownedTaskExecutor(ordinary: self)
        let thread = Thread { queue.drain(as: executor) }
        thread.name = name
        thread.start()
    }

    deinit {
        queue.work.withLock { $0.stopping = true }
        queue.wake.wake()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        queue.add(.job(UnownedJob(job)))
    }

    /// Whether the caller runs on this thread.
    public var isCurrent: Bool {
        queue.threadID.withLock { id in id.map { pthread_equal($0, pthread_self()) != 0 } ?? false }
    }

    /// Runs `body` on this thread (at once when the caller is on it) and returns its result; the caller's
    /// task is suspended meanwhile. Once handed over, `body` runs to its end even if the caller is cancelled.
    public func run<Value: Sendable, Failure: Error>(_ body: @escaping @Sendable () throws(Failure) -> Value) async throws(Failure) -> Value {
        if isCurrent { return try body() }
        let outcome: Result<Value, Failure> = await withCheckedContinuation { continuation in
            queue.add(.closure { continuation.resume(returning: Result { () throws(Failure) -> Value in try body() }) })
        }
        return try outcome.get()
    }
}
