import NIOPosix

/// Runs a short blocking database read on NIO's blocking pool (one thread per core), keeping it
/// off the event loops. Dispatch's global queue, used before, starts more threads than cores
/// while reads wait: with `wrk -c16` on 2 cores the URL page's p99 was 20.4-22.0 ms there and
/// 17.9-20.5 ms here, 8% more requests/s (4 alternating runs of scripts/bench-api.sh's page).
/// Long jobs (crawls) stay on Dispatch so they never hold one of these few threads.
func blockingRead<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await NIOThreadPool.singleton.runIfActive(work)
}
