import CutoverCore
import CutoverExport
import CutoverLogs
import CutoverStore
import CutoverTestSupport
import Foundation
import Testing

/// The first export changes more than the flips (#24.7): its fallback takes over every URL
/// Apache answered itself, missing files and directories without an index file. The preview
/// lists each with what answered before; sending those directories to Swift is a site setting.
/// Real Apache + mod_php, real requests.
@Suite(.enabled(if: Integration.enabled, "needs apache2 and libapache2-mod-php (always runs when CI=true)"))
struct FirstExportTests {
    static let files = [
        "index.php": "<?php echo 'php home';",
        "page.php": "<?php echo 'php page';",
        "about/index.php": "<?php echo 'php about';",
        "js/app.js": "app()",
        "themes/blue/style.css": "body{}",
    ]

    @Test func thePreviewListsWhatTheFallbackTakesOverFromApache() async throws {
        let live = try await LiveSite(files: Self.files, directoryConfig: "AllowOverride All")
        defer { Task { await live.shutdown() } }
        try await live.crawl()
        var site = live.site
        // Before any export Apache answers these itself.
        let before = try await live.reachesSwift("/js/")
        #expect(!before.swift && [200, 403, 404].contains(before.answer.status), "\(before.answer.status)")

        let log = live.docroot.appending("access.log")
        let lines = Array(repeating: "/old-page.html", count: 3) + ["/page.php"]
        try lines.map {
            #"192.0.2.1 - - [02/Dec/2026:10:00:00 +0000] "GET \#($0) HTTP/1.1" \#($0.hasSuffix(".html") ? 404 : 200) 10 "-" "Mozilla/5.0""#
        }
        .joined(separator: "\n").appending("\n").write(toFile: log, atomically: true, encoding: .utf8)
        _ = try storeCall {
            try LogImporter(database: live.database, site: site, format: try LogFormat("combined"), logger: live.quiet).importFile(log)
        }
        try await live.database.plan.flip(siteID: site.id, .paths(["/page.php"]), to: .swift, reason: "ported")

        let preview = Dictionary(
            uniqueKeysWithValues: try storeCall { try Exporter(database: live.database).preview(site: site) }.map { ($0.path, $0) }
        )
        #expect(preview["/page.php"]?.from == .php && preview["/page.php"]?.to == .swift)
        for directory in ["/js/", "/themes/", "/themes/blue/"] {
            #expect(preview[directory]?.from == nil && preview[directory]?.before?.contains("no index file") == true, "\(directory): \(preview)")
        }
        #expect(preview["/old-page.html"]?.before == "Apache: 404, requested 3 times", "\(preview)")
        #expect(preview["/about/"] == nil && preview["/"] == nil, "directories with an index file keep it")

        try await live.install(.vhost)
        for target in ["/js/", "/themes/blue/", "/old-page.html", "/page.php"] {
            #expect(try await live.reachesSwift(target).swift, "\(target) should reach Swift after the first export")
        }
        #expect(try await !live.reachesSwift("/about/").swift)

        // Off: the directories stay Apache's, and the preview no longer lists them.
        site = try await live.configure { $0.directoriesToSwift = false }
        let without = try storeCall { try Exporter(database: live.database).preview(site: site) }.map(\.path)
        #expect(!without.contains("/js/") && without.contains("/old-page.html"), "\(without)")
        let rendered = try await live.install(.vhost)
        #expect(rendered.text.contains("directoriesToSwift off"))
        #expect(try await !live.reachesSwift("/js/").swift)
        #expect(try await live.reachesSwift("/old-page.html").swift)
    }

    /// On a site whose front controller answers URLs without a file, directories stay the app's
    /// by default, and the fallback takes nothing over.
    @Test func aFrontControllerKeepsItsDirectories() async throws {
        var files = Self.files
        files[".htaccess"] =
            "RewriteEngine On\nRewriteCond %{REQUEST_FILENAME} !-f\nRewriteCond %{REQUEST_FILENAME} !-d\nRewriteRule . /index.php [L]\n"
        let live = try await LiveSite(files: files, directoryConfig: "AllowOverride All")
        defer { Task { await live.shutdown() } }
        try await live.crawl()
        let site = try await live.database.sites.named("live")
        #expect(site.routingFrontController == "/index.php" && !site.sendsDirectoriesToSwift)
        #expect(try storeCall { try Exporter(database: live.database).preview(site: site) }.isEmpty)
    }
}
