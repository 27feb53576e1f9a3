import CutoverCore
import CutoverExport
import CutoverLogs
import CutoverStore
import CutoverTestSupport
import Foundation
import Testing

/// A legacy app whose pages are `index.php?page=…`, with the page key `/index.php` → `page`:
/// single pages flip to Swift in every export form, matched the way PHP reads the query string,
/// and roll back. Real Apache + mod_php, real requests.
@Suite(.enabled(if: Integration.enabled, "needs apache2 and libapache2-mod-php (always runs when CI=true)"))
struct QueryPageApacheTests {
    static let files = [
        "index.php": "<?php $p = $_GET['page'] ?? 'home'; echo 'php page ', is_array($p) ? 'array' : htmlspecialchars($p);",
        "contact.php": "<?php echo 'php contact';",
    ]

    static let flipped = ["/index.php?page=about", "/index.php?page=wiki%3Astart", "/index.php?page=a+b"]

    /// Request target → who must answer once the pages above are flipped.
    static let expectations: [(String, Owner)] = [
        ("/index.php?page=about", .swift), ("/index.php?page=abou%74", .swift), ("/index.php?x=1&page=about&y=%20", .swift),
        ("/index.php?page=other&page=about", .swift), ("/index.php?page=wiki:start", .swift), ("/index.php?page=wiki%3astart", .swift),
        ("/index.php?page=wiki%3Astart", .swift), ("/index.php?page=a%20b", .swift), ("/index.php?page=a+b", .swift),
        ("/index.php?pag%65=about", .swift), ("/index.php?page=about2", .php), ("/index.php?page=abou", .php), ("/index.php?xpage=about", .php),
        ("/index.php?page=about&page=other", .php), ("/index.php?page=about&page", .php), ("/index.php?page=about&page[]=x", .php),
        ("/index.php?page=about&page%5B%5D=x", .php), ("/index.php?page[]=about", .php), ("/index.php?page=ABOUT", .php),
        ("/index.php?page=a%2Bb", .php), ("/index.php", .php), ("/", .php), ("/contact.php?page=about", .php),
    ]

    /// Who answered each target, by the backend's own record of what reached it.
    func owners(_ live: LiveSite, _ targets: [String]) async throws -> [String: Owner] {
        var result: [String: Owner] = [:]
        for target in targets {
            let (swift, answer) = try await live.reachesSwift(target)
            if !swift { #expect(answer.body.contains("php "), "\(target): \(answer.status) \(answer.body)") }
            result[target] = swift ? .swift : .php
        }
        return result
    }

    @Test(arguments: ExportForm.allCases)
    func queryPagesFlipInEveryFormAndRollBack(form: ExportForm) async throws {
        let live = try await LiveSite(files: Self.files, directoryConfig: "AllowOverride All")
        defer { Task { await live.shutdown() } }
        try await live.crawl()
        let site = try await live.configure { $0.pageKeys = [PageKey(script: "/index.php", key: "page")] }
        let flip = try await live.database.plan.flip(siteID: site.id, .paths(Self.flipped), to: .swift, reason: "ported")
        #expect(Set(flip.changed) == ["/index.php?page=about", "/index.php?page=wiki:start", "/index.php?page=a%20b"], "\(flip.changed)")

        try await live.install(form)
        let targets = Self.expectations.map(\.0)
        let seen = try await owners(live, targets)
        for (target, owner) in Self.expectations {
            #expect(seen[target] == owner, "\(form) \(target): \(seen[target].map(\.rawValue) ?? "none"), expected \(owner.rawValue)")
        }

        // The probe agrees: the flipped pages answer from Swift, the script itself from PHP.
        let report = try await live.probe()
        let observed = live.observed(report)
        #expect(observed["/index.php?page=about"] == .swift && observed["/index.php?page=wiki:start"] == .swift)
        #expect(observed["/index.php"] == .php && observed["/contact.php"] == .php)
        #expect(report.drifted.isEmpty, "\(report.drifted.map(\.target.path))")
        // Live and seen there: the three query pages are on Swift; the script, / and contact stay PHP.
        let counts = try await live.database.inventory.progress(of: site).counts
        #expect(counts.swift == 3 && counts.planned == 0 && counts.php == 3, "\(counts)")

        // Roll back: every target is PHP's again.
        try await live.database.plan.flip(siteID: site.id, .prefix("/index.php?page="), to: .php, reason: "roll back")
        try await live.install(form)
        let after = try await owners(live, targets)
        #expect(after.values.allSatisfy { $0 == .php }, "\(after.filter { $0.value != .php }.keys.sorted())")
    }

    /// Query pages are pages (#24.5): requested through Apache, each page of the key has its
    /// own requests (people apart) in "port next", is never an orphan while people request it,
    /// and the script's directory URL (`/?page=about`) is the same page: counted with it, and
    /// flipped with it in every form.
    @Test(arguments: ExportForm.allCases)
    func queryPagesAreRankedByTheirOwnRequestsAndFlipAtTheDirectoryURL(form: ExportForm) async throws {
        let logs = try TemporaryDirectory(prefix: "logs")
        defer { logs.remove() }
        chmod(logs.path, 0o777)  // Apache (www-data) writes the log
        let log = logs.appending("access.log")
        let combined = #"LogFormat "%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"" combined"#
        let live = try await LiveSite(
            files: Self.files,
            directoryConfig: "AllowOverride All",
            serverConfig: combined + "\nCustomLog \"\(log)\" combined"
        )
        defer { Task { await live.shutdown() } }
        try await live.crawl()
        let site = try await live.configure { $0.pageKeys = [PageKey(script: "/index.php", key: "page")] }

        let browser = ["User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"]
        var requests: [(String, [String: String])] = Array(repeating: ("/index.php?page=about", browser), count: 3)
        requests += Array(repeating: ("/?page=about", browser), count: 2)
        requests += [
            ("/index.php?page=about", ["User-Agent": "Googlebot/2.1"]), ("/index.php?page=contact", browser), ("/index.php", browser),
            ("/contact.php", browser),
        ]
        for (path, headers) in requests {
            #expect(try await RawHTTP.send(port: live.apache.port, method: "GET", path: path, headers: headers).status == 200)
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while ((try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").count ?? 0) < requests.count {
            guard ContinuousClock.now < deadline else { throw HarnessError("Apache did not log \(requests.count) requests") }
            try await Task.sleep(for: .milliseconds(20))
        }
        let report = try storeCall {
            try LogImporter(database: live.database, site: site, format: try LogFormat("combined"), logger: live.quiet).importFile(log)
        }
        #expect(report.badLines == 0 && report.requests == requests.count, "\(report)")

        let summary = try await live.database.traffic.summary(siteID: site.id)
        let ranked = Dictionary(uniqueKeysWithValues: summary.portNext.map { ($0.path, $0) })
        // 3 + 2 (at /) by people, 1 by a bot: the page's own requests, not its script's.
        #expect(summary.portNext.first?.path == "/index.php?page=about", "\(summary.portNext)")
        #expect(ranked["/index.php?page=about"]?.hits == 6 && ranked["/index.php?page=about"]?.humanHits == 5, "\(summary.portNext)")
        #expect(ranked["/index.php?page=contact"]?.humanHits == 1)
        // The script and its directory URL keep only requests that named no page.
        #expect(ranked["/index.php"]?.humanHits == 1 && ranked["/"] == nil, "\(summary.portNext)")
        #expect(!summary.orphans.contains { $0.contains("?") }, "requested query pages are no orphans: \(summary.orphans)")
        #expect(
            try storeCall { try live.database.inventory.views(siteID: site.id, query: URLQuery(pathPrefix: "/index.php?page=about")) }.first?.hits
                == 6
        )

        try await live.database.plan.flip(siteID: site.id, .paths(["/index.php?page=about"]), to: .swift, reason: "ported")
        try await live.install(form)
        for target in ["/index.php?page=about", "/?page=about", "/?x=1&page=about"] {
            #expect(try await live.reachesSwift(target).swift, "\(form) \(target) should reach Swift")
        }
        for target in ["/", "/?page=contact", "/index.php?page=contact", "/contact.php?page=about"] {
            #expect(try await !live.reachesSwift(target).swift, "\(form) \(target) should stay PHP")
        }
    }
}
