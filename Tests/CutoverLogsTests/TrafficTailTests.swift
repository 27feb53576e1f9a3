import CutoverCore
import CutoverLogs
import CutoverStore
import CutoverTestSupport
import Foundation
import GRDB
import Logging
import Testing

/// The log's long tail (#26.1), through real imports of files on disk into SQLite: pages of the
/// inventory keep exact counts under a scanner's flood, the flood earns no rows and stays in
/// bounded day summaries, and a path that earns rows later says since when.
@Suite struct TrafficTailTests {
    let database: AppDatabase
    let site: SiteRecord
    let directory: TemporaryDirectory
    static let pages = ["/index.php", "/about.php", "/shop/cart.php", "/news/"]

    init() async throws {
        var database = try AppDatabase(writer: DatabaseQueue())
        // 2026-12-06 12:00 UTC: the logs' days (December 3 to 5) are within the last 7 days.
        database.clock = .fixed(Date(timeIntervalSince1970: 1_796_558_400))
        self.database = database
        site = try await database.sites.add(
            SiteSettings(name: "shop", docroot: "/srv/www", publicURL: "http://shop.example/", backendURL: "http://127.0.0.1:8080")
        )
        directory = try TemporaryDirectory()
        try storeCall { [database, site] in
            let changes = InventoryChanges.between(
                known: try database.crawls.knownURLs(siteID: site.id),
                found: Self.pages.map {
                    FoundURL(path: $0, filePath: String($0.dropFirst()), owner: .php, size: 1, mtime: 1, contentHash: "x", flags: [])
                }
            )
            _ = try database.crawls.finish(try database.crawls.begin(siteID: site.id), changes: changes, issues: [], filesSeen: Self.pages.count)
        }
    }

    /// A combined-format line on 2026-12-`day`, `second` seconds after 08:00.
    static func line(_ target: String, day: Int, second: Int, status: Int = 200, agent: String = "Mozilla/5.0") -> String {
        let time = String(format: "%02d/Dec/2026:%02d:%02d:%02d +0000", day, 8 + second / 3600, second / 60 % 60, second % 60)
        return #"203.0.113.9 - - [\#(time)] "GET \#(target) HTTP/1.1" \#(status) 10 "-" "\#(agent)""# + "\n"
    }

    /// An importer that stores many small stretches, so that a day spans several of them.
    func importer() throws -> LogImporter {
        var importer = LogImporter(database: database, site: site, format: try LogFormat("combined"), logger: Logger(label: "test"))
        importer.bufferBytes = 16 << 10
        importer.stretchTargets = 300
        return importer
    }

    func row(_ path: String) throws -> TrafficRow? { try database.traffic.row(siteID: site.id, path: path) }

    func exactPaths() throws -> Set<String> { Set(try database.traffic.top(siteID: site.id, limit: 100_000).map(\.path)) }

    @Test func inventoryPagesStayExactUnderAScannerFloodThatEarnsNoRows() async throws {
        var text = ""
        var truth: [String: Int] = [:]
        var scanned = 0
        for day in 3...5 {
            for second in 0..<4_000 {
                // A front controller answers the scanner: 200 or 404, a new path every line.
                text += Self.line("/wp-admin/\(day)-\(second)-x.php?id=\(second)", day: day, second: second, status: second % 3 == 0 ? 404 : 200)
                scanned += 1
                if second % 9 == 0 {
                    let page = Self.pages[(second / 9 + day) % Self.pages.count]
                    text += Self.line(page + (second % 2 == 0 ? "?utm_source=x" : ""), day: day, second: second)
                    truth[page, default: 0] += 1
                }
            }
        }
        let log = try directory.write("access.log", text)
        let report = try storeCall { try importer().importFile(log) }
        #expect(report.requests == scanned + truth.values.reduce(0, +))
        #expect(report.tailRequests == scanned)
        #expect(report.urlsAdded == 0, "no scanner path joins the inventory")
        #expect(try exactPaths() == Set(Self.pages))
        for page in Self.pages {
            let row = try #require(try row(page))
            #expect(row.counts.hits == truth[page], "\(page)")
            #expect(row.exactSince == nil)
        }
        // Three day summaries, each bounded by its capacity, together counting every scanner line.
        let sizes = try storeCall { try database.traffic.tailSizes(siteID: site.id) }
        #expect(sizes.count == 3)
        #expect(sizes.allSatisfy { $0.paths <= $0.capacity && $0.requests == 4_000 })
        let tail = try await database.traffic.tail(siteID: site.id, sinceDay: 0)
        #expect(tail.requests == scanned && tail.clientErrorRequests == (0..<4_000).filter { $0 % 3 == 0 }.count * 3)
        #expect(tail.bound == 3 * (4_000 / TrafficTail.defaultCapacity))
        #expect(tail.paths.allSatisfy { $0.certain <= 1 }, "no scanner path is certain to have been requested twice")

        // What people read: the summary shows the tail as estimates beside exact page figures,
        // and each day's requests include the tail's.
        let summary = try await database.traffic.summary(siteID: site.id)
        #expect(summary.logsFrom == "2026-12-03" && summary.logsTo == "2026-12-05")
        #expect(summary.tail.requests == scanned && summary.tail.days == 3 && summary.tail.bound == tail.bound)
        #expect(summary.tail.paths.count == 20 && summary.tail.paths.allSatisfy { $0.path.hasPrefix("/wp-admin/") })
        #expect(summary.last7.pageHits == truth.values.reduce(0, +), "the page share counts pages, not the tail")
        let days = try await database.traffic.byDay(siteID: site.id, days: 7)
        #expect(days.map(\.tailHits) == [4_000, 4_000, 4_000])
        #expect(days.map(\.hits).reduce(0, +) == report.requests)

        // Importing the same file again counts nothing twice.
        let again = try storeCall { try importer().importFile(log) }
        #expect(again.outcome == .upToDate)
        #expect(try row("/about.php")?.counts.hits == truth["/about.php"])
    }

    @Test func aHeavyPathInTheFloodEarnsRowsAndKeepsItsEarlierCountAsAnEstimate() async throws {
        var text = ""
        for second in 0..<3_000 {
            text += Self.line("/probe/\(second).php", day: 3, second: second, status: 404)
            if second % 60 == 0 { text += Self.line("/new-route", day: 3, second: second) }
        }
        let log = try directory.write("access.log", text)
        _ = try storeCall { try importer().importFile(log) }
        let row = try #require(try row("/new-route"), "50 requests stand far above N/K = 3")
        let tail = try await database.traffic.tail(siteID: site.id, sinceDay: 0, limit: 5_000)
        let certainBefore = tail.paths.first { $0.path == "/new-route" }?.certain ?? 0
        // Its 50 requests: counted exactly from the stretch that earned the row, estimated before.
        #expect(row.counts.hits + certainBefore <= 50)
        #expect(50 <= row.counts.hits + row.estimatedBefore)
        #expect(row.counts.hits + row.estimatedBefore - 50 <= tail.bound)
        if row.estimatedBefore > 0 { #expect(row.exactSince == row.counts.firstSeen) }
        #expect(try exactPaths() == Set(Self.pages + ["/new-route"]).intersection(try exactPaths()))
        #expect(try exactPaths().allSatisfy { !$0.hasPrefix("/probe/") })
    }

    @Test func aPathRequestedOnASecondDayEarnsRowsFromThenAndSaysSinceWhen() async throws {
        var text = ""
        for second in 0..<3_000 { text += Self.line("/scan/\(second)", day: 3, second: second, status: 404) }
        // Three requests at the end of a busy day: certain, but not above N/K = 3.
        for second in 3_000..<3_003 { text += Self.line("/later", day: 3, second: second) }
        let log = try directory.write("access.log", text)
        _ = try storeCall { try importer().importFile(log) }
        #expect(try row("/later") == nil)
        let before = try await database.traffic.tail(siteID: site.id, sinceDay: 0, limit: 5)
        let held = try #require(before.paths.first { $0.path == "/later" })
        #expect(held.certain == 3 && held.hits >= 3 && held.hits - 3 <= before.bound)

        // The next day, the path is requested again: two UTC days, so it earns rows.
        let nextDay = Self.line("/later", day: 4, second: 100) + Self.line("/later", day: 4, second: 200)
        try append(log, nextDay)
        _ = try storeCall { try importer().importFile(log) }
        let later = try #require(try row("/later"))
        #expect(later.counts.hits == 2)
        let since = try #require(later.exactSince)
        // 2026-12-04 08:01:40 UTC.
        #expect(since == later.counts.firstSeen && since == 1_796_371_200 + 100)
        #expect(later.estimatedBefore == held.hits)

        // From then on every request counts exactly.
        try append(log, Self.line("/later", day: 5, second: 0))
        _ = try storeCall { try importer().importFile(log) }
        #expect(try row("/later")?.counts.hits == 3)
        #expect(try row("/later")?.exactSince == since)
    }

    @Test func aQuietSiteKeepsEveryRequestedPathExact() async throws {
        let log = try directory.write(
            "access.log",
            Self.line("/index.php", day: 3, second: 0) + Self.line("/once", day: 3, second: 1) + Self.line("/twice", day: 3, second: 2)
                + Self.line("/twice", day: 3, second: 3)
        )
        let report = try storeCall { try importer().importFile(log) }
        #expect(report.tailRequests == 0)
        #expect(try row("/once")?.counts.hits == 1 && row("/twice")?.counts.hits == 2)
        #expect(try row("/once")?.exactSince == nil)
        #expect(try storeCall { try database.traffic.tailSizes(siteID: site.id) }.allSatisfy { $0.paths == 0 && $0.requests == 0 })
    }

    func append(_ file: String, _ text: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }
}
