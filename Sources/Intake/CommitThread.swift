import Dispatch
import Foundation
import Synchronization

/// A thread of its own for group commits, as a Swift task executor: the committing task prefers it, so
/// the commit's passes (in-order derivation, the signing it waits for, the store's answers) run there and
/// resume there after each await, instead of queueing behind the requests' verification work on the
/// cooperative pool's two threads — which cost a third of intake's throughput when tried.
final class CommitThread: TaskExecutor, Sendable {
    /// The one commit thread of the process (commits are serial per store anyway).
    static let shared = CommitThread()

    private let jobs = Mutex<[UnownedJob]>([])
    private let wake = DispatchSemaphore(value: 0)

    private init() {
        let thread = Thread { [self] in run() }
        thread.name = "tongbao-commit"   // at most 15 characters (Linux thread names)
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        jobs.withLock { $0.append(job) }
        wake.signal()
    }

    /// Whether the calling code runs on the commit thread.
    static var isCurrent: Bool { Thread.current.name == "tongbao-commit" }

    /// Runs each job as it is enqueued, one at a time, for the life of the process.
    private func run() {
        while true {
            wake.wait()   // on this thread of its own, between jobs
            guard let job = jobs.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) else { continue }
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
