import CutoverStore
import Foundation
import Hummingbird
import Synchronization

/// Answers of expensive reads (stats over 100,000 URLs, page totals) kept for a short time.
/// The server clears it on its own writes; writes by another process (the CLI from cron) show
/// after at most `lifetime` plus one recomputation: an expired answer is still given while one
/// request's recomputation runs in the background, so only the first request after a clear
/// waits. (When every request waited, the 150 ms stats of a 1,000,000-URL site every 2 s were
/// the API's p99.)
package final class ReadCache: Sendable {
    /// What is cached: a site's stats, or the total of a URL query (without limit, offset, cursor).
    enum Key: Hashable, Sendable {
        case stats(site: String)
        case count(site: String, query: URLQuery)
        case site(name: String)
    }

    private struct State {
        var entries: [Key: (value: any Sendable, expires: Date)] = [:]
        var inFlight: [Key: (task: Task<any Sendable, any Error>, generation: Int)] = [:]
        /// Counts clears: a computation started before a clear stores nothing after it.
        var generation = 0
    }

    /// A cached answer, or the computation to wait for.
    private enum Lookup {
        case hit(any Sendable)
        case wait(Task<any Sendable, any Error>)
    }

    private let state = Mutex(State())
    let lifetime: TimeInterval
    /// The time now; a test passes its own so that an answer expires without waiting.
    private let now: @Sendable () -> Date

    package init(lifetime: TimeInterval = 2, now: @escaping @Sendable () -> Date = Date.init) {
        self.lifetime = lifetime
        self.now = now
    }

    /// The cached value for `key`, or `compute()` (which must keep off the event loop) run and
    /// remembered. While one request computes a value, the others wait for that same computation.
    func value<T: Sendable>(_ key: Key, compute: @escaping @Sendable () async throws -> T) async throws -> T {
        let lookup: Lookup = state.withLock { state in
            let entry = state.entries[key]
            if let entry, entry.expires > now() { return .hit(entry.value) }
            let running =
                state.inFlight[key]?.task
                ?? {
                    let generation = state.generation
                    let created = Task<any Sendable, any Error> {
                        defer { self.finished(key, generation) }
                        let value = try await compute()
                        self.store(key, value, generation)
                        return value
                    }
                    state.inFlight[key] = (created, generation)
                    return created
                }()
            // Expired: the old answer now, the new one for the requests after the refresh.
            if let entry { return .hit(entry.value) }
            return .wait(running)
        }
        let found: any Sendable
        switch lookup {
        case .hit(let value): found = value
        case .wait(let task): found = try await task.value
        }
        guard let value = found as? T else { preconditionFailure("cache key \(key) used for two types") }
        return value
    }

    private func finished(_ key: Key, _ generation: Int) {
        state.withLock { state in
            if state.inFlight[key]?.generation == generation { state.inFlight[key] = nil }
        }
    }

    /// Forgets every answer, and every computation still running (which may have read the
    /// database before the write that clears).
    package func clear() {
        state.withLock { state in
            state.entries.removeAll()
            state.inFlight.removeAll()
            state.generation += 1
        }
    }

    private func store(_ key: Key, _ value: any Sendable, _ generation: Int) {
        state.withLock { state in
            guard generation == state.generation else { return }
            if state.entries.count > 1000 { state.entries.removeAll() }
            state.entries[key] = (value, now().addingTimeInterval(lifetime))
        }
    }
}

/// Clears the read cache after every mutating request, so the server's own writes show at once.
struct CacheInvalidationMiddleware<Context: RequestContext>: RouterMiddleware {
    let cache: ReadCache

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        defer { if request.isWrite { cache.clear() } }
        return try await next(request, context)
    }
}

extension ReadCache {
    /// The site named in the path, for reads: remembered like the other answers (cleared on the
    /// server's own writes, at most `lifetime` old after another process's), so a read pays no
    /// database round trip to find its site. Writes look the site up afresh.
    func site(_ context: AppContext, in database: AppDatabase) async throws -> SiteRecord {
        let name = try context.parameters.require("site")
        return try await value(.site(name: name)) { try await database.sites.named(name) }
    }
}
