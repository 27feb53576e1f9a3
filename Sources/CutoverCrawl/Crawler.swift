import CutoverCore
import CutoverStore
import Dispatch
import Foundation
import Logging
import Synchronization

/// What a crawl is doing, for progress displays.
public struct CrawlProgress: Sendable, Hashable {
    public enum Phase: String, Sendable {
        case walking, hashing, saving, done
    }
    public var phase: Phase
    public var done: Int
    public var total: Int?
}

/// The outcome of a successful crawl.
public struct CrawlResult: Sendable {
    public var crawl: CrawlRecord
    public var issues: [CrawlIssue]
    /// Where the time went, phase by phase (logged at info level; the crawl benchmark prints it).
    public var timings: CrawlTimings
}

/// Seconds spent in each phase of one crawl.
public struct CrawlTimings: Sendable, Hashable {
    /// Reading directories and stat-ing every entry.
    public var walk: Double = 0
    /// Loading the stored inventory to compare with.
    public var load: Double = 0
    /// URL mapping and hashing new or changed files.
    public var hash: Double = 0
    /// Comparing found with known.
    public var compare: Double = 0
    /// The one write transaction.
    public var save: Double = 0

    var metadata: Logger.Metadata {
        [
            "walk_s": "\(Self.seconds(walk))", "load_s": "\(Self.seconds(load))", "hash_s": "\(Self.seconds(hash))",
            "compare_s": "\(Self.seconds(compare))", "save_s": "\(Self.seconds(save))",
        ]
    }

    private static func seconds(_ value: Double) -> String {
        String(format: "%.3f", value)
    }
}

/// Measures consecutive phases on a monotonic clock.
struct PhaseClock {
    private var last = ContinuousClock.now

    /// Seconds since the previous call (or since creation).
    mutating func lap() -> Double {
        let now = ContinuousClock.now
        let elapsed = now - last
        last = now
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

/// Walks a site's docroot, compares it with the stored inventory and commits the difference
/// in one transaction.
public struct Crawler: Sendable {
    public let database: AppDatabase
    public let logger: Logger

    public init(database: AppDatabase, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// Crawls `site`. A failure before the commit is recorded on the crawl row and rethrown;
    /// the inventory is then exactly what it was before. `isCancelled` is polled while walking
    /// and hashing (a crawl run on a Dispatch queue has no task to cancel); true stops the crawl
    /// with `CancellationError`.
    @discardableResult
    public func crawl(
        site: SiteRecord,
        isCancelled: @escaping @Sendable () -> Bool = { Task.isCancelled },
        progress: @escaping @Sendable (CrawlProgress) -> Void = { _ in }
    ) throws -> CrawlResult {
        guard let siteID = site.id else { preconditionFailure("site was not saved") }
        let crawl = try database.beginCrawl(siteID: siteID)
        var logger = logger
        logger[metadataKey: "site"] = .string(site.name)
        logger[metadataKey: "crawl"] = .stringConvertible(crawl.id ?? 0)
        do {
            var clock = PhaseClock()
            var timings = CrawlTimings()
            let mapping = ApacheMapping(settings: site.settings)
            // The stored inventory loads on another core while this one walks.
            let knownLoad = BackgroundWork { [database] in try database.knownURLs(siteID: siteID) }
            var walker = DocrootWalker(mapping: mapping, isCancelled: isCancelled) { count in progress(.init(phase: .walking, done: count)) }
            try walker.walk()
            progress(.init(phase: .walking, done: walker.files.count))
            timings.walk = clock.lap()
            let known = try knownLoad.wait()
            timings.load = clock.lap()
            var hashIssues: [CrawlIssue] = []
            let found = try Self.foundURLs(
                walker.files,
                mapping: mapping,
                known: known,
                issues: &hashIssues,
                isCancelled: isCancelled,
                progress: progress
            )
            timings.hash = clock.lap()
            // On a front-controller site a retired file's URL is the front controller's, not Swift's.
            let changes = InventoryChanges.between(known: known, found: found, missing: site.frontController == nil ? .swift : .php)
            timings.compare = clock.lap()
            progress(.init(phase: .saving, done: 0))
            logger.debug("saving the inventory", metadata: ["found": .stringConvertible(found.count)])
            let issues = walker.issues + hashIssues
            let htaccess = Self.htaccessFiles(walker.htaccess)
            let finished = try database.finishCrawl(crawl, changes: changes, issues: issues, filesSeen: walker.files.count, htaccess: htaccess)
            timings.save = clock.lap()
            progress(.init(phase: .done, done: found.count, total: found.count))
            logger.info(
                "crawl finished",
                metadata: [
                    "files": .stringConvertible(finished.filesSeen), "added": .stringConvertible(finished.urlsAdded),
                    "changed": .stringConvertible(finished.urlsChanged), "removed": .stringConvertible(finished.urlsRemoved),
                    "issues": .stringConvertible(issues.count),
                ].merging(timings.metadata) { $1 }
            )
            return CrawlResult(crawl: finished, issues: issues, timings: timings)
        } catch {
            let message = error is CancellationError ? "cancelled" : String(describing: error)
            logger.error("crawl failed", metadata: ["error": .string(message)])
            try? database.failCrawl(crawl, error: message)
            throw error
        }
    }

    /// Turns walked files into inventory entries, hashing (on all cores) only the files whose
    /// size or mtime differ from what the inventory already knows.
    static func foundURLs(
        _ files: [WalkedFile],
        mapping: ApacheMapping,
        known: [String: KnownURL],
        issues: inout [CrawlIssue],
        isCancelled: @Sendable () -> Bool,
        progress: @Sendable (CrawlProgress) -> Void
    ) throws -> [FoundURL] {
        var found: [FoundURL] = []
        found.reserveCapacity(files.count)
        var toHash: [Int] = []
        for file in files {
            let hash = known[file.path]?.reusableHash(size: file.size, mtime: file.mtime)
            if hash == nil { toHash.append(found.count) }
            found.append(
                FoundURL(
                    path: file.path,
                    filePath: file.filePath,
                    owner: file.owner,
                    size: file.size,
                    mtime: file.mtime,
                    contentHash: hash,
                    flags: file.flags
                )
            )
        }
        let results = try hashAll(toHash.map { files[$0].fsPath }, isCancelled: isCancelled, progress: progress)
        for (slot, result) in zip(toHash, results) {
            switch result {
            case .success(let hash): found[slot].contentHash = hash
            case .failure(.unreadable(let reason)):
                if !found[slot].flags.contains(.directoryIndex) {
                    issues.append(CrawlIssue(filePath: found[slot].filePath, kind: "unreadable", message: reason))
                }
            }
        }
        return found
    }

    /// Hashes files in parallel; a directory URL and its index file share one read via the cache.
    static func hashAll(
        _ paths: [[UInt8]],
        isCancelled: @Sendable () -> Bool,
        progress: @Sendable (CrawlProgress) -> Void
    ) throws -> [Result<String, ContentHasher.Failure>] {
        guard !paths.isEmpty else { return [] }
        let unique = Array(Set(paths))
        let results = UnsafeMutableBufferPointer<Result<String, ContentHasher.Failure>>.allocate(capacity: unique.count)
        defer { results.deallocate() }
        let chunkSize = 256
        let chunks = (unique.count + chunkSize - 1) / chunkSize
        let counter = ProgressCounter()
        nonisolated(unsafe) let shared = results
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let range = (chunk * chunkSize)..<min(unique.count, (chunk + 1) * chunkSize)
            let skip = isCancelled()
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ContentHasher.bufferSize, alignment: 16)
            defer { buffer.deallocate() }
            for index in range {
                (shared.baseAddress! + index).initialize(
                    to: skip ? .failure(.unreadable("cancelled")) : ContentHasher.hash(fileAt: unique[index], buffer: buffer)
                )
            }
            progress(.init(phase: .hashing, done: counter.add(range.count), total: unique.count))
        }
        if isCancelled() {
            _ = results.deinitialize()
            throw CancellationError()
        }
        var byPath: [[UInt8]: Result<String, ContentHasher.Failure>] = [:]
        byPath.reserveCapacity(unique.count)
        for (index, path) in unique.enumerated() { byPath[path] = results[index] }
        _ = results.deinitialize()
        return paths.map { byPath[$0]! }
    }

    /// The `.htaccess` files the walk met, parsed (at most 1 MiB of each is read).
    static func htaccessFiles(_ files: [(directory: String, fsPath: [UInt8])]) -> [HtaccessFile] {
        files.compactMap { file in
            guard let bytes = POSIX.readFile(file.fsPath, limit: 1 << 20) else { return nil }
            return HtaccessFile.parse(String(decoding: bytes, as: UTF8.self), directory: file.directory)
        }
    }
}

/// Work started on a Dispatch queue now and waited for later.
final class BackgroundWork<Value: Sendable>: Sendable {
    private let result = Mutex<Result<Value, any Error>?>(nil)
    private let group = DispatchGroup()

    init(_ work: @escaping @Sendable () throws -> Value) {
        group.enter()
        DispatchQueue.global().async {
            let value = Result { try work() }
            self.result.withLock { $0 = value }
            self.group.leave()
        }
    }

    /// The work's value, once it has finished (rethrows its error).
    func wait() throws -> Value {
        group.wait()
        return try result.withLock { $0! }.get()
    }
}

/// A thread-safe running total for progress from concurrent workers.
final class ProgressCounter: Sendable {
    private let value = Mutex(0)

    func add(_ amount: Int) -> Int {
        value.withLock { value in
            value += amount
            return value
        }
    }
}
