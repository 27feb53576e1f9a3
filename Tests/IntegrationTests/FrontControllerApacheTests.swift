import CutoverCore
import CutoverExport
import CutoverLogs
import CutoverStore
import CutoverTestSupport
import Foundation
import Testing

/// A WordPress-style app: its own `.htaccess` sends every URL without a file to `/index.php`.
/// With the front controller set, URLs from the logs are PHP's routes, a route and a prefix
/// flip to Swift in every export form (placed before the app's rules), everything else still
/// reaches the app as before, the probe checks the front controller instead of a fallback, and
/// the rollback restores it. Real Apache + mod_php, real requests.
@Suite(.enabled(if: Integration.enabled, "needs apache2 and libapache2-mod-php (always runs when CI=true)"))
struct FrontControllerApacheTests {
    static let appRules = """
        # BEGIN WordPress
        RewriteEngine On
        RewriteBase /
        RewriteRule ^index\\.php$ - [L]
        RewriteCond %{REQUEST_FILENAME} !-f
        RewriteCond %{REQUEST_FILENAME} !-d
        RewriteRule . /index.php [L]
        # END WordPress

        """

    static let files = [
        ".htaccess": appRules,
        "index.php": "<?php echo 'php front controller ', htmlspecialchars($_SERVER['REQUEST_URI']);",
        "about.php": "<?php echo 'php about';",
        "style.css": "body{}",
    ]

    static let swift = [
        "/hello/", "/hello/?x=1&y=%20", "/blog/first-post/", "/blog/new-post?p=2", "/blog/", "/about.php", "/we%22ird%20$%7BX%7D%25/page",
    ]
    static let php = ["/shop/cart", "/", "/index.php", "/missing-page", "/hello", "/blogger/x", "/about.php/extra?x", "/we%22ird/x"]

    @Test(arguments: ExportForm.allCases)
    func routesAndPrefixesFlipBeforeTheAppsRules(form: ExportForm) async throws {
        let live = try await LiveSite(files: Self.files, directoryConfig: "AllowOverride All")
        defer { Task { await live.shutdown() } }
        try await live.crawl()
        let site = try await live.configure { $0.frontController = "/index.php" }

        // Requested URLs from the log are the front controller's routes, not the fallback's.
        let log = live.docroot.appending("access.log")
        let lines = ["/hello/", "/blog/first-post/", "/shop/cart", "/about.php", "/"].map {
            #"192.0.2.1 - - [02/Dec/2026:10:00:00 +0000] "GET \#($0) HTTP/1.1" 200 10 "-" "Mozilla/5.0""#
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: log, atomically: true, encoding: .utf8)
        _ = try storeCall {
            try LogImporter(database: live.database, site: site, format: try LogFormat("combined"), logger: live.quiet).importFile(log)
        }
        let hello = try #require(try storeCall { try live.database.inventory.url(siteID: site.id, path: "/hello/") })
        #expect(hello.owner == .php && hello.urlFlags.contains(.fromLog) && hello.filePath == nil)

        let pages = try await live.database.plan.flip(siteID: site.id, .paths(["/hello/", "/about.php"]), to: .swift, reason: "ported")
        #expect(pages.changed == ["/about.php", "/hello/"])
        let prefix = try await live.database.plan.flip(siteID: site.id, .prefix("/blog/"), to: .swift, reason: "the blog moved")
        #expect(prefix.changed == ["/blog/*", "/blog/first-post/"], "\(prefix.changed)")
        // A prefix of odd characters is a rule of escapes: `"`, `$`, `{`, `%` and a space.
        let odd = try await live.database.plan.flip(siteID: site.id, .prefix(#"/we"ird ${X}%25/"#), to: .swift, reason: "odd")
        #expect(odd.changed == ["/we%22ird%20$%7BX%7D%25/*"], "\(odd.changed)")
        #expect(try await live.database.inventory.progress(of: site).routePrefixes == ["/blog/", "/we%22ird%20$%7BX%7D%25/"])

        // Planned, not on Swift: nothing is live yet.
        var counts = try await live.database.inventory.progress(of: site).counts
        #expect(counts.php == 3 && counts.planned == 3 && counts.swift == 0, "/, /index.php, /shop/cart; \(counts)")

        let rendered = try await live.install(form, appHtaccess: Self.appRules)
        #expect(!rendered.text.contains("REQUEST_FILENAME} !-f"), "no Swift fallback on a front-controller site")
        for target in Self.swift {
            #expect(try await live.reachesSwift(target).swift, "\(form) \(target) should reach Swift")
        }
        for target in Self.php {
            let (swift, answer) = try await live.reachesSwift(target)
            #expect(!swift && answer.body.hasPrefix("php "), "\(form) \(target) should stay PHP: \(answer.status) \(answer.body)")
        }
        let style = try await live.reachesSwift("/style.css")
        #expect(!style.swift && style.answer.body == "body{}")

        // The probe checks that a missing URL reaches the front controller, and sees the flips.
        let report = try await live.probe()
        #expect(report.fallback.healthy, "\(report.fallback.detail)")
        #expect(report.fallback.detail.contains("front controller /index.php"))
        let observed = live.observed(report)
        #expect(observed["/hello/"] == .swift && observed["/blog/first-post/"] == .swift && observed["/shop/cart"] == .php)
        #expect(report.drifted.isEmpty, "\(report.drifted.map(\.target.path))")
        // Live and seen there: the flipped route, page and prefix page are on Swift.
        counts = try await live.database.inventory.progress(of: site).counts
        #expect(counts.php == 3 && counts.planned == 0 && counts.swift == 3, "\(counts)")

        // A URL that first appears under the live prefix is Swift's from the start: no drift, no
        // "swift -> php" in the preview.
        let newLog = live.docroot.appending("access-new.log")
        try #"192.0.2.1 - - [03/Dec/2026:10:00:00 +0000] "GET /blog/brand-new-post/ HTTP/1.1" 200 10 "-" "Mozilla/5.0""#
            .appending("\n").write(toFile: newLog, atomically: true, encoding: .utf8)
        _ = try storeCall {
            try LogImporter(database: live.database, site: site, format: try LogFormat("combined"), logger: live.quiet).importFile(newLog)
        }
        let newPost = try #require(try storeCall { try live.database.inventory.url(siteID: site.id, path: "/blog/brand-new-post/") })
        #expect(newPost.expectedOwner == .swift, "\(newPost)")
        #expect(try await live.probe().drifted.isEmpty)
        #expect(try storeCall { try Exporter(database: live.database).preview(site: site) }.isEmpty)
        #expect(try await live.database.inventory.progress(of: site).counts.swift == 4)

        // Roll back: the routes and the prefix go back to the front controller.
        try await live.database.plan.flip(siteID: site.id, .paths(["/hello/", "/about.php"]), to: .php, reason: "roll back")
        let back = try await live.database.plan.flip(siteID: site.id, .prefix("/blog/"), to: .php, reason: "roll back")
        #expect(back.changed == ["/blog/*", "/blog/brand-new-post/", "/blog/first-post/"])
        try await live.database.plan.flip(siteID: site.id, .prefix(#"/we"ird ${X}%25/"#), to: .php, reason: "roll back")
        #expect(try await live.database.inventory.progress(of: site).routePrefixes.isEmpty)
        try await live.install(form, appHtaccess: Self.appRules)
        for target in Self.swift + Self.php {
            #expect(try await !live.reachesSwift(target).swift, "\(form) \(target) should be PHP after the rollback")
        }
    }

    /// A front controller the crawl detects counts before anyone confirms it: logged routes are
    /// PHP's, the probe checks it (saying it is not confirmed), a flipped route gets its own rule
    /// while the export keeps the Swift fallback; declined, routes are the fallback's again and
    /// the probe names what answered the missing URL.
    @Test func aDetectedFrontControllerCountsUntilDeclined() async throws {
        let live = try await LiveSite(files: Self.files, directoryConfig: "AllowOverride All")
        defer { Task { await live.shutdown() } }
        try await live.crawl()
        var site = try await live.configure { _ in }
        #expect(site.frontController == nil && site.routingFrontController == "/index.php" && site.frontControllerUnconfirmed)

        let log = live.docroot.appending("access.log")
        let lines = ["/hello/", "/shop/cart", "/"].map {
            #"192.0.2.1 - - [02/Dec/2026:10:00:00 +0000] "GET \#($0) HTTP/1.1" 200 10 "-" "Mozilla/5.0""#
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: log, atomically: true, encoding: .utf8)
        _ = try storeCall {
            try LogImporter(database: live.database, site: site, format: try LogFormat("combined"), logger: live.quiet).importFile(log)
        }
        // The log's routes are the front controller's: nothing is on Swift (was "2.7 % on Swift").
        var progress = try await live.database.inventory.progress(of: site)
        #expect(progress.counts.swift == 0 && progress.counts.planned == 0 && progress.counts.php == 5, "\(progress.counts)")
        #expect(progress.routingFrontController == "/index.php" && progress.frontController == nil)

        try await live.database.plan.flip(siteID: site.id, .paths(["/hello/"]), to: .swift, reason: "ported")
        let rendered = try await live.install(.vhost, appHtaccess: Self.appRules)
        #expect(rendered.text.contains("REQUEST_FILENAME} !-f"), "the Swift fallback stays until the front controller is confirmed")
        #expect(try await live.reachesSwift("/hello/").swift)
        #expect(try await !live.reachesSwift("/shop/cart").swift, "the app's rules answer its other routes")
        let report = try await live.probe()
        #expect(report.fallback.healthy, "\(report.fallback.detail)")
        #expect(
            report.fallback.detail.contains("not confirmed") && report.fallback.detail.contains("--front-controller ''"),
            "\(report.fallback.detail)"
        )
        #expect(report.drifted.isEmpty, "\(report.drifted.map(\.target.path))")
        progress = try await live.database.inventory.progress(of: site)
        #expect(progress.counts.swift == 1 && progress.counts.php == 4, "\(progress.counts)")

        // Declined: URLs without a file are the Swift fallback's; the app still answers them.
        site = try await live.configure { $0.frontControllerDeclined = true }
        #expect(site.routingFrontController == nil)
        #expect(try storeCall { try live.database.inventory.url(siteID: site.id, path: "/shop/cart") }?.owner == .swift)
        let declined = try await live.probe()
        #expect(!declined.fallback.healthy)
        #expect(declined.fallback.detail.contains("PHP answered a missing URL"), "\(declined.fallback.detail)")
        // A crawl keeps the refusal.
        try await live.crawl()
        #expect(try await live.database.sites.named("live").routingFrontController == nil)
    }

    /// Without the front controller set (declined), the probe names what answered the missing URL
    /// (PHP, the app's own rules) and how to tell Cutover, instead of "answered by Apache itself".
    @Test func aFrontControllerThatIsNotSetIsNamedByTheProbe() async throws {
        let live = try await LiveSite(files: Self.files, directoryConfig: "AllowOverride All")
        defer { Task { await live.shutdown() } }
        try await live.configure { $0.frontControllerDeclined = true }
        try await live.crawl()
        let report = try await live.probe()
        #expect(!report.fallback.healthy)
        #expect(report.fallback.detail.contains("PHP answered a missing URL"), "\(report.fallback.detail)")
        #expect(report.fallback.detail.contains("--front-controller /index.php"), "\(report.fallback.detail)")
    }
}
