import NIOPosix
import Synchronization

/// Group commit: callers hand in one item each and wait; one worker at a time takes everything that
/// arrived while the previous batch was committing and commits it as one batch (one durable write for all).
/// Under load, batches grow by themselves; a lone caller waits for its own commit only.
///
/// The worker runs on NIO's blocking-I/O thread pool, never on an event loop or Swift's cooperative pool,
/// so waiting for the disk blocks no request handling.
final class GroupCommit<Item: Sendable, Outcome: Sendable>: Sendable {
    private struct Waiting {
        let item: Item
        let continuation: CheckedContinuation<Outcome, any Error>
    }
    private struct State {
        var queue: [Waiting] = []
        var committing = false
    }

    private let state = Mutex(State())
    private let maximumBatch: Int
    private let threads: NIOThreadPool
    /// Commits a batch and answers one outcome per item, in order (failures are outcomes too).
    private let commit: @Sendable ([Item]) -> [Outcome]

    /// Creates the queue; `commit` runs on `threads` with at most `maximumBatch` items at a time.
    init(maximumBatch: Int = 512, threads: NIOThreadPool = .singleton, commit: @escaping @Sendable ([Item]) -> [Outcome]) {
        self.maximumBatch = maximumBatch
        self.threads = threads
        self.commit = commit
    }

    /// Items waiting for the next batch (not counting the batch being committed).
    var waiting: Int { state.withLock { $0.queue.count } }

    /// Waits until `item` is committed (with whatever else arrived meanwhile) and returns its outcome.
    func submit(_ item: Item) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            let startWorker = state.withLock { state -> Bool in
                state.queue.append(Waiting(item: item, continuation: continuation))
                guard !state.committing else { return false }
                state.committing = true
                return true
            }
            if startWorker { threads.submit { _ in self.drain() } }
        }
    }

    /// Commits batches until the queue is empty.
    private func drain() {
        while true {
            let batch = state.withLock { state -> [Waiting] in
                let batch = Array(state.queue.prefix(maximumBatch))
                state.queue.removeFirst(batch.count)
                if batch.isEmpty { state.committing = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            let outcomes = commit(batch.map(\.item))
            for (index, waiting) in batch.enumerated() {
                // `commit` answers every item; should it not, the caller is still answered, never left waiting.
                if outcomes.indices.contains(index) {
                    waiting.continuation.resume(returning: outcomes[index])
                } else {
                    waiting.continuation.resume(throwing: GatewayError(code: "internal", status: 500, detail: "the group commit gave no outcome"))
                }
            }
        }
    }
}
