import Synchronization

/// A lock for async code: a task that finds it held is suspended (its thread goes on with other work)
/// and resumed, first come first served, when the holder leaves. The append lock of a store within one
/// process, and the committer's sequencing.
public final class AsyncLock: Sendable {
    private struct State {
        var held = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// An open lock.
    public init() {}

    /// Runs `body` holding the lock; released however `body` ends.
    public func withLock<Result: Sendable, Failure: Error>(_ body: () async throws(Failure) -> Result) async throws(Failure) -> Result {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let acquired = state.withLock { state -> Bool in
                guard state.held else {
                    state.held = true
                    return true
                }
                state.waiting.append(continuation)
                return false
            }
            if acquired { continuation.resume() }
        }
    }

    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiting.isEmpty else {
                state.held = false
                return nil
            }
            return state.waiting.removeFirst()   // the lock passes to it, still held
        }
        next?.resume()
    }
}
