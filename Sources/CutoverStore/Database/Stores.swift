import Dispatch
import GRDB

// One store per capability. Each is a small value over the database's connection pool: it owns
// its records and queries, names its methods for what they do, and is the only way the rest of
// the package reaches its tables. The writer itself is not visible outside this module.
//
// Synchronous methods are for threads that may block (the crawler's Dispatch thread, the
// server's `blockingRead` pool, jobs run `offEventLoop`) and are marked `noasync`: calling one
// from async code is a compile error. Async methods run on GRDB's own queues.

extension AppDatabase {
    /// Registered sites and their settings.
    package var sites: SiteStore { SiteStore(context: StoreContext(self)) }
    /// Crawl runs, what a crawl found (URLs, PHP includes, `.htaccess` files) and its issues.
    package var crawls: CrawlStore { CrawlStore(context: StoreContext(self)) }
    /// The URL inventory: pages, counts, progress, snapshots, page keys.
    package var inventory: InventoryStore { InventoryStore(context: StoreContext(self)) }
    /// Probe runs and what each URL answered.
    package var probes: ProbeStore { ProbeStore(context: StoreContext(self)) }
    /// Parity runs: how Swift answers each page compared with PHP.
    package var parity: ParityStore { ParityStore(context: StoreContext(self)) }
    /// Imported access logs and the traffic they counted.
    package var traffic: TrafficStore { TrafficStore(context: StoreContext(self)) }
    /// The planned owners: flips, route prefixes, what an export renders.
    package var plan: PlanStore { PlanStore(context: StoreContext(self)) }
    /// Stored exports.
    package var exports: ExportStore { ExportStore(context: StoreContext(self)) }
}

/// What every store holds: the pool, the clock, and the URL page's per-thread readers.
struct StoreContext: Sendable {
    let writer: any DatabaseWriter
    let clock: WallClock
    let threadReaders: ThreadReaders?

    init(_ database: AppDatabase) {
        (writer, clock, threadReaders) = (database.writer, database.clock, database.threadReaders)
    }
}

protocol Store: Sendable {
    var context: StoreContext { get }
}

extension Store {
    var writer: any DatabaseWriter { context.writer }
    var clock: WallClock { context.clock }
    var threadReaders: ThreadReaders? { context.threadReaders }
}

package struct SiteStore: Store { let context: StoreContext }
package struct CrawlStore: Store { let context: StoreContext }
package struct InventoryStore: Store { let context: StoreContext }
package struct ProbeStore: Store { let context: StoreContext }
package struct ParityStore: Store { let context: StoreContext }
package struct TrafficStore: Store { let context: StoreContext }
package struct PlanStore: Store { let context: StoreContext }
package struct ExportStore: Store { let context: StoreContext }

extension AppDatabase {
    /// The one way async code reaches the synchronous (`noasync`) store methods: `work` runs on
    /// a Dispatch thread, which may block on SQLite's busy timeout, and the caller awaits it. (The
    /// server's request handlers use `blockingRead`, which does the same on NIO's thread pool.)
    package func blocking<T: Sendable>(_ work: @escaping @Sendable (AppDatabase) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try work(self) }) }
        }
    }
}
