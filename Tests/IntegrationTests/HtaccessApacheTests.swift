import CutoverCore
import CutoverExport
import CutoverStore
import CutoverTestSupport
import Foundation
import Testing

/// A site whose docroot `.htaccess` has its own rewrite rules, and a subdirectory whose
/// `.htaccess` has others: the export's flips and fallback must work around them, on a real
/// Apache, and the app's rules must answer exactly as before.
@Suite(.enabled(if: Integration.enabled, "needs apache2 and libapache2-mod-php (always runs when CI=true)"))
struct HtaccessApacheTests {
    static let files = [
        ".htaccess":
            "# the app's own rules\nRewriteEngine On\nRewriteRule ^old$ /index.php?moved=1 [L]\nRewriteRule ^pretty/([a-z]+)$ show.php?name=$1 [L,QSA]\n",
        "index.php": "<?php echo 'php home ' . ($_GET['moved'] ?? '');",
        "show.php": "<?php echo 'php show ' . $_GET['name'];",
        "a.php": "<?php echo 'php a';",
        "b.php": "<?php echo 'php b';",
        "style.css": "body{}",
        "shop/p1.php": "<?php echo 'php p1';",
        "shop/p2.php": "<?php echo 'php p2';",
        "blog/.htaccess": "<IfModule mod_rewrite.c>\n  RewriteEngine on\n  RewriteRule ^special$ special.php [L]\n</IfModule>\n",
        "blog/index.php": "<?php echo 'blog home';",
        "blog/special.php": "<?php echo 'blog special';",
        "blog/x.php": "<?php echo 'blog x';",
        "blog/y.php": "<?php echo 'blog y';",
    ]

    /// What the app answers without Cutover, and must keep answering with it.
    static let unchanged = [
        "/b.php": "php b", "/old": "php home 1", "/pretty/abc": "php show abc", "/blog/special": "blog special", "/blog/y.php": "blog y",
        "/style.css": "body{}", "/": "php home ", "/blog/": "blog home",
    ]
    static let flipped = ["/a.php?q=a%20b", "/blog/x.php?z=1", "/shop/p1.php", "/shop/p2.php?n=%2B"]

    /// A new connection each time: a pooled keep-alive connection would still reach a child that
    /// serves the configuration from before the last graceful reload.
    func body(_ live: LiveSite, _ path: String) async throws -> String {
        try await RawHTTP.send(port: live.apache.port, method: "GET", path: path).body
    }

    func apply(_ form: ExportForm, _ live: LiveSite, first: Bool) async throws -> RenderedExport {
        let map = live.docroot.appending("flips.map")
        let (_, rendered) = try storeCall { try Exporter(database: live.database).export(site: live.site, form: form, mapFilePath: map) }
        if rendered.mapFile != nil { try Exporter.writeMap(rendered, to: map) }
        let conf = live.apache.workDirectory.appending("cutover.conf")
        try rendered.text.write(toFile: conf, atomically: true, encoding: .utf8)
        if first { try live.apache.appendToConfig("Include \"\(conf)\"") }
        let check = try await offPool { try live.apache.configTest() }
        #expect(check.status == 0, "\(check.stderr)\n\(rendered.text)")
        try await offPool { try live.apache.gracefulReload() }
        return rendered
    }

    @Test(arguments: [ExportForm.vhost, .rewritemap])
    func flipsAndFallbackWorkAroundTheAppsRules(form: ExportForm) async throws {
        let live = try await LiveSite(files: Self.files, directoryConfig: "AllowOverride All")
        defer { Task { await live.shutdown() } }
        for (path, expected) in Self.unchanged {
            #expect(try await body(live, path).hasPrefix(expected), "without Cutover \(path)")
        }
        // Without Cutover's inheritance a .htaccess with rules silently drops the vhost's rules.
        try await live.crawl()
        let recorded = try await live.database.crawls.htaccessFiles(siteID: live.site.id)
        #expect(recorded.map(\.directory) == ["", "blog"])
        #expect(recorded.allSatisfy { $0.hasOwnRewriteRules })
        #expect(recorded.map(\.ruleCount) == [2, 1])
        let status = try await Subprocess.run(
            Subprocess.cutoverBinary,
            ["status", "--db", live.docroot.appending("cutover.sqlite"), "--site", "live"]
        )
        #expect(status.stdout.contains(".htaccess in /blog/: 1 rewrite rules of the app's own"), "\(status.stdout)")

        _ = try await live.database.plan.flip(siteID: live.site.id, .paths(["/a.php", "/blog/x.php"]), to: .swift, reason: "ported")
        _ = try await live.database.plan.flip(siteID: live.site.id, .prefix("/shop/"), to: .swift, reason: "shop ported")
        let rendered = try await apply(form, live, first: true)
        #expect(rendered.conflicts.isEmpty, "\(rendered.conflicts)")
        #expect(rendered.text.contains("<Directory \"\(live.htdocs)/blog\">"))
        #expect(try ApacheConfigCheck().check(rendered, settings: live.site.settings, mapFilePath: live.docroot.appending("flips.map")).accepted)

        let before = live.backend.requestTargets.count
        for path in Self.flipped {
            #expect(try await body(live, path) == "swift backend: \(path)\n", "flipped \(path)")
        }
        for (path, expected) in Self.unchanged {
            #expect(try await body(live, path).hasPrefix(expected), "with Cutover \(path)")
        }
        // URLs without a file: the fallback runs after the app's rules, in the docroot and in /blog/.
        #expect(try await body(live, "/missing?x=1") == "swift backend: /missing?x=1\n")
        #expect(try await body(live, "/blog/missing") == "swift backend: /blog/missing\n")
        #expect(Array(live.backend.requestTargets.dropFirst(before)) == Self.flipped + ["/missing?x=1", "/blog/missing"])

        // Roll back: every page to PHP again, re-exported and reloaded.
        _ = try await live.database.plan.flip(siteID: live.site.id, .glob("*.php"), to: .php, reason: "roll back")
        _ = try await apply(form, live, first: false)
        #expect(try await body(live, "/a.php?q=a%20b") == "php a")
        #expect(try await body(live, "/blog/x.php?z=1") == "blog x")
        #expect(try await body(live, "/shop/p2.php") == "php p2")
        for (path, expected) in Self.unchanged {
            #expect(try await body(live, path).hasPrefix(expected), "rolled back \(path)")
        }
        #expect(try await body(live, "/blog/missing") == "swift backend: /blog/missing\n")
    }

    /// The .htaccess form cannot reach below a subdirectory with rules of its own: `--check` says so.
    @Test func htaccessFormRefusesFlipsBelowAnotherHtaccess() async throws {
        let live = try await LiveSite(files: Self.files, directoryConfig: "AllowOverride All")
        defer { Task { await live.shutdown() } }
        try await live.crawl()
        _ = try await live.database.plan.flip(siteID: live.site.id, .paths(["/a.php", "/blog/x.php"]), to: .swift, reason: "ported")
        let (_, rendered) = try storeCall { try Exporter(database: live.database).render(site: live.site, form: .htaccess) }
        #expect(rendered.conflicts.count == 1)
        #expect(rendered.conflicts.first?.contains("/blog/.htaccess has its own rewrite rules") == true)
        let result = try ApacheConfigCheck().check(rendered, settings: live.site.settings, mapFilePath: nil)
        #expect(!result.accepted)
        #expect(result.message.contains("/blog/x.php"))

        // The docroot part, merged around the app's own rules at the marked place, works live.
        _ = try await live.database.plan.flip(siteID: live.site.id, .paths(["/blog/x.php"]), to: .php, reason: "not here")
        let (_, root) = try storeCall { try Exporter(database: live.database).render(site: live.site, form: .htaccess) }
        #expect(root.conflicts.isEmpty)
        let marker = "# ---- The app's own rewrite rules"
        let parts = root.text.components(separatedBy: marker)
        #expect(parts.count == 2)
        let merged = parts[0] + Self.files[".htaccess"]! + marker + parts[1]
        try merged.write(toFile: live.htdocs + "/.htaccess", atomically: true, encoding: .utf8)
        #expect(try await body(live, "/a.php?q=1") == "swift backend: /a.php?q=1\n")
        #expect(try await body(live, "/old") == "php home 1")
        #expect(try await body(live, "/pretty/xyz") == "php show xyz")
        #expect(try await body(live, "/missing") == "swift backend: /missing\n")
        #expect(try await body(live, "/b.php") == "php b")
    }
}
