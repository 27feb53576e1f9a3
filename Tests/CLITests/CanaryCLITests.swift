import CutoverTestSupport
import Foundation
import Testing

/// `cutover canary` as an operator runs it: start, weight, apply's maps, list, promote, and the
/// refusals with their reasons.
@Suite struct CanaryCLITests {
    @Test func startWeightApplyPromoteAndRefusals() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        for page in ["a", "b", "c"] { try cli.folder.write("www/\(page).php", "<?php echo '\(page)';") }
        #expect(try await cli.exec("site", "add", "s", "--docroot", "www", "--db", cli.db).status == 0)
        #expect(try await cli.exec("crawl", "--site", "s", "--db", cli.db).status == 0)

        // An export made before the site's first canary has no canary rules: starting one says so.
        let early = try await cli.exec("export", "--site", "s", "--form", "tree", "--map-file", cli.folder.appending("flips"), "--db", cli.db)
        #expect(early.status == 0 && !early.stdout.contains(".cutover-canary"), "\(early.stdout)\(early.stderr)")
        let started = try await cli.exec("canary", "start", "checkout", "/a.php", "/b.php", "--site", "s", "--db", cli.db)
        #expect(
            started.status == 0 && started.stdout.contains("canary checkout: running, 0 % of visitors on Swift, 2 URLs"),
            "\(started.stdout)\(started.stderr)"
        )
        #expect(started.stdout.contains("newest export has no canary rules"), "\(started.stdout)")
        let weighted = try await cli.exec("canary", "weight", "checkout", "10", "--site", "s", "--db", cli.db)
        #expect(weighted.status == 0 && weighted.stdout.contains("10 % of visitors"), "\(weighted.stdout)\(weighted.stderr)")

        let status = try await cli.exec("status", "--site", "s", "--db", cli.db)
        #expect(status.stdout.contains("canary checkout: 10 % of visitors on Swift for 2 URLs"), "\(status.stdout)")

        // Apache's check of an export whose maps are not written yet checks against copies of them.
        let checked = try await cli.exec(
            "export",
            "--site",
            "s",
            "--form",
            "dbm",
            "--map-file",
            cli.folder.appending("fresh.dbm"),
            "--check",
            "--db",
            cli.db
        )
        #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")
        #expect(!FileManager.default.fileExists(atPath: cli.folder.appending("fresh.dbm.buckets")))
        #expect(!FileManager.default.fileExists(atPath: cli.folder.appending("fresh.dbm.canary-pages")))

        // apply writes the weights and the buckets beside the form's map; the export declares both.
        let map = cli.folder.appending("flips")
        #expect(try await cli.exec("apply", "--site", "s", "--form", "tree", "--map-file", map, "--db", cli.db).status == 0)
        #expect(try String(contentsOfFile: map + ".canaries", encoding: .utf8).contains("/a.php 10\n/b.php 10\n"))
        #expect(try String(contentsOfFile: map + ".buckets", encoding: .utf8).contains("bucket 0|1|2|"))
        let export = try await cli.exec("export", "--site", "s", "--form", "tree", "--map-file", map, "--db", cli.db)
        #expect(export.stdout.contains("RewriteMap cutover_s_bucket \"rnd:\(map).buckets\""), "\(export.stdout)")
        #expect(export.stdout.contains("RewriteCond \"\(map).canary-pages%{REQUEST_URI}.cutover-canary\" -d"), "\(export.stdout)")
        // The weights Apache reads: a link per page to its canary's folder of buckets on Swift.
        let link = try FileManager.default.destinationOfSymbolicLink(atPath: map + ".canary-pages/a.php.cutover-canary")
        #expect(link == map + ".canary-weights/checkout")
        #expect(try FileManager.default.contentsOfDirectory(atPath: link).sorted() == (0..<10).map(String.init).sorted())

        // Refusals name the reason and change nothing.
        let vhost = try await cli.exec("export", "--site", "s", "--db", cli.db)
        #expect(vhost.status != 0 && vhost.stderr.contains("running canaries"), "\(vhost.stderr)")
        let twice = try await cli.exec("canary", "start", "other", "/a.php", "--site", "s", "--db", cli.db)
        #expect(twice.status != 0 && twice.stderr.contains("already in the running canary 'checkout'"), "\(twice.stderr)")
        let tooMuch = try await cli.exec("canary", "weight", "checkout", "150", "--site", "s", "--db", cli.db)
        #expect(tooMuch.status != 0 && tooMuch.stderr.contains("between 0 and 100"), "\(tooMuch.stderr)")
        let badSteps = try await cli.exec("canary", "start", "x", "/c.php", "--steps", "50,5", "--site", "s", "--db", cli.db)
        #expect(badSteps.status != 0 && badSteps.stderr.contains("rising"), "\(badSteps.stderr)")
        let unknown = try await cli.exec("canary", "weight", "nope", "5", "--site", "s", "--db", cli.db)
        #expect(unknown.status != 0 && unknown.stderr.contains("no canary named 'nope'"), "\(unknown.stderr)")

        // Promote: the pages are flipped; the canary is over.
        let promoted = try await cli.exec("canary", "promote", "checkout", "--site", "s", "--db", cli.db)
        #expect(promoted.status == 0 && promoted.stdout.contains("promoted"), "\(promoted.stdout)\(promoted.stderr)")
        let list = try await cli.exec("canary", "list", "--site", "s", "--db", cli.db)
        #expect(list.stdout.contains("canary checkout: promoted, 100 %"), "\(list.stdout)")
        // No canary runs any more: the per-rule form exports again, with the pages as flips.
        let after = try await cli.exec("export", "--site", "s", "--db", cli.db)
        #expect(after.status == 0 && after.stdout.contains("#    /a.php") && after.stdout.contains("#    /b.php"), "\(after.stdout)\(after.stderr)")
    }
}

/// An automatic canary driven from the command line: `check` starts it, analyses the imported
/// log (Swift answering 500s: rolled back, exit 3), writes the map; `show` lists the decisions;
/// `pause` keeps the weight; the refusals of `start --auto` say what is missing.
@Suite struct CanaryCheckCLITests {
    static let format = #"%h %l %u %t "%r" %>s %b %D %R"#

    /// Combined-style lines stamped now: `swift` of them proxied (every tenth of those a 500) and
    /// `php` answered by mod_php.
    static func lines(path: String, swift: Int, php: Int, failEvery: Int) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "dd/MMM/yyyy:HH:mm:ss Z"
        let stamp = formatter.string(from: Date().addingTimeInterval(1))
        var out = ""
        for index in 0..<swift {
            let status = (index + 1) % failEvery == 0 ? 500 : 200
            out += "10.0.0.\(index % 200) - - [\(stamp)] \"GET \(path) HTTP/1.1\" \(status) 120 \(900 + index) proxy-server\n"
        }
        for index in 0..<php {
            out += "10.1.0.\(index % 200) - - [\(stamp)] \"GET \(path) HTTP/1.1\" 200 120 \(300 + index) application/x-httpd-php\n"
        }
        return out
    }

    @Test func checkStartsAnalysesAndRollsBack() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        for page in ["a", "b"] { try cli.folder.write("www/\(page).php", "<?php echo '\(page)';") }
        #expect(try await cli.exec("site", "add", "s", "--docroot", "www", "--db", cli.db).status == 0)
        #expect(try await cli.exec("crawl", "--site", "s", "--db", cli.db).status == 0)
        let map = cli.folder.appending("flips")

        let noMap = try await cli.exec("canary", "start", "c", "/a.php", "--auto", "--site", "s", "--db", cli.db)
        #expect(noMap.status != 0 && noMap.stderr.contains("--auto needs --map-file and --form"), "\(noMap.stderr)")
        let badInterval = try await cli.exec(
            "canary",
            "start",
            "c",
            "/a.php",
            "--auto",
            "--map-file",
            map,
            "--form",
            "tree",
            "--interval",
            "1s",
            "--site",
            "s",
            "--db",
            cli.db
        )
        #expect(badInterval.status != 0 && badInterval.stderr.contains("interval must be between 5 seconds"), "\(badInterval.stderr)")
        let started = try await cli.exec(
            "canary",
            "start",
            "c",
            "/a.php",
            "--auto",
            "--map-file",
            map,
            "--form",
            "tree",
            "--interval",
            "5s",
            "--min-requests",
            "20",
            "--steps",
            "10,50,100",
            "--site",
            "s",
            "--db",
            cli.db
        )
        #expect(started.status == 0 && started.stdout.contains("steps it every 5s"), "\(started.stdout)\(started.stderr)")

        let first = try await cli.exec("canary", "check", "c", "--site", "s", "--db", cli.db)
        #expect(
            first.status == 0 && first.stdout.contains("promote: first step: 0 → 10 %") && first.stdout.contains("wrote \(map)"),
            "\(first.stdout)\(first.stderr)"
        )
        #expect(try String(contentsOfFile: map + ".canaries", encoding: .utf8).contains("/a.php 10\n"))
        let waiting = try await cli.exec("canary", "check", "c", "--site", "s", "--db", cli.db)
        #expect(waiting.status == 0 && waiting.stdout.contains("wait: waiting for traffic: 0 of 20 requests on Swift"), "\(waiting.stdout)")
        // Waiting again at the same weight keeps one row (a step may wait for days).
        #expect(try await cli.exec("canary", "check", "c", "--site", "s", "--db", cli.db).status == 0)
        let twice = try await cli.exec("canary", "show", "c", "--site", "s", "--db", cli.db)
        #expect(twice.stdout.components(separatedBy: "10 %  wait  waiting for traffic").count == 2, "\(twice.stdout)")
        let status = try await cli.exec("status", "--site", "s", "--db", cli.db)
        #expect(status.stdout.contains("canary c: 10 % of visitors on Swift for 1 URLs, stepped automatically"), "\(status.stdout)")
        #expect(status.stdout.contains("    latest: wait: waiting for traffic: 0 of 20 requests on Swift"), "\(status.stdout)")

        // A person's weight: a new step from now, its map written in the same call.
        let manual = try await cli.exec("canary", "weight", "c", "20", "--site", "s", "--db", cli.db)
        #expect(manual.stdout.contains("wrote \(map): Apache follows without a reload"), "\(manual.stdout)\(manual.stderr)")
        #expect(try String(contentsOfFile: map + ".canaries", encoding: .utf8).contains("/a.php 20\n"))

        // A tenth of Swift's answers are 500 (PHP's none), logged after that step began (the
        // window starts with the step): rolled back, exit 3, the map says 0.
        try cli.folder.write("access.log", Self.lines(path: "/a.php", swift: 30, php: 270, failEvery: 10))
        let imported = try await cli.exec(
            "logs",
            "import",
            "--format",
            Self.format,
            cli.folder.appending("access.log"),
            "--site",
            "s",
            "--db",
            cli.db
        )
        #expect(imported.status == 0, "\(imported.stdout)\(imported.stderr)")
        let paused = try await cli.exec("canary", "pause", "c", "--site", "s", "--db", cli.db)
        #expect(paused.status == 0, "\(paused.stderr)")
        let rolledBack = try await cli.exec("canary", "check", "c", "--site", "s", "--db", cli.db)
        #expect(rolledBack.status == 3, "a failing step rolls back even when paused: \(rolledBack.stdout)\(rolledBack.stderr)")
        #expect(
            rolledBack.stdout.contains("rollback: rolled back at 20 %: Swift 5xx 10.0 % (3 of 30) against PHP 0.0 % (0 of 270)"),
            "\(rolledBack.stdout)"
        )
        #expect(!(try String(contentsOfFile: map + ".canaries", encoding: .utf8)).contains("/a.php"))

        let show = try await cli.exec("canary", "show", "c", "--site", "s", "--db", cli.db)
        #expect(show.stdout.contains("canary c: aborted, 0 %") && show.stdout.contains("ended: rolled back at 20 %"), "\(show.stdout)")
        for line in [
            "0 %  rollback", "20 %  manual  paused", "20 %  manual  weight 10 → 20 %", "10 %  wait  waiting for traffic", "10 %  promote  first step",
            "0 %  manual  started over 1 URLs",
        ] {
            #expect(show.stdout.contains(line), "\(line): \(show.stdout)")
        }
    }
}
