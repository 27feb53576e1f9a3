import Foundation
import Testing

@Suite struct ProbeSkipCLITests {
    /// A new site gets the usual side-effect scripts on its probe deny-list; the list is replaced,
    /// cleared, and refused when a glob is not a URL path.
    @Test func theProbeDenyListIsSetClearedAndChecked() throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        try cli.folder.write("www/index.php", "<?php echo 1;")
        #expect(try cli.run("site", "add", "s", "--docroot", "www", "--db", cli.db).status == 0)
        func skip() throws -> [String] {
            let sites = try cli.json("site", "list", "--db", cli.db) as? [[String: Any]]
            return sites?.first?["probeSkip"] as? [String] ?? ["?"]
        }
        #expect(try skip().contains("*cron*.php"))
        #expect(try cli.run("site", "set", "s", "--probe-skip", "/jobs/*", "--probe-skip", "*/reindex.php", "--db", cli.db).status == 0)
        #expect(try skip() == ["/jobs/*", "*/reindex.php"])
        let bad = try cli.run("site", "set", "s", "--probe-skip", "jobs/*", "--db", cli.db)
        #expect(bad.status != 0 && bad.stderr.contains("probe skip"), "\(bad.stderr)")
        #expect(try skip() == ["/jobs/*", "*/reindex.php"])
        #expect(try cli.run("site", "set", "s", "--no-probe-skip", "--db", cli.db).status == 0)
        #expect(try skip() == [])
    }
}

@Suite struct FlipTargetCLITests {
    /// `flip --to` offers what a flip can do: swift or php. Static files are files, not a plan.
    @Test func flipOffersOnlySwiftAndPHP() throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        let help = try cli.run("flip", "--help")
        let words = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(words.contains("(values: swift, php)"), "\(help.stdout)")
        let refused = try cli.run("flip", "/a.php", "--to", "static", "--db", cli.db)
        #expect(refused.status != 0 && refused.stderr.contains("'swift' and 'php'"), "\(refused.stderr)")
    }
}
