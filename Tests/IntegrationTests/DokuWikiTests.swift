import CutoverCore
import CutoverCrawl
import CutoverExport
import CutoverLogs
import CutoverProbe
import CutoverStore
import CutoverTestSupport
import Foundation
import Logging
import Testing

let dokuWikiTestsEnabled = Integration.isCI || (Integration.apacheInstalled && FileManager.default.fileExists(atPath: "/usr/share/dokuwiki/doku.php"))

/// Debian's `dokuwiki` package, a real PHP application nobody here wrote, served from
/// /usr/share/dokuwiki by a real Apache with the fallback and the app's own `.htaccess` files:
/// its traffic is imported from the log Apache writes, and the figures must show a handful of
/// pages, the libraries as includes, and the wiki's pages as `doku.php` query values.
@Suite(.enabled(if: dokuWikiTestsEnabled, "needs apache2, libapache2-mod-php and dokuwiki (always runs when CI=true)"))
struct DokuWikiTests {
    static let docroot = "/usr/share/dokuwiki"

    static let format = #"%h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i" %R"#
    static let browser = ["User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"]

    /// The wiki served by a real Apache with its own `.htaccess` files and the fallback to a
    /// recording backend, logging with `%R` into `work/access.log`.
    static func serve(work: TemporaryDirectory, docroot: String = docroot, fallback: Bool = true) async throws -> (ApacheServer, RecordingBackend) {
        #expect(FileManager.default.fileExists(atPath: Self.docroot + "/doku.php"), "install Debian's dokuwiki package (scripts/setup.sh does)")
        chmod(work.path, 0o777)
        let backend = RecordingBackend()
        try await backend.start()
        let apache = try ApacheServer(
            docroot: docroot,
            directoryConfig: "AllowOverride All\n" + (fallback ? ApacheSnippets.directoryFallback(backend: backend.baseURL) : ""),
            serverConfig: """
                LogFormat "\(format.replacingOccurrences(of: "\"", with: "\\\""))" cutover
                CustomLog "\(work.appending("access.log"))" cutover
                """
        )
        try await offPool { try apache.start() }
        return (apache, backend)
    }

    /// Waits until Apache has written `count` lines to `log` (it logs after answering).
    static func waitForLog(_ log: String, lines count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while ((try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").count ?? 0) < count {
            guard ContinuousClock.now < deadline else { throw HarnessError("Apache did not log \(count) requests") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test func trafficShowsEntryPointsAsPagesAndLibrariesAsIncludes() async throws {
        let work = try TemporaryDirectory(prefix: "dokuwiki")
        defer { work.remove() }
        let (apache, backend) = try await Self.serve(work: work)
        defer {
            apache.shutdown()
            Task { await backend.stop() }
        }
        var quiet = Logger(label: "test")
        quiet.logLevel = .critical
        let database = try AppDatabase(path: work.appending("cutover.sqlite"))
        let site = try await database.sites.add(
            SiteSettings(name: "wiki", docroot: Self.docroot, publicURL: apache.baseURL, backendURL: backend.baseURL)
        )

        let crawl = try await offPool { [quiet] in try Crawler(database: database, logger: quiet).crawl(site: site) }
        let phpFiles = try storeCall { try database.inventory.urls(siteID: site.id) }.filter { $0.owner == .php }.count
        #expect(phpFiles > 400, "the inventory counts every .php file: \(phpFiles)")
        #expect(crawl.crawl.filesSeen > 400)
        // lib/tpl and lib/plugins are links into /var/lib/dokuwiki: Apache serves them, so they are
        // in the inventory, flagged; the root .htaccess links into /etc but Apache denies .ht* files.
        let linked = crawl.issues.filter { $0.kind == "symlink-outside-docroot" }.map(\.filePath)
        #expect(Set(linked).isSuperset(of: ["lib/plugins", "lib/tpl", ".htaccess"]), "\(crawl.issues)")
        #expect(!crawl.issues.contains { $0.kind == "exposure" }, "\(crawl.issues)")
        let template = try storeCall { try database.inventory.urls(siteID: site.id) }.first { $0.path == "/lib/tpl/dokuwiki/main.php" }
        #expect(template?.urlFlags.contains(.outsideDocroot) == true)

        // What people do: read pages, edit one, fetch the CSS and the feed; and a scanner.
        let requests = [
            "/doku.php?id=start", "/doku.php?id=wiki:syntax", "/doku.php?id=wiki%3Asyntax", "/doku.php?do=edit&id=wiki:syntax",
            "/doku.php?id=start&utm_source=mail", "/", "/lib/exe/css.php", "/feed.php", "/inc/init.php", "/vendor/autoload.php",
            "/wp-login.php",
        ]
        var statuses: [String: Int] = [:]
        for path in requests { statuses[path] = try await RawHTTP.send(port: apache.port, method: "GET", path: path, headers: Self.browser).status }
        #expect(statuses["/doku.php?id=start"] == 200 && statuses["/feed.php"] == 200, "\(statuses) \(apache.log())")
        // index.php sends visitors on to doku.php.
        #expect((300..<400).contains(statuses["/"] ?? 0), "\(statuses)")
        #expect(statuses["/inc/init.php"] == 403 && statuses["/vendor/autoload.php"] == 403, "the app's own .htaccess denies its libraries")
        // Unknown URLs reach the Swift backend through the fallback (it answers 404 here).
        #expect(backend.requestTargets.contains("/wp-login.php"))

        // Four at a time: 1,200 mod_php requests must not starve the live suites running alongside.
        let probe = try await Prober(database: database, configuration: ProbeConfiguration(concurrency: 4, timeout: .seconds(30)), logger: quiet)
            .probe(site: site)
        #expect(probe.outcomes.count >= phpFiles)

        let log = work.appending("access.log")
        try await Self.waitForLog(log, lines: requests.count + probe.outcomes.count)
        // The probe's own requests are in the log too: left out of the traffic.
        let report = try storeCall {
            try LogImporter(database: database, site: site, format: try LogFormat(Self.format), logger: quiet).importFile(log)
        }
        #expect(report.badLines == 0 && report.requests == requests.count && report.probeLines >= probe.outcomes.count)

        let summary = try await database.traffic.summary(siteID: site.id)
        // inc/ and vendor/ (denied), plugins and templates (an empty body when called directly).
        #expect(summary.includeCount > phpFiles * 9 / 10, "\(summary.includeCount) includes of \(phpFiles)")
        // The burndown and "% on Swift" count pages: a handful of PHP pages, not every .php file.
        let counts = try storeCall { try database.inventory.summary(siteID: site.id) }
        #expect(counts.php < 40 && counts.php + counts.includes + counts.aliases == phpFiles, "\(counts) of \(phpFiles) files")
        // A scanner's /wp-login.php, answered 200 by the catch-all Swift app: never a page.
        #expect(counts.neverPages == 1 && counts.planned == 0 && counts.swift == 0, "\(counts)")
        #expect(counts.includes == summary.includeCount)
        let pages = summary.portNext.map(\.path)
        #expect(Set(pages) == ["/doku.php", "/", "/feed.php", "/lib/exe/css.php"], "denied libraries are no pages: \(pages)")
        #expect(summary.portNext.first?.path == "/doku.php", "the wiki's entry point is the most requested page")
        // Every page request but the fallback's /wp-login.php was answered by PHP, as %R says.
        #expect(summary.last7.byLog == summary.last7.pageHits && summary.last7.swiftHits == 1, "\(summary.last7)")
        // A browser sent them all: the share of people's requests is the same, by the log too.
        #expect(summary.last7.humanPageHits == summary.last7.pageHits && summary.last7.humanSwiftHits == 1, "\(summary.last7)")
        #expect(summary.orphanCount < 40 && summary.orphans.contains("/install.php"), "entry points that nobody requested: \(summary.orphans)")

        let values = try storeCall { try database.traffic.queryValues(siteID: site.id, path: "/doku.php") }.filter { $0.key == "id" }
        #expect(values.first { $0.value == "wiki:syntax" }?.hits == 3, "both spellings and the edit are one page: \(values)")
        #expect(values.first { $0.value == "start" }?.hits == 2)
        let doku = try #require(try storeCall { try database.traffic.row(siteID: site.id, path: "/doku.php") })
        #expect(doku.counts.attributed == doku.counts.hits && doku.counts.servedPHP == doku.counts.hits, "%R names PHP for every doku.php line")
    }

    /// With `userewrite` off (Debian's default) the wiki's pages are `doku.php?id=…`: with the
    /// page key `/doku.php` → `id`, one wiki page moves to Swift in every spelling PHP reads
    /// alike, every other page and the wiki's own scripts stay PHP, and the rollback restores it.
    @Test func pageKeyFlipsOneWikiPageAndBack() async throws {
        let work = try TemporaryDirectory(prefix: "dokuwiki-keys")
        defer { work.remove() }
        let (apache, backend) = try await Self.serve(work: work)
        defer {
            apache.shutdown()
            Task { await backend.stop() }
        }
        let database = try AppDatabase(path: work.appending("cutover.sqlite"))
        var settings = SiteSettings(name: "wiki", docroot: Self.docroot, publicURL: apache.baseURL, backendURL: backend.baseURL)
        settings.pageKeys = [PageKey(script: "/doku.php", key: "id")]
        var quiet = Logger(label: "test")
        quiet.logLevel = .critical
        let site = try await database.sites.add(settings)
        _ = try await offPool { [quiet, site] in try Crawler(database: database, logger: quiet).crawl(site: site) }
        let flip = try await database.plan.flip(siteID: site.id, .paths(["/doku.php?id=wiki%3Asyntax"]), to: .swift, reason: "ported")
        #expect(flip.changed == ["/doku.php?id=wiki:syntax"])

        let live = WikiExport(apache: apache, backend: backend, database: database, site: site, include: work.appending("cutover.conf"))
        try await live.install()
        let swift = [
            "/doku.php?id=wiki:syntax", "/doku.php?id=wiki%3Asyntax", "/doku.php?do=edit&id=wiki%3asyntax", "/doku.php?id=start&id=wiki:syntax",
        ]
        let php = ["/doku.php?id=start", "/doku.php?id=wiki:syntaxes", "/doku.php?id=wiki:syntax&id=start", "/doku.php", "/feed.php"]
        for target in swift { #expect(try await live.reachesSwift(target), "\(target) should reach Swift") }
        for target in php { #expect(try await !live.reachesSwift(target), "\(target) should stay PHP") }

        try await database.plan.flip(siteID: site.id, .paths(["/doku.php?id=wiki:syntax"]), to: .php, reason: "roll back")
        try await live.install()
        for target in swift + php { #expect(try await !live.reachesSwift(target), "\(target) should be PHP after the rollback") }
    }

    /// With its rewrite rules on (`userewrite`: Debian ships them commented out in the
    /// `.htaccess`), DokuWiki is a front-controller app: `/wiki:syntax` is `doku.php?id=wiki:syntax`.
    /// The crawl detects `/doku.php` as the front controller; once the user confirms it, the
    /// requested pages are PHP's routes, one flips to Swift by path ahead of the wiki's rules,
    /// every other page stays the wiki's, and the rollback restores it. The docroot is the
    /// package's files linked one by one, with that `.htaccess` of its own.
    @Test func userewriteRoutesFlipByPathAndBack() async throws {
        let work = try TemporaryDirectory(prefix: "dokuwiki-rewrite")
        defer { work.remove() }
        let wiki = work.appending("wiki")
        try FileManager.default.createDirectory(atPath: wiki, withIntermediateDirectories: true)
        for entry in try FileManager.default.contentsOfDirectory(atPath: Self.docroot) where entry != ".htaccess" {
            try FileManager.default.createSymbolicLink(atPath: "\(wiki)/\(entry)", withDestinationPath: "\(Self.docroot)/\(entry)")
        }
        let shipped = try String(contentsOfFile: "/etc/dokuwiki/htaccess", encoding: .utf8)
        let rules = [
            "#RewriteEngine", "#RewriteRule ^_", "#RewriteRule ^$", "#RewriteCond %{REQUEST_FILENAME}", "#RewriteRule (.*)", "#RewriteRule ^index",
        ]
        let htaccess = shipped.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            rules.contains { line.hasPrefix($0) } ? String(line.dropFirst()) : String(line)
        }
        try htaccess.joined(separator: "\n").write(toFile: "\(wiki)/.htaccess", atomically: true, encoding: .utf8)
        #expect(htaccess.contains("RewriteRule (.*)                      doku.php?id=$1  [QSA,L]"), "Debian's rules as shipped")

        let (apache, backend) = try await Self.serve(work: work, docroot: wiki, fallback: false)
        defer {
            apache.shutdown()
            Task { await backend.stop() }
        }
        var quiet = Logger(label: "test")
        quiet.logLevel = .critical
        let database = try AppDatabase(path: work.appending("cutover.sqlite"))
        var site = try await database.sites.add(SiteSettings(name: "wiki", docroot: wiki, publicURL: apache.baseURL, backendURL: backend.baseURL))
        _ = try await offPool { [quiet, site] in try Crawler(database: database, logger: quiet).crawl(site: site) }
        #expect(try await database.inventory.progress(of: site).detectedFrontController == "/doku.php")
        var settings = site.settings
        settings.frontController = "/doku.php"
        site = try await database.sites.save(settings)

        for path in ["/wiki:syntax", "/start"] {
            let answer = try await RawHTTP.send(port: apache.port, method: "GET", path: path, headers: Self.browser)
            #expect(answer.status == 200 && answer.body.contains("DokuWiki"), "\(path): the wiki's own page, \(answer.status)")
        }
        let log = work.appending("access.log")
        try await Self.waitForLog(log, lines: 2)
        _ = try storeCall { try LogImporter(database: database, site: site, format: try LogFormat(Self.format), logger: quiet).importFile(log) }
        let route = try #require(try storeCall { try database.inventory.url(siteID: site.id, path: "/wiki:syntax") })
        #expect(route.owner == .php && route.filePath == nil, "a requested page of the wiki is the front controller's")

        try await database.plan.flip(siteID: site.id, .paths(["/wiki:syntax"]), to: .swift, reason: "ported")
        let live = WikiExport(apache: apache, backend: backend, database: database, site: site, include: work.appending("cutover.conf"))
        #expect(!(try await live.install()).contains("!-f"), "no Swift fallback on a front-controller site")
        let swift = ["/wiki:syntax", "/wiki:syntax?do=edit"]
        let php = ["/start", "/wiki:syntaxes", "/doku.php?id=wiki:syntax", "/", "/missing:page"]
        for target in swift { #expect(try await live.reachesSwift(target), "\(target) should reach Swift") }
        for target in php { #expect(try await !live.reachesSwift(target), "\(target) should stay the wiki's") }

        try await database.plan.flip(siteID: site.id, .paths(["/wiki:syntax"]), to: .php, reason: "roll back")
        try await live.install()
        for target in swift + php { #expect(try await !live.reachesSwift(target), "\(target) should be the wiki's after the rollback") }
    }
}

/// The wiki's vhost export put live in the test's Apache, and requests sent as a browser would.
final class WikiExport: @unchecked Sendable {
    let apache: ApacheServer
    let backend: RecordingBackend
    let database: AppDatabase
    let site: SiteRecord
    let include: String
    private var included = false

    init(apache: ApacheServer, backend: RecordingBackend, database: AppDatabase, site: SiteRecord, include: String) {
        self.apache = apache
        self.backend = backend
        self.database = database
        self.site = site
        self.include = include
    }

    /// Renders the export, includes it (once), checks the config and reloads; returns the text.
    @discardableResult
    func install() async throws -> String {
        let (_, rendered) = try storeCall { try Exporter(database: database).render(site: site, form: .vhost) }
        try rendered.text.write(toFile: include, atomically: true, encoding: .utf8)
        if !included {
            try apache.appendToConfig("Include \"\(include)\"")
            included = true
        }
        let apache = apache
        let check = try await offPool { try apache.configTest() }
        #expect(check.status == 0, "\(check.stderr)")
        try await offPool { try apache.gracefulReload() }
        return rendered.text
    }

    /// Whether `target` reached the Swift backend, which must then have received it exactly;
    /// otherwise the wiki answered (a page or a redirect).
    func reachesSwift(_ target: String) async throws -> Bool {
        let before = backend.requestTargets.count
        let answer = try await RawHTTP.send(port: apache.port, method: "GET", path: target, headers: DokuWikiTests.browser)
        let received = Array(backend.requestTargets.dropFirst(before))
        #expect(received.isEmpty || received == [target], "the backend gets path and query as sent: \(received)")
        #expect(!received.isEmpty || answer.status == 200 || (300..<400).contains(answer.status), "\(target): \(answer.status)")
        return !received.isEmpty
    }
}
