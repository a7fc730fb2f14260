import Glibc

/// Where a thread the project owns (a `SerialThread`, the WAL checkpointer, the nonce precomputer) sleeps
/// until there is work: a count of wake-ups over a POSIX mutex and condition. Only those threads park;
/// an event loop or a Swift task never does (``park()`` returns at once, counting nothing, when called
/// from a task), so nothing the store or intake awaits can be held up by it.
public final class Parking: @unchecked Sendable {
    // The mutex and condition are allocated once and used only through pthread calls under the mutex.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var pending = 0

    /// A parking place with no wake-up pending.
    public init() {
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    /// Wakes one parked thread, or the next to park.
    public func wake() {
        pthread_mutex_lock(mutex)
        pending += 1
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Sleeps until woken (a wake-up given before counts). Returns false without sleeping when called from
    /// a Swift task: those threads are the cooperative pool's, and must not sleep.
    @discardableResult
    public func park() -> Bool {
        guard withUnsafeCurrentTask(body: { $0 == nil }) else { return false }
        pthread_mutex_lock(mutex)
        while pending == 0 { pthread_cond_wait(condition, mutex) }
        pending -= 1
        pthread_mutex_unlock(mutex)
        return true
    }
}
