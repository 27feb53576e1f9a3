import CutoverTestSupport
import Foundation
import Testing

@Suite struct ProbeSkipCLITests {
    /// A new site gets the usual side-effect scripts on its probe deny-list; the list is replaced,
    /// cleared, and refused when a glob is not a URL path.
    @Test func theProbeDenyListIsSetClearedAndChecked() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        try cli.folder.write("www/index.php", "<?php echo 1;")
        #expect(try await cli.exec("site", "add", "s", "--docroot", "www", "--db", cli.db).status == 0)
        func skip() async throws -> [String] {
            let sites = try await cli.execJSON("site", "list", "--db", cli.db) as? [[String: Any]]
            return sites?.first?["probeSkip"] as? [String] ?? ["?"]
        }
        #expect(try await skip().contains("*cron*.php"))
        #expect(try await cli.exec("site", "set", "s", "--probe-skip", "/jobs/*", "--probe-skip", "*/reindex.php", "--db", cli.db).status == 0)
        #expect(try await skip() == ["/jobs/*", "*/reindex.php"])
        let bad = try await cli.exec("site", "set", "s", "--probe-skip", "jobs/*", "--db", cli.db)
        #expect(bad.status != 0 && bad.stderr.contains("probe skip"), "\(bad.stderr)")
        #expect(try await skip() == ["/jobs/*", "*/reindex.php"])
        #expect(try await cli.exec("site", "set", "s", "--no-probe-skip", "--db", cli.db).status == 0)
        #expect(try await skip() == [])
    }
}

@Suite struct ParitySettingsCLITests {
    /// Parity's ignore rules, masks, thresholds and schedule are site settings: set, replaced,
    /// cleared, and a mask that is no regular expression is refused with nothing stored.
    @Test func paritySettingsAreSetClearedAndChecked() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        try cli.folder.write("www/index.php", "<?php echo 1;")
        #expect(try await cli.exec("site", "add", "s", "--docroot", "www", "--db", cli.db).status == 0)
        func parity() async throws -> [String: Any] {
            let sites = try await cli.execJSON("site", "list", "--db", cli.db) as? [[String: Any]]
            return sites?.first?["parity"] as? [String: Any] ?? [:]
        }
        let set = try await cli.exec(
            "site",
            "set",
            "s",
            "--parity-ignore",
            "header:vary",
            "--parity-ignore",
            "html/body/footer",
            "--parity-mask",
            "[0-9]{10}",
            "--parity-noise-share",
            "0.3",
            "--parity-noise-minimum",
            "8",
            "--parity-scheduled",
            "true",
            "--db",
            cli.db
        )
        #expect(set.status == 0, "\(set.stderr)")
        var stored = try await parity()
        #expect(stored["ignore"] as? [String] == ["header:vary", "html/body/footer"] && stored["masks"] as? [String] == ["[0-9]{10}"])
        #expect(stored["siteNoiseShare"] as? Double == 0.3 && stored["siteNoiseMinimum"] as? Int == 8 && stored["scheduled"] as? Bool == true)
        let bad = try await cli.exec("site", "set", "s", "--parity-mask", "([0-9]", "--db", cli.db)
        #expect(bad.status != 0 && bad.stderr.contains("not a valid regular expression"), "\(bad.stderr)")
        #expect(try await parity()["masks"] as? [String] == ["[0-9]{10}"])
        #expect(try await cli.exec("site", "set", "s", "--no-parity-ignore", "--no-parity-masks", "--db", cli.db).status == 0)
        stored = try await parity()
        #expect(stored["ignore"] as? [String] == [] && stored["masks"] as? [String] == [] && stored["siteNoiseMinimum"] as? Int == 8)
    }
}

@Suite struct ParityHeaderCLITests {
    /// A test account's cookie for parity: set under a prefix, listed masked (never in full, in
    /// text or JSON), refused when it could split a request, removed.
    @Test func parityHeadersAreSetListedMaskedAndRemoved() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        try cli.folder.write("www/index.php", "<?php echo 1;")
        #expect(try await cli.exec("site", "add", "s", "--docroot", "www", "--db", cli.db).status == 0)
        let set = try await cli.exec(
            "site",
            "parity-header",
            "s",
            "--prefix",
            "/account/",
            "--set",
            "Cookie: PHPSESSID=secret-session-value",
            "--db",
            cli.db
        )
        #expect(set.status == 0 && set.stdout.contains("Cookie: PHPS…") && !set.stdout.contains("secret-session"), "\(set.stdout)")
        let listed = try await cli.exec("site", "parity-header", "s", "--db", cli.db)
        #expect(listed.stdout.contains("/account/  Cookie: PHPS…") && !listed.stdout.contains("secret-session"), "\(listed.stdout)")
        let json = try await cli.exec("site", "parity-header", "s", "--db", cli.db, "--json")
        #expect(json.stdout.contains("PHPS…") && !json.stdout.contains("secret-session"), "\(json.stdout)")
        for bad in [["--set", "Host: evil"], ["--set", "X-Cutover-Side: swift;x"], ["--set", "Cookie: a\u{7F}b"], ["--set", "no colon"]] {
            let refused = try await cli.exec(["site", "parity-header", "s", "--prefix", "/a/"] + bad + ["--db", cli.db])
            #expect(refused.status != 0, "\(bad)")
        }
        let relative = try await cli.exec("site", "parity-header", "s", "--prefix", "account", "--set", "Cookie: a=b", "--db", cli.db)
        #expect(relative.status != 0 && relative.stderr.contains("must be a URL path"), "\(relative.stderr)")
        let removed = try await cli.exec("site", "parity-header", "s", "--prefix", "/account/", "--remove", "cookie", "--db", cli.db)
        #expect(removed.stdout.contains("1 parity headers removed"), "\(removed.stdout)")
        #expect(try await cli.exec("site", "parity-header", "s", "--db", cli.db).stdout.contains("no parity headers"))
    }
}

@Suite struct ParityFixturesCLITests {
    /// `parity fixtures` writes what it could fetch and an index, names each page it could not
    /// with the reason (nothing answers this site's URL), exits 3, and never asks a deny-listed
    /// page; `parity PATHS` (the default subcommand) still compares.
    @Test func pagesThatCannotBeFetchedAreNamedAndTheIndexIsWritten() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        try cli.folder.write("www/index.php", "<?php echo 1;")
        try cli.folder.write("www/cron.php", "<?php echo 1;")
        #expect(
            try await cli.exec("site", "add", "s", "--docroot", "www", "--site-url", "http://127.0.0.1:9", "--db", cli.db).status == 0
        )
        #expect(try await cli.exec("crawl", "--site", "s", "--db", cli.db).status == 0)
        let out = cli.folder.appending("fixtures")
        let made = try await cli.exec("parity", "fixtures", "--site", "s", "--out", out, "--timeout", "2", "--db", cli.db)
        #expect(made.status == 3, "\(made.stdout) \(made.stderr)")
        #expect(made.stdout.contains("error        /index.php: php side:"), "\(made.stdout)")
        #expect(made.stdout.contains("not fetched  /cron.php: on the probe's deny-list"), "\(made.stdout)")
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/index.json"))) as? [String: String]
        #expect(index == [:])
        let compared = try await cli.exec("parity", "/index.php", "--site", "s", "--timeout", "2", "--db", cli.db)
        #expect(compared.status == 3 && compared.stdout.contains("parity run #1: 1 pages: 1 error"), "\(compared.stdout)")
    }
}

@Suite struct FlipTargetCLITests {
    /// `flip --to` offers what a flip can do: swift or php. Static files are files, not a plan.
    @Test func flipOffersOnlySwiftAndPHP() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        let help = try await cli.exec("flip", "--help")
        let words = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(words.contains("(values: swift, php)"), "\(help.stdout)")
        let refused = try await cli.exec("flip", "/a.php", "--to", "static", "--db", cli.db)
        #expect(refused.status != 0 && refused.stderr.contains("'swift' and 'php'"), "\(refused.stderr)")
    }
}

@Suite struct ImportWordsCLITests {
    /// Requested URLs without a file are the front controller's routes on such a site, the Swift
    /// fallback's elsewhere; the import says which (it said "owned by the fallback" for both).
    @Test func requestedURLsAreNamedByWhoAnswersThem() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        try cli.folder.write("www/index.php", "<?php echo 1;")
        let line = #"192.0.2.1 - - [06/Dec/2026:10:00:00 +0000] "GET /hello/ HTTP/1.1" 200 10 "-" "Mozilla/5.0""# + "\n"
        let log = try cli.folder.write("access.log", line)
        for (frontController, words) in [(nil, "owned by the Swift fallback"), ("/index.php", "routes of the front controller /index.php, PHP's")] {
            let db = cli.folder.appending("\(frontController == nil ? "plain" : "fc").sqlite")
            #expect(
                try await cli.exec(
                    ["site", "add", "s", "--docroot", "www", "--db", db] + (frontController.map { ["--front-controller", $0] } ?? [])
                ).status
                    == 0
            )
            #expect(try await cli.exec("crawl", "--site", "s", "--db", db).status == 0)
            let imported = try await cli.exec("logs", "import", "--site", "s", log, "--db", db)
            #expect(imported.stdout.contains("1 requested URLs without a file added to the inventory (\(words))"), "\(imported.stdout)")
        }
    }
}

@Suite struct RestorePlanCLITests {
    /// Printing an old export says when it was made from another plan, and `--restore-plan`
    /// makes that plan today's again (flips back and forth, each an ownership event).
    @Test func anOldExportOffersItsPlanAndRestoresIt() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        for page in ["a", "b", "c"] { try cli.folder.write("www/\(page).php", "<?php echo 1;") }
        #expect(try await cli.exec("crawl", "--docroot", "www", "--db", cli.db).status == 0)
        #expect(try await cli.exec("flip", "/a.php", "--to", "swift", "--reason", "ported", "--db", cli.db).status == 0)
        #expect(try await cli.exec("export", "--db", cli.db, "-o", cli.folder.appending("one.conf")).status == 0)
        #expect(try await cli.exec("flip", "/a.php", "--to", "php", "--reason", "bug", "--db", cli.db).status == 0)
        #expect(try await cli.exec("flip", "/b.php", "/c.php", "--to", "swift", "--reason", "ported", "--db", cli.db).status == 0)
        #expect(try await cli.exec("export", "--db", cli.db, "-o", cli.folder.appending("two.conf")).status == 0)

        let old = try await cli.exec("export", "--id", "1", "--db", cli.db)
        #expect(old.status == 0 && old.stdout.contains(#"RewriteRule "^/a\.php$""#), "\(old.stdout)")
        #expect(
            old.stderr.contains("export #1 was made from another plan (1 pages on Swift there") && old.stderr.contains("--restore-plan"),
            "\(old.stderr)"
        )
        let latest = try await cli.exec("export", "--id", "2", "--db", cli.db)
        #expect(latest.stderr.isEmpty, "\(latest.stderr)")

        let restored = try await cli.exec("export", "--id", "1", "--restore-plan", "--db", cli.db)
        #expect(restored.stdout.contains("1 pages to Swift, 2 back to PHP"), "\(restored.stdout)\(restored.stderr)")
        let swift = try #require(try await cli.execJSON("urls", "--db", cli.db) as? [[String: Any]])
            .filter { $0["plannedOwner"] as? String == "swift" }.compactMap { $0["path"] as? String }
        #expect(swift == ["/a.php"])
        #expect(try await cli.exec("export", "--id", "1", "--db", cli.db).stderr.isEmpty)
        #expect(try await cli.exec("export", "--restore-plan", "--db", cli.db).status != 0)
    }
}

@Suite struct DashboardFolderCLITests {
    /// `serve` started outside the source tree finds its dashboard beside the binary (as a
    /// package installs it) and refuses, in one line, when there is none anywhere.
    @Test func serveFindsItsDashboardOrRefuses() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        let refused = try await Subprocess.run(
            Subprocess.cutoverBinary,
            ["serve", "--db", cli.db, "--port", "0"],
            currentDirectory: cli.folder.path
        )
        #expect(refused.status != 0 && refused.stderr.contains("the dashboard's files are not found"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("Usage"))
        let missing = try await Subprocess.run(Subprocess.cutoverBinary, ["serve", "--db", cli.db, "--public", cli.folder.appending("none")])
        #expect(missing.status != 0 && missing.stderr.contains("is not a folder"), "\(missing.stderr)")

        // Installed: bin/cutover with share/cutover/Public beside it.
        try FileManager.default.createDirectory(atPath: cli.folder.appending("usr/bin"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Subprocess.cutoverBinary, toPath: cli.folder.appending("usr/bin/cutover"))
        try cli.folder.write("usr/share/cutover/Public/index.html", "<!doctype html><title>installed dashboard</title>")
        let port = try FreePort.find()
        // The copy was open for writing a moment ago: a process another test forked meanwhile
        // may still hold that descriptor until it execs, and Linux then refuses to run the file
        // (ETXTBSY, "Text file busy"). Try again briefly, with a new Process each time.
        var started: Process?
        for attempt in 1...50 where started == nil {
            let server = Process()
            server.executableURL = URL(fileURLWithPath: cli.folder.appending("usr/bin/cutover"))
            server.arguments = ["serve", "--db", cli.db, "--port", String(port)]
            server.currentDirectoryURL = URL(fileURLWithPath: "/")
            server.standardOutput = FileHandle.nullDevice
            server.standardError = FileHandle.nullDevice
            do {
                try server.run()
                started = server
            } catch let error as CocoaError where (error.userInfo[NSUnderlyingErrorKey] as? NSError)?.code == Int(ETXTBSY) && attempt < 50 {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        let server = try #require(started)
        defer { if server.isRunning { server.terminate() } }
        var page = ""
        for _ in 0..<200 where !page.contains("installed dashboard") {
            try await Task.sleep(for: .milliseconds(50))
            page = (try? await RawHTTP.send(port: port, method: "GET", path: "/").body) ?? ""
        }
        #expect(page.contains("installed dashboard"), "\(page)")
    }
}
