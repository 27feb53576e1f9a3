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

        let started = try await cli.exec("canary", "start", "checkout", "/a.php", "/b.php", "--site", "s", "--db", cli.db)
        #expect(
            started.status == 0 && started.stdout.contains("canary checkout: running, 0 % of visitors on Swift, 2 URLs"),
            "\(started.stdout)\(started.stderr)"
        )
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
        #expect(!FileManager.default.fileExists(atPath: cli.folder.appending("fresh.dbm.canaries")))

        // apply writes the weights and the buckets beside the form's map; the export declares both.
        let map = cli.folder.appending("flips")
        #expect(try await cli.exec("apply", "--site", "s", "--form", "tree", "--map-file", map, "--db", cli.db).status == 0)
        #expect(try String(contentsOfFile: map + ".canaries", encoding: .utf8).contains("/a.php 10\n/b.php 10\n"))
        #expect(try String(contentsOfFile: map + ".buckets", encoding: .utf8).contains("bucket 0|1|2|"))
        let export = try await cli.exec("export", "--site", "s", "--form", "tree", "--map-file", map, "--db", cli.db)
        #expect(export.stdout.contains("RewriteMap cutover_s_canary \"txt:\(map).canaries\""), "\(export.stdout)")

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
