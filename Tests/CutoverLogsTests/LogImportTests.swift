import CutoverCore
import CutoverLogs
import CutoverStore
import CutoverTestSupport
import Foundation
import GRDB
import Logging
import Testing

/// Imports of real files on disk: incremental re-reads, rotation, gzip, truncation, bad input.
@Suite struct LogImportTests {
    let database: AppDatabase
    let site: SiteRecord
    let directory: TemporaryDirectory

    init() async throws {
        database = try AppDatabase(writer: DatabaseQueue())
        site = try await database.sites.add(
            SiteSettings(name: "shop", docroot: "/srv/www", publicURL: "http://shop.example:8081/", backendURL: "http://127.0.0.1:8080")
        )
        directory = try TemporaryDirectory()
    }

    func importer(_ format: String = "combined", hosts: [String] = []) throws -> LogImporter {
        LogImporter(database: database, site: site, format: try LogFormat(format), hosts: hosts, logger: Logger(label: "test"))
    }

    static func line(_ path: String, status: Int = 200, agent: String = "Mozilla/5.0", day: Int = 3, second: Int = 0) -> String {
        let time = String(format: "%02d/Dec/2026:08:00:%02d +0000", day, second)
        return #"192.0.2.1 - - [\#(time)] "GET \#(path) HTTP/1.1" \#(status) 100 "-" "\#(agent)""# + "\n"
    }

    func hits(_ path: String) throws -> Int {
        try database.traffic.row(siteID: site.id, path: path)?.counts.hits ?? 0
    }

    func append(_ file: String, _ text: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    /// The site's own requests (its cron over loopback, a check from its public address) are
    /// no person's; a browser's agent from loopback is (a reverse proxy on the same machine).
    @Test func theSitesOwnAddressIsNoPerson() async throws {
        let own = try await database.sites.add(
            SiteSettings(name: "own", docroot: "/srv/own", publicURL: "http://192.0.2.80/", backendURL: "http://127.0.0.1:8080")
        )
        func line(_ client: String, _ path: String, agent: String) -> String {
            #"\#(client) - - [03/Dec/2026:08:00:00 +0000] "GET \#(path) HTTP/1.1" 200 100 "-" "\#(agent)""# + "\n"
        }
        let log = try directory.write(
            "own.log",
            line("127.0.0.1", "/wp-cron.php", agent: "WordPress/6.4; http://192.0.2.80")
                + line("::1", "/health", agent: "-x-")
                + line("192.0.2.80", "/sitemap.php", agent: "PHP")
                + line("127.0.0.1", "/page.php", agent: "Mozilla/5.0 (X11; Linux x86_64)")
                + line("198.51.100.7", "/other.php", agent: "Custom client")
        )
        _ = try storeCall {
            try LogImporter(database: database, site: own, format: try LogFormat("combined"), logger: Logger(label: "test")).importFile(log)
        }
        func bots(_ path: String) throws -> Int? { try database.traffic.row(siteID: own.id, path: path)?.counts.botHits }
        #expect(try bots("/wp-cron.php") == 1 && bots("/health") == 1 && bots("/sitemap.php") == 1)
        #expect(try bots("/page.php") == 0 && bots("/other.php") == 0)
    }

    @Test func countsPerPathAndReadsOnlyWhatIsNew() throws {
        let log = try directory.write(
            "access.log",
            Self.line("/a.php") + Self.line("/a.php?utm_source=x") + Self.line("/b/", status: 404, agent: "Googlebot/2.1")
        )
        let first = try importer().importFile(log)
        #expect(first.outcome == .imported && first.lines == 3 && first.requests == 3 && first.recognised == "new")
        #expect(try hits("/a.php") == 2 && hits("/b/") == 1)
        let b = try #require(try database.traffic.row(siteID: site.id, path: "/b/"))
        #expect(b.counts.status4xx == 1 && b.counts.botHits == 1 && b.counts.bytes == 100 && b.counts.firstSeen == 1_796_284_800)

        let again = try importer().importFile(log)
        #expect(again.outcome == .upToDate && again.lines == 0 && again.fromOffset == first.toOffset)
        #expect(try hits("/a.php") == 2)

        try append(log, Self.line("/a.php", second: 5) + Self.line("/c.css"))
        let appended = try importer().importFile(log)
        #expect(appended.lines == 2 && appended.recognised.hasPrefix("continued"))
        #expect(try hits("/a.php") == 3 && hits("/c.css") == 1)
        #expect(try database.traffic.row(siteID: site.id, path: "/a.php")?.counts.lastSeen == 1_796_284_805)
    }

    @Test func aHalfWrittenLastLineWaitsForTheNextImport() throws {
        let whole = Self.line("/x.php")
        let log = try directory.write("access.log", Self.line("/a.php") + String(whole.prefix(30)))
        let first = try importer().importFile(log)
        #expect(first.lines == 1 && first.partialLastLine)
        try append(log, String(whole.dropFirst(30)))
        let second = try importer().importFile(log)
        #expect(second.lines == 1 && second.badLines == 0 && !second.partialLastLine)
        #expect(try hits("/x.php") == 1 && hits("/a.php") == 1)
    }

    @Test func rotatedAndCompressedFilesAreNeverCountedTwice() throws {
        let log = try directory.write("access.log", Self.line("/one.php"))
        _ = try importer().importFile(log)
        // Written after the import, then logrotate renames the file and Apache starts a new one.
        try append(log, Self.line("/two.php"))
        let rotated = directory.appending("access.log.1")
        try FileManager.default.moveItem(atPath: log, toPath: rotated)
        _ = try directory.write("access.log", Self.line("/three.php", second: 9))

        let reports = try [rotated, log].map { try importer().importFile($0) }
        #expect(reports[0].recognised.contains("same log as") && reports[0].lines == 1)
        #expect(reports[1].recognised == "new" && reports[1].lines == 1)
        #expect(try hits("/one.php") == 1 && hits("/two.php") == 1 && hits("/three.php") == 1)

        // The next rotation compresses it: read through zlib, recognised by its content.
        try run("/bin/gzip", ["-n", rotated])
        let compressed = directory.appending("access.log.1.gz")
        let gz = try importer().importFile(compressed)
        #expect(gz.gzip && gz.outcome == .upToDate && gz.lines == 0)
        #expect(try hits("/one.php") == 1 && hits("/two.php") == 1)
    }

    /// A gzip import stopped half way (here: cancelled after its first stretch) is not "read
    /// whole": the next import reads the rest, and every line counts once.
    @Test func aGzipFileLeftHalfReadIsReadToTheEndNextTime() throws {
        let text = (0..<120_000).map { _ in Self.line("/z.php") }.joined()
        let plain = try directory.write("half.log", text)
        try run("/bin/gzip", ["-n", plain])
        var first = try importer()
        first.stretchBytes = 1 << 20
        let database = self.database
        let siteID = site.id
        // Cancelled as soon as the first stretch is stored: the event, not a guess at timing.
        #expect(throws: CancellationError.self) {
            try first.importFile(plain + ".gz") { (try? database.traffic.logFiles(siteID: siteID).isEmpty) == false }
        }
        #expect(try hits("/z.php") > 0 && hits("/z.php") < 120_000)
        let rest = try importer().importFile(plain + ".gz")
        #expect(rest.outcome == .imported, "\(rest.recognised)")
        #expect(try hits("/z.php") == 120_000)
        #expect(try importer().importFile(plain + ".gz").outcome == .upToDate)
    }

    @Test func aGzipFileNeverSeenIsReadWholeIncludingALastLineWithoutNewline() throws {
        let plain = try directory.write("old.log", Self.line("/g.php") + Self.line("/g.php").dropLast())
        try run("/bin/gzip", ["-n", plain])
        let report = try importer().importFile(plain + ".gz")
        #expect(report.gzip && report.lines == 2 && !report.partialLastLine)
        #expect(try hits("/g.php") == 2)
    }

    @Test func aTruncatedFileStartsOver() throws {
        let log = try directory.write("access.log", Self.line("/before.php") + Self.line("/before.php"))
        _ = try importer().importFile(log)
        // copytruncate: the file is emptied in place and new lines follow.
        _ = try directory.write("access.log", Self.line("/after.php", second: 1))
        let report = try importer().importFile(log)
        #expect(report.lines == 1 && report.fromOffset == 0)
        #expect(try hits("/after.php") == 1 && hits("/before.php") == 2)
    }

    @Test func badLinesAreCountedAndNeverStopTheImport() throws {
        var text = Self.line("/ok.php")
        text += "binary \u{0}\u{1}\u{7f} garbage\n"
        text += "GET /" + String(repeating: "x", count: 1 << 20) + "\n"
        text += Self.line("/ok.php")
        text += "\n"
        text += Self.line("/ok.php")
        text += Self.line("/ok.php")
        let log = try directory.write("access.log", text)
        let report = try importer().importFile(log)
        #expect(report.lines == 7 && report.requests == 4 && report.badLines == 3)
        #expect(report.firstBadLines.map(\.line) == [2, 3, 5])
        #expect(report.firstBadLines[1].reason.contains("longer than"))
        #expect(try hits("/ok.php") == 4)
    }

    /// A stretch in which half the lines do not match is a wrong format, not a log with some bad
    /// lines: nothing of it is stored and the offset stays (#23).
    @Test func aStretchThatIsHalfBadIsNotStored() throws {
        let log = try directory.write("access.log", Self.line("/ok.php") + "garbage\n")
        #expect(throws: LogImportError.self) { try importer().importFile(log) }
        #expect(try hits("/ok.php") == 0)
        #expect(try database.traffic.logFiles(siteID: site.id).isEmpty)
    }

    @Test func aLineLongerThanTheReadBufferIsOneBadLine() throws {
        let log = try directory.write("access.log", Self.line("/a.php") + String(repeating: "y", count: 9 << 20) + "\n" + Self.line("/b.php"))
        let report = try importer().importFile(log)
        #expect(report.lines == 3 && report.badLines == 1 && report.requests == 2)
        #expect(try hits("/b.php") == 1)
    }

    @Test func stretchesCommitSeparatelyWithTheSameTotals() throws {
        let text = (0..<200).map { Self.line("/p\($0 % 7).php", second: $0 % 60) }.joined()
        let log = try directory.write("access.log", text)
        var importer = try importer()
        importer.stretchBytes = 1000
        let report = try importer.importFile(log)
        #expect(report.requests == 200)
        let total = try database.traffic.top(siteID: site.id, limit: 100).map(\.counts.hits).reduce(0, +)
        #expect(total == 200)
        let state = try #require(try database.traffic.logFiles(siteID: site.id).first)
        #expect(state.offset == Int64(text.utf8.count) && state.lines == 200)
    }

    @Test func linesForOtherVirtualHostsAreSkippedAndCounted() throws {
        let line = { (host: String) in #"\#(host):80 192.0.2.1 - - [03/Dec/2026:08:00:00 +0000] "GET /v.php HTTP/1.1" 200 5 "-" "x""# + "\n" }
        let log = try directory.write("other_vhosts_access.log", line("shop.example") + line("SHOP.example") + line("blog.example"))
        let report = try importer("vhost_combined").importFile(log)
        #expect(report.requests == 2 && report.otherHostLines == 1 && report.otherHosts == ["blog.example": 1])
        #expect(try hits("/v.php") == 2)
    }

    @Test func queryStringsAreCappedPerPathAndValuesKeptAsPHPReadsThem() throws {
        var text = ""
        for index in 0..<(TrafficStore.queriesPerPath + 10) { text += Self.line("/doku.php?id=page\(index)&do=show") }
        text += Self.line("/doku.php?id=wiki%3Astart&fbclid=1") + Self.line("/doku.php?id=wiki:start")
        let log = try directory.write("access.log", text)
        _ = try importer().importFile(log)
        let queries = try database.traffic.queries(siteID: site.id, path: "/doku.php")
        #expect(queries.count == TrafficStore.queriesPerPath)
        let row = try #require(try database.traffic.row(siteID: site.id, path: "/doku.php"))
        #expect(queries.map(\.hits).reduce(0, +) + row.otherQueryHits == row.counts.hits)
        let values = try database.traffic.queryValues(siteID: site.id, path: "/doku.php")
        #expect(values.first { $0.key == "id" && $0.value == "wiki:start" }?.hits == 2)
        #expect(!values.contains { $0.key == "fbclid" })
    }

    @Test func inputsThatAreNotLogFilesGetOneClearError() throws {
        let fifo = directory.appending("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(throws: LogImportError.notARegularFile(fifo, "a FIFO")) { try importer().importFile(fifo) }
        #expect(throws: LogImportError.notARegularFile(directory.path, "a directory")) { try importer().importFile(directory.path) }
        let missing = directory.appending("missing.log")
        #expect(throws: LogImportError.cannotOpen(missing, "No such file or directory")) { try importer().importFile(missing) }
        let empty = try directory.write("empty.log", "")
        #expect(try importer().importFile(empty).outcome == .empty)
        let corrupt = directory.appending("corrupt.log.gz")
        #expect(FileManager.default.createFile(atPath: corrupt, contents: Data([0x1f, 0x8b]) + Data("not really gzip".utf8)))
        #expect(throws: LogImportError.self) { try importer().importFile(corrupt) }
        #expect(try database.traffic.top(siteID: site.id, limit: 10).isEmpty)
    }

    func run(_ tool: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}
