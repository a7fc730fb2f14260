import COpenSSL
import ThreadParking
import Foundation
import Synchronization

/// ECDSA signing nonces computed ahead of the signatures that use them, on a thread of idle priority.
///
/// An ECDSA signature is a point multiplication by a fresh random nonce k, which gives r, and the
/// inverse of k; then s = k⁻¹(digest + r·key), a few modular multiplications. The first part does not
/// depend on what is signed, so OpenSSL lets it be done beforehand (`ECDSA_sign_setup`, then
/// `ECDSA_do_sign_ex`). Here a background thread keeps up to `capacity` such (k⁻¹, r) pairs ready, and a
/// signature takes one: on the gateway's group commit that turns each signature from about 25 µs into
/// about 1 µs, and the point multiplications run when the cores would otherwise be idle (the thread is
/// `SCHED_IDLE`: it yields to every other thread of the machine). When none is ready, the caller signs
/// the usual way.
///
/// Each nonce is used exactly once: ``take()`` removes it under the lock, and it is cleared and freed as
/// soon as its signature is made. The nonces are as secret as the key; they live in this process only.
///
/// When the process exits, every pool's thread is stopped, and waited for, before OpenSSL frees its own
/// state (an `atexit` handler registered after OpenSSL's, so it runs first): a thread still computing a
/// nonce then would use freed locks.
final class SigningNonces: @unchecked Sendable {
    /// How many nonces are kept ready.
    let capacity: Int
    // An EC_KEY reference of our own (EVP_PKEY_get1_EC_KEY), freed when the pool goes; it is only read.
    private let key: OpaquePointer
    private let state = Mutex(State())
    private let wake = Parking()
    private let finished = Parking()
    private let made = Atomic(0)

    private struct State {
        var ready: [Nonce] = []
        /// The thread was woken and has not yet filled the pool.
        var refilling = false
        var stopping = false
    }

    /// Starts keeping `capacity` nonces ready for the P-256 key `key` (an `EVP_PKEY` its owner keeps alive
    /// while this is created); nil when the key has no EC_KEY form.
    init?(key: OpaquePointer, capacity: Int) {
        guard capacity > 0, let ecKey = tongbao_ec_key(key) else { return nil }
        self.key = ecKey
        self.capacity = capacity
        state.withLock { $0.refilling = true }
        Self.stopsBeforeExit()
        Self.running.withLock { $0[ObjectIdentifier(self)] = self }
        let thread = Thread { [self] in run() }
        thread.name = "tongbao-nonces"   // at most 15 characters (Linux thread names)
        thread.start()
        wake.wake()
    }

    deinit {
        tongbao_ec_key_free(key)
    }

    /// Nonces ready now.
    var readyCount: Int { state.withLock { $0.ready.count } }
    /// Signatures made with a nonce of this pool.
    var signaturesMade: Int { made.load(ordering: .relaxed) }

    /// A ready nonce, removed from the pool (nil if none is ready); once half the pool is gone, asks the
    /// thread to fill it up again.
    ///
    /// Never waits for the lock: the thread holds it only to add a nonce, but it runs at idle priority,
    /// and were it preempted there, a signer waiting for it would wait for an idle core. A signer that
    /// finds the lock taken signs the usual way instead.
    func take() -> Nonce? {
        let taken = state.withLockIfAvailable { state -> (Nonce?, Bool) in
            let nonce = state.ready.popLast()
            guard state.ready.count < capacity / 2, !state.refilling, !state.stopping else { return (nonce, false) }
            state.refilling = true
            return (nonce, true)
        }
        guard let (nonce, wakeThread) = taken else { return nil }
        if wakeThread { wake.wake() }
        return nonce
    }

    /// Signs a SHA-256 `digest` with `nonce` (consumed: it is cleared and freed here); raw r‖s, or nil if
    /// OpenSSL refused (the caller then signs the usual way).
    func sign(digest: [UInt8], with nonce: Nonce) -> [UInt8]? {
        var raw = [UInt8](repeating: 0, count: 64)
        let signed = raw.withUnsafeMutableBufferPointer { buffer in
            tongbao_ecdsa_sign_precomputed(key, digest, Int32(digest.count), nonce.inverse, nonce.r, buffer.baseAddress)
        }
        guard signed == 1 else { return nil }
        made.add(1, ordering: .relaxed)
        return raw
    }

    /// Stops the thread after the nonce it may be computing; with `waiting` (outside Swift tasks: the exit
    /// handler), returns only once it has ended (however it was stopped). The ready nonces are cleared and
    /// freed. A task waits with ``stopAndWait()``.
    func stop(waiting: Bool = false) {
        let first = state.withLock { state -> Bool in
            defer { state.stopping = true }
            return !state.stopping
        }
        if first { wake.wake() }
        if waiting, finished.park() {
            finished.wake()   // for anyone else waiting
        }
    }

    /// Stops the thread and waits, without blocking the task's thread, until it has ended.
    public func stopAndWait() async {
        stop()
        while threadRunning { try? await Task.sleep(for: .milliseconds(1)) }
    }

    /// Whether the pool's thread is still running.
    var threadRunning: Bool { Self.running.withLock { $0[ObjectIdentifier(self)] != nil } }

    /// The pools whose thread is running (each thread removes its pool as it ends).
    private static let running = Mutex<[ObjectIdentifier: SigningNonces]>([:])

    /// Stops every pool's thread and waits until each has ended.
    static func stopAllThreads() {
        for pool in running.withLock({ Array($0.values) }) { pool.stop(waiting: true) }
    }

    /// Registers, once, the `atexit` handler that stops the threads. It is registered when the first pool
    /// is made, after OpenSSL (already in use for the key) registered its cleanup, so it runs before it.
    private static func stopsBeforeExit() {
        _ = exitHandler
    }

    private static let exitHandler: Void = {
        atexit { SigningNonces.stopAllThreads() }
    }()

    /// The thread: waits to be woken, then computes nonces until the pool is full or it is told to stop.
    private func run() {
        Self.lowerPriorityToIdle()
        while true {
            wake.park()
            while true {
                if state.withLock({ $0.stopping }) {
                    state.withLock { $0.ready.removeAll() }
                    Self.running.withLock { $0[ObjectIdentifier(self)] = nil }
                    finished.wake()
                    return
                }
                // Computed outside the lock: signers keep taking nonces meanwhile.
                guard let nonce = Nonce(key: key) else {
                    TrustError.clearQueue()
                    state.withLock { $0.refilling = false }
                    break
                }
                let full = state.withLock { state -> Bool in
                    state.ready.append(nonce)
                    guard state.ready.count >= capacity else { return false }
                    state.refilling = false
                    return true
                }
                if full { break }
            }
        }
    }

    /// Runs the calling thread under `SCHED_IDLE` (Linux): only when no other thread wants the core.
    private static func lowerPriorityToIdle() {
        #if os(Linux)
        var parameters = sched_param()
        parameters.sched_priority = 0
        let schedIdle: Int32 = 5   // SCHED_IDLE, <sched.h> (not exported to Swift)
        _ = sched_setscheduler(0, schedIdle, &parameters)
        #endif
    }

    /// One nonce's precomputed half: k⁻¹ and r, cleared and freed with the object.
    final class Nonce: @unchecked Sendable {
        // Owned; used by one signature only (``SigningNonces/take()`` hands each out once).
        fileprivate let inverse: OpaquePointer
        fileprivate let r: OpaquePointer

        fileprivate init?(key: OpaquePointer) {
            var inverse: OpaquePointer?
            var r: OpaquePointer?
            guard tongbao_ecdsa_precompute(key, &inverse, &r) == 1, let inverse, let r else {
                BN_clear_free(inverse)
                BN_clear_free(r)
                return nil
            }
            self.inverse = inverse
            self.r = r
        }

        deinit {
            BN_clear_free(inverse)
            BN_clear_free(r)
        }
    }
}
