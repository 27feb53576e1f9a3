import CutoverCore
import CutoverStore
import Foundation
import Logging

/// What importing one file did.
package struct LogFileReport: Codable, Sendable {
    package enum Outcome: String, Codable, Sendable {
        /// New lines were read and stored.
        case imported
        /// Nothing new since the last import (same file, or a rotated copy of one already read).
        case upToDate
        /// The file has no content.
        case empty
    }

    package struct BadLine: Codable, Sendable, Equatable {
        package var line: Int
        package var reason: String
        package var text: String
    }

    package var path: String
    package var outcome: Outcome
    /// How the file was recognised: "new", "continued", "rotated from PATH", "truncated: read from the start".
    package var recognised: String
    package var gzip: Bool
    package var fromOffset: Int64
    package var toOffset: Int64
    package var lines = 0
    package var requests = 0
    package var badLines = 0
    package var firstBadLines: [BadLine] = []
    /// Lines that parsed but name no URL path (`-`, `*`, a TLS handshake sent to port 80).
    package var noTargetLines = 0
    /// Lines whose path has a malformed `%` escape or climbs above the root.
    package var unusablePaths = 0
    /// Lines for another virtual host (`%v`/`%V` present and not the site's host), by host.
    package var otherHostLines = 0
    package var otherHosts: [String: Int] = [:]
    /// Requests counted in the log's tail (one bounded summary per UTC day: estimated), not in
    /// exact rows.
    package var tailRequests = 0
    /// Requests of Cutover's own probes and parity runs (`User-Agent: cutover-probe/...`,
    /// `cutover-parity/...`): not traffic.
    package var probeLines = 0
    /// Requested URLs without a file added to the inventory (flagged `log`): the Swift fallback's,
    /// or on a front-controller site the front controller's routes (PHP).
    package var urlsAdded = 0
    /// A last line without its newline, left for the next import (the writer may be mid-line).
    package var partialLastLine = false
    package var seconds = Timings()

    package struct Timings: Codable, Sendable {
        package var read = 0.0
        package var parse = 0.0
        package var store = 0.0
    }
}

/// Imports Apache access logs of one site: reads each file from where the last import stopped,
/// counts requests per path, and stores each stretch of the file with its new offset in one
/// transaction.
package struct LogImporter: Sendable {
    package let database: AppDatabase
    package let site: SiteRecord
    package let format: LogFormat
    /// Host names (lowercase, no port) whose lines count when the format has `%v`/`%V`.
    package let hosts: Set<String>
    package var logger: Logger
    /// When set (the server's logs job), `importConfigured` reads only files under these roots.
    package var roots: LogRoots?
    /// How long `importConfigured` (the server's logs job) may read before it stops: what it read
    /// is stored, the next import goes on from there. `nil`: no limit (the CLI, which a user can stop).
    package var timeLimit: Duration?
    /// Content bytes per stored stretch; each is one transaction.
    package var stretchBytes = 64 << 20
    /// Distinct request targets per stretch (checked after each read buffer): what a stretch
    /// holds in memory grows with them, and a scanner makes every line a new one.
    package var stretchTargets = 50_000
    /// Longer lines are bad lines.
    package static let maxLineBytes = 64 << 10
    /// Bytes read at a time; stretches end between reads. At least `maxLineBytes`.
    package var bufferBytes = 8 << 20
    static let fingerprintBytes = 1024
    static let keptBadLines = 5
    static let probeAgent = Array("cutover-probe/".utf8)
    static let parityAgent = Array("cutover-parity/".utf8)

    package init(database: AppDatabase, site: SiteRecord, format: LogFormat, hosts: [String] = [], logger: Logger) {
        self.database = database
        self.site = site
        self.format = format
        var hosts = Set(hosts.map { $0.lowercased() })
        if hosts.isEmpty, let host = URLComponents(string: site.publicURL)?.host?.lowercased() { hosts.insert(host) }
        self.hosts = hosts
        self.logger = logger
        ownAddresses = OwnAddresses.of(host: URLComponents(string: site.publicURL)?.host)
    }

    /// Loopback and the site's public addresses: requests from there are not people's.
    let ownAddresses: OwnAddresses

    /// What importing a site's configured logs did.
    package struct SiteReport: Codable, Sendable {
        package var files: [LogFileReport] = []
        /// One line per file that could not be read.
        package var errors: [String] = []
    }

    /// The files a site's `accessLogs` paths and globs name today, oldest first (so a rotated
    /// file is read before the one that replaced it). A glob that matches nothing is no error.
    package static func files(matching patterns: [String]) -> [String] {
        var found: Set<String> = []
        for pattern in patterns {
            var matches = glob_t()
            defer { globfree(&matches) }
            guard glob(pattern, 0, nil, &matches) == 0 else { continue }
            for index in 0..<Int(matches.gl_pathc) {
                if let path = matches.gl_pathv[index] { found.insert(String(cString: path)) }
            }
        }
        func modified(_ path: String) -> Double {
            var status = stat()
            guard stat(path, &status) == 0 else { return 0 }
            return Double(status.st_mtim.tv_sec) + Double(status.st_mtim.tv_nsec) / 1e9
        }
        return found.map { ($0, modified($0)) }.sorted { ($0.1, $0.0) < ($1.1, $1.0) }.map(\.0)
    }

    /// Imports every file the site's `accessLogs` name (under `roots`, when set); `progress`
    /// gets (files done, files). `isCancelled` is checked between files and between reads.
    @available(*, noasync)
    package func importConfigured(isCancelled: () -> Bool = { false }, progress: (Int, Int) -> Void = { _, _ in }) throws -> SiteReport {
        var report = SiteReport()
        var files: [String] = []
        for file in Self.files(matching: site.accessLogs) {
            if let problem = roots?.problem(with: file) {
                report.errors.append(problem)
            } else {
                files.append(file)
            }
        }
        progress(0, files.count)
        let deadline = timeLimit.map { ContinuousClock.now + $0 }
        for (index, file) in files.enumerated() {
            if isCancelled() { throw CancellationError() }
            do {
                report.files.append(try importFile(file, deadline: deadline, isCancelled: isCancelled))
            } catch let error as LogImportError {
                report.errors.append(error.description)
                // The time is up for every file, not only this one.
                if case .timeLimit = error { break }
            } catch let error as StoreError {
                guard case .concurrentLogImport = error else { throw error }
                report.errors.append(error.description)
            }
            progress(index + 1, files.count)
        }
        return report
    }

    /// Imports one file (or `-`, standard input, read whole and not remembered).
    @available(*, noasync)
    package func importFile(
        _ path: String,
        deadline: ContinuousClock.Instant? = nil,
        isCancelled: () -> Bool = { false }
    ) throws
        -> LogFileReport
    {
        let siteID = site.id
        let input = try LogInput(path: path)
        let now = database.clock.now()
        var state: LogFileState
        /// The offset stored in the file's row as this import last saw it: the compare-and-set of each stretch.
        var storedOffset: Int64?
        var report = LogFileReport(path: path, outcome: .imported, recognised: "new", gzip: input.isGzip, fromOffset: 0, toOffset: 0)
        if input.isStream {
            state = LogFileState(
                siteID: siteID,
                path: path,
                device: 0,
                inode: 0,
                size: 0,
                gzip: false,
                fingerprint: "",
                fingerprintLength: 0,
                format: format.text,
                now: now
            )
            report.recognised = "standard input: read whole, not remembered"
        } else {
            let prefix = try input.prefix(Self.fingerprintBytes)
            guard !prefix.isEmpty else {
                report.outcome = .empty
                return report
            }
            let known = try database.traffic.logFiles(siteID: siteID)
                .filter { $0.fingerprintLength <= prefix.count && $0.fingerprint == fingerprint(prefix[..<$0.fingerprintLength]) }
                .max { ($0.fingerprintLength, $0.offset) < ($1.fingerprintLength, $1.offset) }
            storedOffset = known?.offset
            // A compressed (rotated) file is complete when it is read: once read whole, the same
            // file is up to date by a stat, never decompressed again.
            if let known, input.isGzip, known.gzip, known.device == input.device, known.inode == input.inode, known.size == input.size,
                known.offset > 0
            {
                report.outcome = .upToDate
                report.recognised = "compressed and unchanged since it was read whole"
                report.fromOffset = known.offset
                report.toOffset = known.offset
                return report
            }
            if var known {
                if !input.isGzip, input.size < known.offset {
                    report.recognised = "truncated since the last import (\(input.size) bytes, \(known.offset) read): read from the start"
                    known.offset = 0
                    known.lines = 0
                } else if known.path != path {
                    report.recognised = "same log as \(known.path) (rotated or copied), read up to byte \(known.offset)"
                } else {
                    report.recognised = "continued from byte \(known.offset)"
                }
                state = known
            } else {
                state = LogFileState(
                    siteID: siteID,
                    path: path,
                    device: input.device,
                    inode: input.inode,
                    size: input.isGzip ? -1 : input.size,
                    gzip: input.isGzip,
                    fingerprint: "",
                    fingerprintLength: 0,
                    format: format.text,
                    now: now
                )
            }
            state.path = path
            state.device = input.device
            state.inode = input.inode
            // A compressed file's size is stored only once it was read whole (the last stretch):
            // the "unchanged, read whole" check above must not skip one an import left half read
            // (cancelled, a refused stretch, a concurrent import that won).
            state.size = input.isGzip ? -1 : input.size
            state.gzip = input.isGzip
            state.format = format.text
            state.fingerprint = fingerprint(prefix[...])
            state.fingerprintLength = prefix.count
            // Nothing of a truncated or corrupt gzip file is stored, not even its sound start.
            do {
                try input.verifyGzip { isCancelled() || deadline.map { ContinuousClock.now >= $0 } == true }
            } catch is CancellationError where !isCancelled() {
                throw LogImportError.timeLimit(path: path, seconds: timeLimit?.seconds ?? 0, offset: state.offset)
            }
            try input.seek(to: state.offset)
        }
        report.fromOffset = state.offset
        try read(input, state: &state, storedOffset: &storedOffset, report: &report, deadline: deadline, isCancelled: isCancelled)
        report.toOffset = state.offset
        if input.isStream, report.requests > 0 { report.urlsAdded = try database.traffic.addRequestedURLs(siteID: siteID) }
        if report.lines == 0 && report.outcome == .imported && !report.partialLastLine { report.outcome = .upToDate }
        logger.info(
            "log import",
            metadata: [
                "path": "\(path)", "lines": "\(report.lines)", "read": "\(report.seconds.read)", "parse": "\(report.seconds.parse)",
                "store": "\(report.seconds.store)",
            ]
        )
        return report
    }

    private func read(
        _ input: LogInput,
        state: inout LogFileState,
        storedOffset: inout Int64?,
        report: inout LogFileReport,
        deadline: ContinuousClock.Instant?,
        isCancelled: () -> Bool
    ) throws {
        let parser = LogLineParser(format: format)
        let aggregator = TrafficAggregator(
            fallbackTime: Int(database.clock.now().timeIntervalSince1970),
            pathIsDecoded: format.pathIsDecoded,
            sensitive: SensitiveQuery(pageKeys: site.pageKeys.map { ($0.script, $0.key) }, extraKeys: site.sensitiveQueryKeys),
            frontController: site.routingFrontController != nil,
            pages: PageKeyRoutes(pageKeys: site.pageKeys, directoryURLs: try database.inventory.pageKeyDirectoryURLs(site: site)),
            own: ownAddresses,
            canaries: try database.plan.canaryPages(siteID: site.id)
        )
        let tail = TrafficTail(siteID: site.id)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bufferBytes, Self.maxLineBytes + 1), alignment: 16)
        defer { buffer.deallocate() }
        let bytes = buffer.bindMemory(to: UInt8.self)
        var pending = 0
        var stretch = 0
        var lineNumber = state.lines
        var skippingLongLine = false
        var entry = LogEntry()
        let hostBytes = hosts.map { Array($0.utf8) }
        // The report's counts when the current stretch began.
        // Lines of the site that the format read: requests, Cutover's own probes, targets that name no path.
        func matched() -> Int { report.requests + report.probeLines + report.noTargetLines }
        var stretchStart = (lines: report.lines, bad: report.badLines, matched: matched(), otherHosts: report.otherHostLines)
        var stretchOffset = state.offset
        var stretchFirstBad: String?

        /// `last`: the end of the file; `stopping`: the time limit passed. Both add the requested URLs.
        func store(last: Bool = false, stopping: Bool = false) throws {
            let clock = ContinuousClock()
            let start = clock.now
            let lines = report.lines - stretchStart.lines
            let bad = report.badLines - stretchStart.bad
            // A wrong format or host must not consume the file: a stretch that counts nothing, or
            // in which half the lines do not match, is not stored and the offset stays.
            if !input.isStream, lines > 0, matched() == stretchStart.matched || bad * 2 >= lines {
                throw LogImportError.formatMismatch(
                    path: state.path,
                    format: format.text,
                    offset: stretchOffset,
                    lines: lines,
                    bad: bad,
                    otherHosts: report.otherHostLines - stretchStart.otherHosts,
                    firstBad: stretchFirstBad
                )
            }
            let (batch, unusable) = aggregator.batch()
            report.unusablePaths += unusable
            if !input.isStream || !batch.isEmpty {
                state.lines = lineNumber
                if input.isStream {
                    // Nothing to remember for standard input but the counts.
                    report.tailRequests += try database.traffic.record(batch, siteID: state.siteID, tail: tail)
                } else {
                    if last, input.isGzip { state.size = input.size }
                    let stored = try database.traffic.recordStretch(
                        state,
                        batch: batch,
                        storedOffset: storedOffset,
                        tail: tail,
                        closing: last || stopping,
                        addingRequestedURLs: (last || stopping) && report.requests > 0
                    )
                    state = stored.state
                    report.urlsAdded += stored.urlsAdded
                    report.tailRequests += stored.tailHits
                    storedOffset = state.offset
                }
            }
            report.seconds.store += (clock.now - start).seconds
            stretch = 0
            stretchStart = (report.lines, report.badLines, matched(), report.otherHostLines)
            stretchOffset = state.offset
            stretchFirstBad = nil
        }

        func process(_ line: UnsafeMutableBufferPointer<UInt8>) {
            lineNumber += 1
            report.lines += 1
            var line = line
            if let last = line.last, last == 13 { line = UnsafeMutableBufferPointer(rebasing: line.dropLast()) }
            guard line.count <= Self.maxLineBytes else {
                bad(line, reason: "longer than \(Self.maxLineBytes) bytes")
                return
            }
            switch parser.parse(line, into: &entry) {
            case .malformed:
                bad(line, reason: "does not match the LogFormat")
            case .noTarget:
                report.noTargetLines += 1
            case .request:
                let readOnly = UnsafeBufferPointer(line)
                if let host = entry.virtualHost, !hostBytes.isEmpty, !Self.matches(readOnly[host], hostBytes) {
                    report.otherHostLines += 1
                    state.skippedLines += 1
                    if report.otherHosts.count < 20 || report.otherHosts[String(decoding: readOnly[host], as: UTF8.self)] != nil {
                        report.otherHosts[String(decoding: readOnly[host], as: UTF8.self), default: 0] += 1
                    }
                    return
                }
                if let agent = entry.userAgent, readOnly[agent].starts(with: Self.probeAgent) || readOnly[agent].starts(with: Self.parityAgent) {
                    report.probeLines += 1
                    state.skippedLines += 1
                    return
                }
                report.requests += 1
                aggregator.add(entry, line: readOnly)
            }
        }

        func bad(_ line: UnsafeMutableBufferPointer<UInt8>, reason: String) {
            report.badLines += 1
            state.badLines += 1
            if stretchFirstBad == nil {
                stretchFirstBad = "line \(lineNumber): '\(ConfigText.visible(String(decoding: line.prefix(120), as: UTF8.self)))'"
            }
            if report.firstBadLines.count < Self.keptBadLines {
                let text = String(decoding: line.prefix(200), as: UTF8.self)
                report.firstBadLines.append(.init(line: lineNumber, reason: reason, text: text))
            }
        }

        let clock = ContinuousClock()
        while true {
            // Stretches stored so far stay; the rest is read by the next import.
            if isCancelled() { throw CancellationError() }
            let readStart = clock.now
            let count = try input.read(into: buffer.baseAddress! + pending, count: buffer.count - pending)
            report.seconds.read += (clock.now - readStart).seconds
            let parseStart = clock.now
            let filled = pending + count
            var lineStart = 0
            while lineStart < filled, let newline = memchr(buffer.baseAddress! + lineStart, 10, filled - lineStart) {
                let end = buffer.baseAddress!.distance(to: newline)
                if skippingLongLine {
                    skippingLongLine = false
                } else {
                    process(UnsafeMutableBufferPointer(rebasing: bytes[lineStart..<end]))
                }
                lineStart = end + 1
            }
            let atEnd = count == 0
            if atEnd, lineStart < filled, !skippingLongLine {
                if input.isGzip || input.isStream {
                    // A rotated (compressed) file is complete: its last line is whole.
                    process(UnsafeMutableBufferPointer(rebasing: bytes[lineStart..<filled]))
                    lineStart = filled
                } else {
                    report.partialLastLine = true
                }
            }
            if lineStart == 0, filled == buffer.count {
                // One line fills the whole buffer: count it as bad once and drop it up to its newline.
                if !skippingLongLine {
                    lineNumber += 1
                    report.lines += 1
                    bad(UnsafeMutableBufferPointer(rebasing: bytes[0..<200]), reason: "longer than \(Self.maxLineBytes) bytes")
                }
                skippingLongLine = true
                lineStart = filled
            }
            state.offset += Int64(lineStart)
            stretch += lineStart
            pending = filled - lineStart
            if pending > 0, lineStart > 0 { memmove(buffer.baseAddress!, buffer.baseAddress! + lineStart, pending) }
            report.seconds.parse += (clock.now - parseStart).seconds
            if atEnd { break }
            if let deadline, clock.now >= deadline {
                // Checked after a whole buffer is parsed, so every import moves on by at least one.
                try store(stopping: true)
                throw LogImportError.timeLimit(path: state.path, seconds: timeLimit?.seconds ?? 0, offset: state.offset)
            }
            if stretch >= stretchBytes || aggregator.distinctTargets >= stretchTargets { try store() }
        }
        try store(last: true)
    }

    /// `host` (or `host:port`) equals one of `hosts`, ignoring case.
    static func matches(_ host: Slice<UnsafeBufferPointer<UInt8>>, _ hosts: [[UInt8]]) -> Bool {
        var name = host
        if let colon = name.lastIndex(of: UInt8(ascii: ":")), !name.contains(UInt8(ascii: "]")) || name.last != UInt8(ascii: "]") {
            name = name[..<colon]
        }
        return hosts.contains { candidate in
            candidate.count == name.count && zip(candidate, name).allSatisfy { $0 == ($1 >= 0x41 && $1 <= 0x5A ? $1 | 0x20 : $1) }
        }
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
