import Dispatch
import Foundation
import Logging

/// A stop that never hangs: once SIGTERM or SIGINT arrives, the graceful shutdown (requests in
/// flight, the job runner, the canary job) has `limit`; past it the process exits with status 1
/// and says so. Seen once in CI: an event loop blocked for good on a lock in
/// swift-async-algorithms' `merge` while Hummingbird's date cache was cancelled, and `cutover
/// serve` never exited; a client that sends half a request body and waits does the same. SQLite
/// commits are atomic, so an exit at any point loses no committed work, and a crawl, probe or
/// parity run left running is marked interrupted when the database is next opened
/// (`recoverInterruptedRuns`).
///
/// Runs on its own Dispatch queue, outside the cooperative pool and the event loops, so that
/// whatever blocks them cannot block it.
package final class ShutdownWatchdog {
    private let sources: [any DispatchSourceSignal]

    package init(limit: Duration, logger: Logger, exit: @escaping @Sendable (Int32) -> Void = { Foundation.exit($0) }) {
        let queue = DispatchQueue(label: "cutover.shutdown-watchdog")
        let seconds = Double(limit.components.seconds) + Double(limit.components.attoseconds) / 1e18
        let armed = Armed()
        sources = [SIGTERM, SIGINT].map { number in
            // ServiceLifecycle ignores the signal's default action and watches it too; each
            // source of a signal hears it.
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                guard !armed.value else { return }
                armed.value = true
                queue.asyncAfter(deadline: .now() + seconds) {
                    logger.error("the graceful shutdown did not finish within \(limit); exiting without it")
                    exit(1)
                }
            }
            source.resume()
            return source
        }
    }

    deinit { for source in sources { source.cancel() } }

    /// Whether the countdown runs; only touched on the watchdog's serial queue.
    private final class Armed: @unchecked Sendable { var value = false }
}
