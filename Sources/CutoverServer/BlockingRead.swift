import NIOCore
import NIOPosix

/// Runs a short blocking database read on NIO's blocking pool (one thread per core), keeping it
/// off the event loops. Dispatch's global queue, used before, starts more threads than cores
/// while reads wait: with `wrk -c16` on 2 cores the URL page's p99 was 20.4-22.0 ms there and
/// 17.9-20.5 ms here, 8% more requests/s (4 alternating runs of scripts/bench-api.sh's page).
/// Long jobs (crawls) stay on Dispatch so they never hold one of these few threads.
///
/// From an event loop (the server's tasks run on NIO's loops, see `Cutover.main`) the result
/// comes back on that same loop. Resumed from the pool's thread instead, the task went to any
/// loop, often not its connection's, and its response crossed threads once more: a fifth fewer
/// context switches per URL page this way (perf stat, wrk -c16 and -c1).
func blockingRead<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    if let eventLoop = MultiThreadedEventLoopGroup.currentEventLoop {
        return try await NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop, work).get()
    }
    return try await NIOThreadPool.singleton.runIfActive(work)
}
