import Crypto
import CutoverCore
import CutoverStore
import Dispatch
import Foundation
import Logging
import Synchronization

/// What a crawl is doing, for progress displays.
package struct CrawlProgress: Sendable, Hashable {
    package enum Phase: String, Sendable {
        case walking, hashing, saving, done
    }
    package var phase: Phase
    package var done: Int
    package var total: Int?
}

/// The outcome of a successful crawl.
package struct CrawlResult: Sendable {
    package var crawl: CrawlRecord
    package var issues: [CrawlIssue]
    /// Where the time went, phase by phase (logged at info level; the crawl benchmark prints it).
    package var timings: CrawlTimings
    /// What reading the PHP sources for includes found (nil when it failed; the crawl stands).
    package var includes: IncludeScanSummary? = nil
}

/// Seconds spent in each phase of one crawl.
package struct CrawlTimings: Sendable, Hashable {
    /// Reading directories and stat-ing every entry.
    package var walk: Double = 0
    /// Loading the stored inventory to compare with.
    package var load: Double = 0
    /// URL mapping and hashing new or changed files.
    package var hash: Double = 0
    /// Comparing found with known.
    package var compare: Double = 0
    /// The one write transaction.
    package var save: Double = 0

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
package struct Crawler: Sendable {
    package let database: AppDatabase
    package let logger: Logger

    package init(database: AppDatabase, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// Crawls `site`. A failure before the commit is recorded on the crawl row and rethrown;
    /// the inventory is then exactly what it was before. `isCancelled` is polled while walking
    /// and hashing (a crawl run on a Dispatch queue has no task to cancel); true stops the crawl
    /// with `CancellationError`.
    @discardableResult
    @available(*, noasync)
    package func crawl(
        site: SiteRecord,
        isCancelled: @escaping @Sendable () -> Bool = { Task.isCancelled },
        progress: @escaping @Sendable (CrawlProgress) -> Void = { _ in }
    ) throws -> CrawlResult {
        let siteID = site.id
        let crawl = try database.crawls.begin(siteID: siteID)
        var logger = logger
        logger[metadataKey: "site"] = .string(site.name)
        logger[metadataKey: "crawl"] = .stringConvertible(crawl.id ?? 0)
        do {
            var clock = PhaseClock()
            var timings = CrawlTimings()
            let mapping = ApacheMapping(settings: site.settings)
            // The stored inventory loads on another core while this one walks.
            let knownLoad = BackgroundWork { [database] in try database.crawls.knownURLs(siteID: siteID) }
            var walker = DocrootWalker(mapping: mapping, isCancelled: isCancelled) { count in progress(.init(phase: .walking, done: count)) }
            try walker.walk(aliases: site.aliases)
            var found = walker.found
            progress(.init(phase: .walking, done: found.count))
            timings.walk = clock.lap()
            let known = try knownLoad.wait()
            timings.load = clock.lap()
            var hashIssues: [CrawlIssue] = []
            try Self.hashFiles(&found, known: known, issues: &hashIssues, isCancelled: isCancelled, progress: progress)
            timings.hash = clock.lap()
            let htaccess = Self.htaccessFiles(walker.htaccess)
            // On a front-controller site (set, or found now and not declined) a retired file's URL
            // is the front controller's, not Swift's.
            var routing = site
            routing.detectedFrontController = htaccess.first { $0.directory.isEmpty }?.frontController
            let changes = InventoryChanges.between(known: known, found: found, missing: routing.routingFrontController == nil ? .swift : .php)
            timings.compare = clock.lap()
            progress(.init(phase: .saving, done: 0))
            logger.debug("saving the inventory", metadata: ["found": .stringConvertible(found.count)])
            let issues = walker.issues + hashIssues
            let finished = try database.crawls.finish(
                crawl,
                changes: changes,
                issues: issues,
                filesSeen: found.count,
                htaccess: htaccess,
                bareDirectories: walker.bareDirectories
            )
            timings.save = clock.lap()
            // After the commit: the inventory stands even if a source cannot be read.
            var includes: IncludeScanSummary?
            do {
                includes = try IncludeScanner(database: database).scan(site: site, isCancelled: isCancelled)
            } catch {
                logger.warning("reading the PHP sources for includes failed", metadata: ["error": "\(error)"])
            }
            progress(.init(phase: .done, done: found.count, total: found.count))
            logger.info(
                "crawl finished",
                metadata: [
                    "files": .stringConvertible(finished.filesSeen), "added": .stringConvertible(finished.urlsAdded),
                    "changed": .stringConvertible(finished.urlsChanged), "removed": .stringConvertible(finished.urlsRemoved),
                    "issues": .stringConvertible(issues.count),
                ].merging(timings.metadata) { $1 }
            )
            return CrawlResult(crawl: finished, issues: issues, timings: timings, includes: includes)
        } catch {
            let message = error is CancellationError ? "cancelled" : String(describing: error)
            logger.error("crawl failed", metadata: ["error": .string(message)])
            try? database.crawls.fail(crawl, error: message)
            throw error
        }
    }

    /// Gives every walked file its content hash: the stored one when the inventory knows the URL
    /// with the same size and mtime, else read and hashed (on all cores, into one buffer of 64
    /// hex bytes per file; a directory URL shares the read of its index file).
    static func hashFiles(
        _ found: inout WalkedFiles,
        known: KnownInventory,
        issues: inout [CrawlIssue],
        isCancelled: @escaping @Sendable () -> Bool,
        progress: @escaping @Sendable (CrawlProgress) -> Void
    ) throws {
        var hashes = [WalkedFiles.Hash](repeating: .none, count: found.count)
        /// The entry each slot of new hashes is read from.
        var toHash: [Int32] = []
        var hint = 0
        for index in 0..<found.count {
            let match = found.withPath(at: index) { known.row(forPath: $0, hint: hint) }
            if let match { hint = match + 1 }
            if let row = match,
                known.canReuseHash(row, size: found.size(at: index), mtime: found.mtime(at: index)),
                known.withContentHash(row, { $0 != nil })
            {
                hashes[index] = .known(Int32(row))
            } else if let source = found.indexSources[index], case .new(let slot) = hashes[source] {
                hashes[index] = .new(slot)
            } else {
                hashes[index] = .new(Int32(toHash.count))
                toHash.append(Int32(index))
            }
        }
        let walked = found
        let sources = toHash
        let (newHashes, failures) = try hashAll(sources.count, isCancelled: isCancelled, progress: progress) { slot, buffer in
            walked.withFileSystemPath(at: Int(sources[slot])) { ContentHasher.hash(fileAt: $0, buffer: buffer) }
        }
        if !failures.isEmpty {
            for index in hashes.indices {
                guard case .new(let slot) = hashes[index], let reason = failures[slot] else { continue }
                hashes[index] = .none
                if !found.flags(at: index).contains(.directoryIndex) {
                    issues.append(CrawlIssue(filePath: found.filePath(at: index), kind: "unreadable", message: reason))
                }
            }
        }
        found.known = known
        found.hashes = hashes
        found.newHashes = newHashes
    }

    /// Files read at once. Hashing a docroot is bound by the disk's queue more than by the CPU:
    /// on this machine 16 readers hash a cold tree of small files 4 times faster than 2 (and
    /// no slower when it is cached).
    static let readers = max(16, ProcessInfo.processInfo.activeProcessorCount)

    /// Runs `hash` for slots 0..<count on `readers` threads; returns 64 hex bytes per slot and
    /// why the slots that failed did.
    static func hashAll(
        _ count: Int,
        isCancelled: @escaping @Sendable () -> Bool,
        progress: @escaping @Sendable (CrawlProgress) -> Void,
        hash: @escaping @Sendable (Int, UnsafeMutableRawBufferPointer) -> Result<SHA256.Digest, ContentHasher.Failure>
    ) throws -> (hashes: [UInt8], failures: [Int32: String]) {
        let width = WalkedFiles.hashLength
        var hashes = [UInt8](repeating: 0, count: count * width)
        guard count > 0 else { return (hashes, [:]) }
        let failures = Mutex<[Int32: String]>([:])
        let chunkSize = 256
        let chunks = (count + chunkSize - 1) / chunkSize
        let counter = ProgressCounter()
        hashes.withUnsafeMutableBufferPointer { output in
            nonisolated(unsafe) let output = output
            Self.perform(chunks, on: readers) { chunk in
                let range = (chunk * chunkSize)..<min(count, (chunk + 1) * chunkSize)
                let skip = isCancelled()
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ContentHasher.bufferSize, alignment: 16)
                defer { buffer.deallocate() }
                for slot in range {
                    switch skip ? .failure(.unreadable("cancelled")) : hash(slot, buffer) {
                    case .success(let digest): Hex.encode(digest, into: output.baseAddress! + slot * width)
                    case .failure(.unreadable(let reason)): failures.withLock { $0[Int32(slot)] = reason }
                    }
                }
                progress(.init(phase: .hashing, done: counter.add(range.count), total: count))
            }
        }
        if isCancelled() { throw CancellationError() }
        return (hashes, failures.withLock { $0 })
    }

    /// Calls `body` for 0..<iterations on `threads` threads of their own and returns when all
    /// are done (Dispatch's `concurrentPerform` uses one thread per core, too few for reads).
    static func perform(_ iterations: Int, on threads: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let next = ProgressCounter()
        let group = DispatchGroup()
        for _ in 0..<min(threads, iterations) {
            group.enter()
            Thread {
                while case let index = next.add(1) - 1, index < iterations { body(index) }
                group.leave()
            }.start()
        }
        group.wait()
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
