import CutoverTestSupport
import Foundation
import Testing

/// `cutover logs` as a user runs it: import, re-import, summary, and one clear line per bad input.
@Suite struct LogsCLITests {
    static func line(_ path: String, status: Int = 200) -> String {
        let stamp = DateFormatter.apacheLog.string(from: Date())
        return #"192.0.2.1 - - [\#(stamp)] "GET \#(path) HTTP/1.1" \#(status) 10 "-" "Mozilla/5.0""# + "\n"
    }

    @Test func importShowAndSummarize() throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        try cli.folder.write("www/index.php")
        try cli.folder.write("www/about.php")
        try cli.run("crawl", "--docroot", "www")
        try cli.folder.write(
            "access.log",
            Self.line("/about.php") + Self.line("/about.php") + Self.line("/index.php") + Self.line("/.env", status: 404)
        )

        let imported = try #require(try cli.json("logs", "import", "access.log") as? [String: Any])
        let file = try #require((imported["files"] as? [[String: Any]])?.first)
        #expect(file["requests"] as? Int == 4 && file["outcome"] as? String == "imported")
        let again = try cli.run("logs", "import", "access.log")
        #expect(again.status == 0 && again.stdout.contains("nothing new"))

        let shown = try #require(try cli.json("logs", "show") as? [[String: Any]])
        #expect(shown.first?["path"] as? String == "/about.php" && shown.first?["hits"] as? Int == 2)
        let summary = try #require(try cli.json("logs", "summary") as? [String: Any])
        #expect((summary["portNext"] as? [[String: Any]])?.first?["path"] as? String == "/about.php")
        #expect(summary["noiseCount"] as? Int == 1)
        let byHits = try #require(try cli.json("urls", "--sort", "hits", "--min-hits", "1") as? [[String: Any]])
        #expect(byHits.map { $0["path"] as? String } == ["/about.php", "/index.php"] && byHits.first?["hits"] as? Int == 2)
        let text = try cli.run("logs", "summary")
        #expect(text.status == 0 && text.stdout.contains("port next") && text.stdout.contains("/about.php"))
    }

    /// A page key declared with `site add --page-key`: logged values become pages, one flips
    /// by its URL, the export matches its query, and the summary suggests undeclared keys.
    @Test func pageKeysFromTheCommandLine() throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        try cli.folder.write("www/index.php")
        try cli.folder.write("www/article.php")
        let bad = try cli.run("site", "add", "shop", "--docroot", "www", "--page-key", "/index.php")
        #expect(bad.status != 0 && bad.stderr.contains("--page-key must look like /doku.php=id"), "\(bad.stderr)")
        let invalid = try cli.run("site", "add", "shop", "--docroot", "www", "--page-key", "/index.php=pa ge")
        #expect(invalid.status != 0 && invalid.stderr.contains("letters, digits"), "\(invalid.stderr)")
        try cli.run("site", "add", "shop", "--docroot", "www", "--page-key", "/index.php=page")
        try cli.run("crawl", "--site", "shop")
        try cli.folder.write(
            "access.log",
            ["about", "team", "wiki%3Astart"].map { Self.line("/index.php?page=\($0)") }.joined()
                + ["1", "2", "3", "1", "2", "3"].map { Self.line("/article.php?id=\($0)") }.joined()
        )
        try cli.run("logs", "import", "--site", "shop", "access.log")
        let pages = try #require(try cli.json("urls", "--site", "shop", "--prefix", "/index.php?") as? [[String: Any]])
        #expect(pages.map { $0["path"] as? String } == ["/index.php?page=about", "/index.php?page=team", "/index.php?page=wiki:start"])
        #expect(pages.allSatisfy { ($0["flags"] as? [String]) == ["page-key"] && $0["owner"] as? String == "php" })
        let summary = try cli.run("logs", "summary", "--site", "shop")
        // Each value twice: a page's name (a value new on every request would name none).
        #expect(summary.stdout.contains("page key? /article.php=id: 3 values in 6 of 6 requests"), "\(summary.stdout)")
        #expect(summary.stdout.contains("cutover site set shop --page-key /article.php=id"))

        // `site set` changes what it is given and keeps the rest.
        let set = try cli.run(
            "site",
            "set",
            "shop",
            "--page-key",
            "/index.php=page",
            "--page-key",
            "/article.php=id",
            "--front-controller",
            "/index.php"
        )
        #expect(set.status == 0, "\(set.stderr)")
        let site = try #require(try cli.json("site", "list") as? [[String: Any]]).first
        #expect(
            (site?["pageKeys"] as? [[String: String]])?.map { $0["key"] } == ["page", "id"] && site?["frontController"] as? String == "/index.php"
        )
        #expect(site?["docroot"] as? String == cli.folder.appending("www"))
        let articles = try #require(try cli.json("urls", "--site", "shop", "--prefix", "/article.php?") as? [[String: Any]])
        #expect(articles.count == 3)
        let status = try cli.run("status", "--site", "shop")
        #expect(status.stdout.contains("front controller /index.php: it answers URLs without a file"), "\(status.stdout)")
        let refused = try cli.run("site", "set", "shop", "--front-controller", "index")
        #expect(refused.status != 0 && refused.stderr.contains("front controller 'index' must be the URL path of a PHP script"), "\(refused.stderr)")
        #expect(try cli.run("site", "set", "shop", "--front-controller", "", "--page-key", "/index.php=page").status == 0)
        #expect((try cli.json("urls", "--site", "shop", "--prefix", "/article.php?") as? [[String: Any]])?.isEmpty == true)

        let flip = try cli.run("flip", "--site", "shop", "/index.php?page=wiki:start", "--to", "swift")
        #expect(flip.status == 0 && flip.stdout.contains("planned swift: /index.php?page=wiki:start"), "\(flip.stdout)\(flip.stderr)")
        let unknown = try cli.run("flip", "--site", "shop", "/article.php?id=1", "--to", "swift")
        #expect(unknown.status != 0 && unknown.stderr.contains("page key"), "\(unknown.stderr)")
        let export = try cli.run("export", "--site", "shop")
        // Each byte in every spelling PHP decodes to it; no later `page` pair may follow.
        #expect(export.stdout.contains(#"RewriteCond %{QUERY_STRING} "(?:^|&)(?:p|%70)(?:a|%61)(?:g|%67)(?:e|%65)=(?:w|%77)"#), "\(export.stdout)")
        #expect(export.stdout.contains(#"(?:\x3A|%3[Aa])(?:s|%73)"#) && export.stdout.contains(#"(?=&|$)(?!.*&(?:p|%70)"#))
    }

    @Test func badInputIsOneClearLineAndNothingIsStored() throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        try cli.folder.write("www/index.php")
        try cli.run("crawl", "--docroot", "www")
        let format = try cli.run("logs", "import", "--format", "%h %Q %r", "x.log")
        #expect(format.status != 0 && format.stderr.contains("%Q"))
        #expect(mkfifo(cli.folder.appending("fifo"), 0o600) == 0)
        try cli.folder.write("logs/empty.log", "")
        let result = try cli.run("logs", "import", "logs", "fifo", "missing.log", "logs/empty.log")
        #expect(result.status != 0)
        let errors = result.stderr.split(separator: "\n")
        #expect(errors.count == 3, "\(result.stderr)")
        #expect(result.stderr.contains("is a directory") && result.stderr.contains("is a FIFO") && result.stderr.contains("No such file"))
        #expect(result.stdout.contains("empty, nothing to import"))
        let shown = try #require(try cli.json("logs", "show") as? [[String: Any]])
        #expect(shown.isEmpty)
    }
}

extension DateFormatter {
    /// `%d/%b/%Y:%H:%M:%S %z` in English, as Apache writes `%t`.
    static var apacheLog: DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "dd/MMM/yyyy:HH:mm:ss Z"
        return formatter
    }
}
