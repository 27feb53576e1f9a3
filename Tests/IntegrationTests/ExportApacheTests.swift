import CutoverCore
import CutoverExport
import CutoverProbe
import CutoverTestSupport
import Foundation
import Testing

@testable import CutoverStore

/// Exports rendered by Cutover, loaded into a real Apache + mod_php, probed end to end.
@Suite(.enabled(if: Integration.enabled, "needs apache2 and libapache2-mod-php (always runs when CI=true)"))
struct ExportApacheTests {
    static let files = [
        "index.php": "<?php echo 'php home';",
        "page-1.php": "<?php echo 'php one';",
        "page-2.php": "<?php echo 'php two';",
        "old page.php": "<?php echo 'php old';",
        "a+b(1).php": "<?php echo 'php plus';",
        "about/index.php": "<?php echo 'php about';",
        "blog/post.php": "<?php echo 'php post';",
        "style.css": "body{}",
    ]

    static let flipped = ["/page-1.php", "/old%20page.php", "/a+b(1).php"]

    func render(_ form: ExportForm, live: LiveSite, flips: [String], map: String? = nil) throws -> RenderedExport {
        try DirectiveRenderer.render(
            ExportInput(
                settings: live.site.settings,
                flips: flips.map(PageFlip.init),
                redirects: [PageRedirect(from: "/moved.php", to: "/new%20home")],
                mapFilePath: map
            ),
            form: form
        )
    }

    /// Starts a site whose Apache config is exactly the export (vhost forms) or whose docroot
    /// has it as .htaccess.
    func liveSite(_ form: ExportForm, flips: [String]) async throws -> (LiveSite, RenderedExport) {
        // A first site only to learn ports and paths; then the real one with the export in place.
        let live = try await LiveSite(files: Self.files, directoryConfig: "AllowOverride All")
        try await live.crawl()
        let mapPath = live.docroot.appending("flips.map")
        let export = try render(form, live: live, flips: flips, map: mapPath)
        if export.mapFile != nil { try Exporter.writeMap(export, to: mapPath) }
        if form == .htaccess {
            try export.text.write(toFile: "\(live.htdocs)/.htaccess", atomically: true, encoding: .utf8)
        } else {
            try export.text.write(toFile: live.apache.workDirectory.appending("cutover.conf"), atomically: true, encoding: .utf8)
            try live.apache.appendToConfig("Include \"\(live.apache.workDirectory.appending("cutover.conf"))\"")
            try await offPool { try live.apache.gracefulReload() }
        }
        let check = try await offPool { try live.apache.configTest() }
        #expect(check.status == 0, "\(check.stderr)")
        return (live, export)
    }

    @Test(arguments: ExportForm.allCases)
    func flippedPagesAreSwiftAndTheRestIsUnchanged(form: ExportForm) async throws {
        let (live, _) = try await liveSite(form, flips: Self.flipped)
        defer { Task { await live.shutdown() } }
        for path in Self.flipped {
            var url = try #require(try storeCall { try live.database.inventory.url(siteID: live.site.id, path: path) })
            url.plannedOwner = .swift
            let planned = url
            try await live.database.writer.write { db in try planned.update(db) }
        }
        let report = try await live.probe()
        let observed = live.observed(report)
        #expect(observed["/page-1.php"] == .swift)
        #expect(observed["/old%20page.php"] == .swift)
        #expect(observed["/a+b(1).php"] == .swift)
        #expect(observed["/page-2.php"] == .php)
        #expect(observed["/"] == .php)
        #expect(observed["/about/"] == .php)
        #expect(observed["/style.css"] == .static)
        #expect(report.drifted.isEmpty, "\(report.drifted.map(\.target.path))")
        #expect(report.fallback.healthy, "\(report.fallback.detail)")
        for path in Self.flipped {
            #expect(
                FileManager.default.fileExists(atPath: live.htdocs + (PathEncoding.decode(path).map { String(decoding: $0, as: UTF8.self) } ?? ""))
            )
        }

        // The backend sees exactly what the client sent.
        let before = live.backend.requestTargets.count
        _ = try await get("\(live.apache.baseURL)/old%20page.php?q=a%20b&x=1")
        _ = try await get("\(live.apache.baseURL)/a+b(1).php?plus=%2B")
        _ = try await get("\(live.apache.baseURL)/blog/")
        let received = Array(live.backend.requestTargets.dropFirst(before))
        #expect(received == ["/old%20page.php?q=a%20b&x=1", "/a+b(1).php?plus=%2B", "/blog/"])

        let moved = try await getNoRedirect("\(live.apache.baseURL)/moved.php")
        #expect(moved.status == 301)
        #expect(moved.headers["Location"].first?.hasSuffix("/new%20home") == true)
    }
}
