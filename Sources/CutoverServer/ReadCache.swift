import CutoverStore
import Foundation
import Hummingbird

/// Answers of expensive reads (stats over 100,000 URLs, page totals) kept for a short time.
/// The server clears it on its own writes; writes by another process (the CLI from cron) show
/// after at most `lifetime`.
final class ReadCache: @unchecked Sendable {
    /// What is cached: a site's stats, or the total of a URL query (without limit, offset, cursor).
    enum Key: Hashable, Sendable {
        case stats(site: String)
        case count(site: String, query: URLQuery)
    }

    private let lock = NSLock()
    private var entries: [Key: (value: any Sendable, expires: Date)] = [:]
    private var inFlight: [Key: Task<any Sendable, any Error>] = [:]
    let lifetime: TimeInterval

    init(lifetime: TimeInterval = 2) {
        self.lifetime = lifetime
    }

    /// The cached value for `key`, or `compute()` run off the event loop and remembered. While
    /// one request computes a value, the others wait for that same computation.
    func value<T: Sendable>(_ key: Key, compute: @escaping @Sendable () throws -> T) async throws -> T {
        if let hit = lookup(key) as? T { return hit }
        let task: Task<any Sendable, any Error> = {
            lock.lock()
            defer { lock.unlock() }
            if let running = inFlight[key] { return running }
            let created = Task<any Sendable, any Error> {
                defer { self.finished(key) }
                let value = try await blockingRead(compute)
                self.store(key, value)
                return value
            }
            inFlight[key] = created
            return created
        }()
        guard let value = try await task.value as? T else { preconditionFailure("cache key \(key) used for two types") }
        return value
    }

    private func finished(_ key: Key) {
        lock.lock()
        inFlight[key] = nil
        lock.unlock()
    }

    func clear() {
        lock.lock()
        entries.removeAll()
        lock.unlock()
    }

    private func lookup(_ key: Key) -> (any Sendable)? {
        lock.lock()
        defer { lock.unlock() }
        guard let entry = entries[key], entry.expires > Date() else { return nil }
        return entry.value
    }

    private func store(_ key: Key, _ value: any Sendable) {
        lock.lock()
        defer { lock.unlock() }
        if entries.count > 1000 { entries.removeAll() }
        entries[key] = (value, Date().addingTimeInterval(lifetime))
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
