import Intake
import ServiceLifecycle

/// Runs `work` now and then again every `interval` until graceful shutdown (or cancellation): the loop of
/// the gateway's background services (push delivery, the periodic-bulletin scheduler, the log follower).
func repeatUntilShutdown(every interval: Duration, _ work: @escaping @Sendable () async -> Void) async {
    await cancelWhenGracefulShutdown {
        while !Task.isCancelled {
            await work()
            try? await Task.sleep(for: interval)
        }
    }
}
