import Synchronization

/// Group commit: callers hand in one item each and wait; one of them at a time (the leader) takes
/// everything that arrived while the previous batch was committing and commits it as one batch (one durable
/// write for all). Under load, batches grow by themselves; a lone caller waits for its own commit only.
///
/// The leader is a caller's own task: there is no worker task to start or stop. When its batch is done, the
/// leader answers the others and, while more are waiting, commits the next batches too, up to
/// ``batchesPerLeader`` (handing the lead on costs the next leader a wait for a thread, with every core busy
/// verifying); then it hands the lead to the first caller still waiting, whose item heads the next batch.
final class GroupCommit<Item: Sendable, Outcome: Sendable>: Sendable {
    /// What a waiting caller is woken with.
    private enum Wake: Sendable {
        case answered(Outcome)
        case lead
    }

    private struct Waiting {
        let item: Item
        let continuation: CheckedContinuation<Wake, Never>
    }

    private struct State {
        var queue: [Waiting] = []
        var committing = false
    }

    private let state = Mutex(State())
    private let maximumBatch: Int
    /// How many batches one leader commits at most before it hands the lead on: its own answer waits for
    /// them (a few milliseconds each under load).
    static var batchesPerLeader: Int { 4 }
    /// Commits a batch and answers one outcome per item, in order (failures are outcomes too).
    private let commit: @Sendable ([Item]) async -> [Outcome]
    /// The outcome for an item `commit` gave none for (it must answer every item; should it not, the caller
    /// is still answered, never left waiting).
    private let unanswered: @Sendable () -> Outcome

    /// Creates the queue; `commit` gets at most `maximumBatch` items at a time.
    init(maximumBatch: Int = 512, commit: @escaping @Sendable ([Item]) async -> [Outcome], unanswered: @escaping @Sendable () -> Outcome) {
        self.maximumBatch = maximumBatch
        self.commit = commit
        self.unanswered = unanswered
    }

    /// Items waiting for the next batch (not counting the batch being committed).
    var waiting: Int { state.withLock { $0.queue.count } }

    /// Waits until `item` is committed (with whatever else arrived meanwhile) and returns its outcome.
    func submit(_ item: Item) async -> Outcome {
        let wake = await withCheckedContinuation { (continuation: CheckedContinuation<Wake, Never>) in
            let lead = state.withLock { state -> Bool in
                state.queue.append(Waiting(item: item, continuation: continuation))
                guard !state.committing else { return false }
                state.committing = true
                return true
            }
            if lead { continuation.resume(returning: .lead) }
        }
        switch wake {
        case .answered(let outcome):
            return outcome
        case .lead:
            return await lead()
        }
    }

    /// Commits the batch headed by the leader's own item, answers the others, hands on the lead, and
    /// returns the leader's outcome.
    private func lead() async -> Outcome {
        var own: Outcome?
        for round in 0..<Self.batchesPerLeader {
            let batch = state.withLock { state -> [Waiting] in
                let batch = Array(state.queue.prefix(maximumBatch))
                state.queue.removeFirst(batch.count)
                return batch
            }
            guard !batch.isEmpty else { break }
            let outcomes = await commit(batch.map(\.item))
            func outcome(_ index: Int) -> Outcome { outcomes.indices.contains(index) ? outcomes[index] : unanswered() }
            // The leader's own item heads its first batch.
            if round == 0 { own = outcome(0) }
            for (index, waiting) in batch.enumerated() where round > 0 || index > 0 {
                waiting.continuation.resume(returning: .answered(outcome(index)))
            }
        }
        let next = state.withLock { state -> Waiting? in
            guard let next = state.queue.first else {
                state.committing = false
                return nil
            }
            return next
        }
        next?.continuation.resume(returning: .lead)
        return own ?? unanswered()
    }
}
