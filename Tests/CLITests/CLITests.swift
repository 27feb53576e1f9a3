import CutoverTestSupport
import Foundation
import Testing

@Suite struct CLITests {
    @Test(arguments: [
        [], ["crawl"], ["status"], ["urls"], ["site"], ["site", "add"], ["site", "list"], ["site", "remove"], ["site", "side-secret"], ["parity"],
        ["parity", "fixtures"],
    ])
    func everyCommandHasHelp(command: [String]) throws {
        let result = try Subprocess.run(Subprocess.cutoverBinary, command + ["--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("USAGE"))
    }

    /// #26.5: a symbolic link to a private place is shown by `status` as the link and its URL,
    /// with the one Apache line that denies it (a name with a space written as `\x20`), never as
    /// the entries beneath it.
    @Test func statusShowsExposuresAsTheLinkAndItsPrefix() throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        try cli.folder.write("www/index.php")
        let www = cli.folder.appending("www")
        try FileManager.default.createSymbolicLink(atPath: www + "/etc-link", withDestinationPath: "/etc")
        try FileManager.default.createSymbolicLink(atPath: www + "/home link", withDestinationPath: "/home")
        try cli.run("crawl", "--docroot", "www")
        let text = try cli.run("status")
        #expect(text.status == 0)
        #expect(text.stdout.contains("warning: 2 symbolic links in the docroot lead to a private place"), "\(text.stdout)")
        #expect(text.stdout.contains("/etc-link (etc-link)"), "\(text.stdout)")
        #expect(text.stdout.contains(#"deny it with one line in the vhost or the docroot's .htaccess: RedirectMatch 404 "^/etc-link(/|$)""#))
        #expect(text.stdout.contains(#"/home%20link (home link)"#), "\(text.stdout)")
        #expect(text.stdout.contains(#"RedirectMatch 404 "^/home\x20link(/|$)""#), "\(text.stdout)")
        #expect(!text.stdout.contains("passwd") && !text.stdout.contains("/etc-link/"), "\(text.stdout)")
        let status = try #require(try cli.json("status") as? [String: Any])
        let exposures = try #require(status["exposures"] as? [[String: Any]])
        #expect(exposures.map { $0["url"] as? String } == ["/etc-link", "/home%20link"])
        #expect(exposures.map { $0["filePath"] as? String } == ["etc-link", "home link"])
    }

    @Test func crawlStatusAndURLsOnADocroot() throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        try cli.folder.write("www/index.php")
        try cli.folder.write("www/about.php")
        try cli.folder.write("www/css/site.css")
        let crawl = try #require(try cli.json("crawl", "--docroot", "www") as? [String: Any])
        #expect((crawl["crawl"] as? [String: Any])?["status"] as? String == "succeeded")
        #expect(FileManager.default.fileExists(atPath: cli.db))  // default --db is ./cutover.sqlite

        let status = try #require(try cli.json("status") as? [String: Any])
        let counts = try #require(status["counts"] as? [String: Any])
        #expect(counts["php"] as? Int == 2)  // / (and its alias /index.php), /about.php
        #expect(counts["aliases"] as? Int == 1)
        #expect(counts["static"] as? Int == 1)
        #expect(status["percentOnSwift"] as? Double == 0)

        try FileManager.default.removeItem(atPath: cli.folder.appending("www/about.php"))
        try cli.run("crawl", "--site", "default")
        let swift = try #require(try cli.json("urls", "--owner", "swift") as? [[String: Any]])
        #expect(swift.map { $0["path"] as? String } == ["/about.php"])
        let text = try cli.run("status")
        #expect(text.status == 0)
        // Retired: Swift's by the plan, but on Swift only once a probe sees Swift answer it.
        #expect(text.stdout.contains("0.0% of pages are on Swift (0 of 2)"), "\(text.stdout)")
        #expect(text.stdout.contains("planned 1 pages planned for Swift that no probe has seen Swift answer yet"), "\(text.stdout)")
        #expect(text.stdout.contains("last crawl #2 succeeded at "), "\(text.stdout)")
        #expect(!text.stdout.contains("Optional("), "\(text.stdout)")
    }

    /// The side-header secret is printed on request, rotated on request, and a rotation is what
    /// the next export honours: the stored export text never holds it.
    @Test func sideSecretIsPrintedRotatedAndOnlyDigestedInTheExport() throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        try cli.folder.write("a/x.php")
        #expect(try cli.run("site", "add", "alpha", "--docroot", "a").status == 0)
        let shown = try #require(try cli.json("site", "side-secret", "alpha") as? [String: Any])
        let secret = try #require(shown["secret"] as? String)
        #expect(secret.count == 32 && secret.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(shown["swift"] as? String == "swift;\(secret)" && shown["php"] as? String == "php;\(secret)")
        let text = try cli.run("site", "side-secret", "alpha")
        #expect(text.stdout.contains("X-Cutover-Side: swift;\(secret)"))
        let export = try cli.run("export", "--site", "alpha")
        #expect(export.status == 0 && export.stdout.contains("X-Cutover-Side") && !export.stdout.contains(secret))
        let rotated = try #require(try cli.json("site", "side-secret", "alpha", "--rotate") as? [String: Any])
        #expect(rotated["secret"] as? String != secret)
        #expect(try cli.run("export", "--site", "alpha").stdout != export.stdout, "the digests follow the new secret")
        let unknown = try cli.run("site", "side-secret", "nosuch")
        #expect(unknown.status != 0 && unknown.stderr.contains("unknown site 'nosuch'"))
    }

    @Test func registeredSitesAreNamedLater() throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        try cli.folder.write("a/x.php")
        try cli.folder.write("b/y.html")
        #expect(try cli.run("site", "add", "alpha", "--docroot", "a", "--site-url", "http://127.0.0.1:8081").status == 0)
        #expect(try cli.run("site", "add", "beta", "--docroot", "b").status == 0)
        let ambiguous = try cli.run("crawl")
        #expect(ambiguous.status != 0)
        #expect(ambiguous.stderr.contains("choose one with --site"))
        #expect(try cli.run("crawl", "--site", "beta").status == 0)
        let urls = try #require(try cli.json("urls", "--site", "beta") as? [[String: Any]])
        #expect(urls.map { $0["path"] as? String } == ["/y.html"])
        let sites = try #require(try cli.json("site", "list") as? [[String: Any]])
        #expect(sites.map { $0["name"] as? String } == ["alpha", "beta"])
    }

    @Test func siteAddTakesScheduleAndOwnerHeader() throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        try cli.folder.write("a/x.php")
        let added = try cli.run(
            "site",
            "add",
            "alpha",
            "--docroot",
            "a",
            "--crawl-every",
            "15m",
            "--owner-header",
            "X-Served-By",
            "--probe-retention",
            "5"
        )
        #expect(added.status == 0, "\(added.stderr)")
        let site = try #require((try cli.json("site", "list") as? [[String: Any]])?.first)
        #expect(site["crawlEvery"] as? String == "15m")
        #expect(site["ownerHeader"] as? String == "X-Served-By")
        #expect(site["probeRetention"] as? Int == 5)
        let bad = try cli.run("site", "add", "beta", "--docroot", "a", "--crawl-every", "soon")
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--crawl-every"))
    }

    @Test(arguments: [
        (["crawl", "--docroot", "missing-dir"], "does not exist"),
        (["crawl", "--site", "nope"], "unknown site 'nope'"),
        (["status"], "no site registered"),
        (["site", "add", "x", "--docroot", "/tmp", "--site-url", "ftp://x"], "must start with http"),
        (["site", "add", "bad name", "--docroot", "/tmp"], "site name"),
        (["urls", "--owner", "perl", "--docroot", "/tmp"], "perl"),
        (["crawl", "--db", "/no/such/folder/db.sqlite", "--docroot", "/tmp"], "database folder"),
    ])
    func errorsAreOneClearLineAndNonZero(arguments: [String], fragment: String) throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        let result = try Subprocess.run(Subprocess.cutoverBinary, arguments, currentDirectory: cli.folder.path)
        #expect(result.status != 0)
        #expect(result.stderr.contains(fragment), "stderr was: \(result.stderr)")
        #expect(!result.stderr.contains("Fatal error"))
    }

    @Test func noProgressDisplayWhenNotATerminal() throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        for index in 0..<3000 { try cli.folder.write("www/p\(index).php") }
        let result = try cli.run("crawl", "--docroot", "www")
        #expect(result.status == 0)
        #expect(!result.stderr.contains("\r"))
    }
}
