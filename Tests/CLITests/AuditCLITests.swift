import CutoverStore
import CutoverTestSupport
import Foundation
import GRDB
import Testing

/// Black-box regressions for the findings of issue 23's audit, through the built binary
/// (`CUTOVER_BIN` runs them against another build), a real SQLite file and the file system.
@Suite struct AuditCLITests {
    /// Finding 2: a link to `/`, to the docroot's parent or into /etc is an exposure, never walked,
    /// read or hashed; a link to an ordinary folder outside the docroot is still followed.
    @Test func linksToTheRootAnAncestorOrAPrivatePlaceAreNeverWalked() throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        try cli.folder.write("site/htdocs/index.php", "<?php echo 1;")
        let htdocs = cli.folder.appending("site/htdocs")
        try cli.folder.write("site/sibling-secret.txt", "a sibling of the docroot")
        try cli.folder.write("assets/app.css", "body{}")
        let links = [
            "r": "/", "up": "..", "upup": cli.folder.appending("site"), "etc": "/etc", "passwd": "/etc/passwd",
            "shared": cli.folder.appending("assets"),
        ]
        for (name, target) in links {
            try FileManager.default.createSymbolicLink(atPath: htdocs + "/" + name, withDestinationPath: target)
        }
        let started = Date()
        let crawl = try cli.run("crawl", "--db", cli.db, "--site", "s", "--docroot", htdocs, "--json")
        #expect(crawl.status == 0, "\(crawl.stderr)")
        #expect(Date().timeIntervalSince(started) < 30, "the crawl walked more than the docroot")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(crawl.stdout.utf8)) as? [String: Any])
        let issues = try #require(report["issues"] as? [[String: Any]])
        let exposures = Set(issues.filter { $0["kind"] as? String == "exposure" }.compactMap { $0["filePath"] as? String })
        #expect(exposures == ["r", "up", "upup", "etc", "passwd"], "\(issues)")
        let message = issues.first { $0["filePath"] as? String == "r" }?["message"] as? String ?? ""
        #expect(message.contains("/r/"), "the finding names the URL prefix Apache would serve: \(message)")

        let urls = try #require(try cli.json("urls", "--db", cli.db, "--site", "s", "--limit", "1000") as? [[String: Any]])
        let paths = Set(urls.compactMap { $0["path"] as? String })
        #expect(paths.contains("/shared/app.css") && paths.contains("/index.php"), "\(paths.sorted().prefix(20))")
        #expect(paths.count < 10, "\(paths.count) URLs: \(paths.sorted().prefix(20))")
        for prefix in ["/r", "/up", "/etc", "/passwd", "/sibling"] {
            #expect(!paths.contains { $0.hasPrefix(prefix) }, "\(prefix): \(paths.sorted().prefix(20))")
        }
    }
}

extension AuditCLITests {
    /// Finding 4: imports of one log at the same time (cron twice, the CLI beside `serve`'s job)
    /// count each line once, and the file is remembered once; the losers say why.
    @Test func concurrentImportsOfOneFileCountEachLineOnce() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        try cli.folder.write("www/index.php")
        #expect(try cli.run("crawl", "--db", cli.db, "--docroot", "www").status == 0)
        let lines = 200_000
        let stamp = "06/Dec/2026:10:00:00 +0000"
        var log = ""
        log.reserveCapacity(lines * 90)
        for index in 0..<lines { log += #"192.0.2.1 - - [\#(stamp)] "GET /p\#(index % 10).php HTTP/1.1" 200 10 "-" "Mozilla/5.0""# + "\n" }
        let path = try cli.folder.write("access.log", log)
        let arguments = ["logs", "import", "--db", cli.db, path]
        let runs = try await withThrowingTaskGroup(of: ProcessResult.self) { group in
            for _ in 0..<4 { group.addTask { try await Subprocess.run(Subprocess.cutoverBinary, arguments, currentDirectory: cli.folder.path) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(runs.contains { $0.status == 0 }, "\(runs.map(\.stderr))")
        for run in runs where run.status != 0 {
            #expect(run.stderr.contains("another import of this file"), "\(run.stderr)")
        }
        let again = try cli.run("logs", "import", "--db", cli.db, path)
        #expect(again.status == 0 && again.stdout.contains("nothing new"), "\(again.stdout)\(again.stderr)")
        let shown = try #require(try cli.json("logs", "show", "--db", cli.db) as? [[String: Any]])
        let hits = shown.compactMap { $0["hits"] as? Int }.reduce(0, +)
        #expect(hits == lines, "\(hits) hits for \(lines) lines")
        let database = try AppDatabase(path: cli.db)
        let siteID = try await database.sites.named("default").id
        let files = try await storeCall { try database.traffic.logFiles(siteID: siteID) }
        #expect(files.count == 1, "\(files)")
    }

    /// Finding 14: an import's last stretch and the requested URLs it adds are one transaction.
    /// A failure inside the URL insert (a trigger stands in for a crash at that instant) and a
    /// kill -9 while the import waits for the write lock both leave nothing behind; the next
    /// import stores the counts and the URLs together (2c917e0 committed the counts first, so
    /// the URLs never joined and re-imports said "nothing new").
    @Test func theLastStretchAndItsRequestedURLsAreStoredTogether() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        try cli.folder.write("www/index.php", "<?php echo 1;")
        #expect(try cli.run("crawl", "--db", cli.db, "--docroot", "www").status == 0)
        var log = ""
        for index in 0..<300 {
            let path = index % 3 == 0 ? "/new-page" : "/index.php"
            log += #"192.0.2.1 - - [06/Dec/2026:10:00:00 +0000] "GET \#(path) HTTP/1.1" 200 10 "-" "Mozilla/5.0""# + "\n"
        }
        let path = try cli.folder.write("access.log", log)
        let queue = try DatabaseQueue(path: cli.db)
        defer { try? queue.close() }
        func stored() throws -> (hits: Int, newPage: Bool, offset: Int) {
            try queue.read { db in
                (
                    try Int.fetchOne(db, sql: "SELECT coalesce(sum(hits), 0) FROM traffic") ?? 0,
                    try Bool.fetchOne(db, sql: "SELECT count(*) > 0 FROM urls WHERE path = '/new-page'") ?? false,
                    try Int.fetchOne(db, sql: "SELECT coalesce(max(offset), 0) FROM log_files") ?? 0
                )
            }
        }

        try await queue.write { db in
            try db.execute(
                sql: """
                    CREATE TRIGGER crash_here AFTER INSERT ON urls WHEN NEW.path = '/new-page'
                    BEGIN SELECT RAISE(ABORT, 'the process dies here'); END
                    """
            )
        }
        let failed = try cli.run("logs", "import", "--db", cli.db, path)
        #expect(failed.status != 0, "\(failed.stdout)")
        let afterFailure = try stored()
        #expect(afterFailure.hits == 0 && !afterFailure.newPage && afterFailure.offset == 0, "\(afterFailure)")
        try await queue.write { db in try db.execute(sql: "DROP TRIGGER crash_here") }

        // kill -9 while the import waits for the write lock this test holds.
        // A second connection holds the lock on its own thread (GRDB closes a transaction with its access).
        let lock = try DatabaseQueue(path: cli.db)
        let locked = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let holder = Thread {
            try? lock.inDatabase { db in
                try db.execute(sql: "BEGIN IMMEDIATE")
                locked.signal()
                release.wait()
                try db.execute(sql: "ROLLBACK")
            }
        }
        holder.start()
        locked.wait()
        let importer = Process()
        importer.executableURL = URL(fileURLWithPath: Subprocess.cutoverBinary)
        importer.arguments = ["logs", "import", "--db", cli.db, path]
        importer.standardOutput = FileHandle.nullDevice
        importer.standardError = FileHandle.nullDevice
        try importer.run()
        try await Task.sleep(for: .seconds(1))
        kill(importer.processIdentifier, SIGKILL)
        importer.waitUntilExit()
        release.signal()
        while !holder.isFinished { try await Task.sleep(for: .milliseconds(10)) }
        try lock.close()
        let none = try stored()
        #expect(none.hits == 0 && !none.newPage && none.offset == 0, "\(none)")

        let imported = try cli.run("logs", "import", "--db", cli.db, path)
        #expect(imported.status == 0, "\(imported.stderr)")
        let after = try stored()
        #expect(after.hits == 300 && after.newPage && after.offset == log.utf8.count, "\(after)")
    }
}

extension AuditCLITests {
    /// Finding 7: visitors' secrets in logged query strings never reach the database (masked as
    /// `***` at import, in query strings and values), except under a declared page key; the
    /// database file is created 0600.
    @Test func secretsInLoggedQueriesAreNeverStored() throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        for file in ["reset.php", "login.php", "search.php", "account.php"] { try cli.folder.write("www/\(file)", "<?php echo 1;") }
        #expect(
            try cli.run("site", "add", "s", "--db", cli.db, "--docroot", "www", "--page-key", "/account.php=code", "--sensitive-key", "Voucher")
                .status == 0
        )
        #expect(try cli.run("crawl", "--db", cli.db, "--site", "s").status == 0)
        let secrets = [
            "9f86d081884c7d659a2feaa0c55ad015", "alice.smith@example.org", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
            "hunter2-is-my-pass", "4fzcXq7Z2kPp1vL0", "SUMMER-SALE",
        ]
        let targets = [
            "/reset.php?token=\(secrets[0])&lang=en", "/login.php?email=\(secrets[1].replacingOccurrences(of: "@", with: "%40"))&next=/home",
            "/search.php?q=\(secrets[2])", "/login.php?user_password=\(secrets[3])", "/login.php?resetToken=\(secrets[4])",
            "/search.php?q=product-12345-blue-widget", "/account.php?code=welcome", "/search.php?voucher=\(secrets[5])",
        ]
        let log = targets.map { #"192.0.2.1 - - [06/Dec/2026:10:00:00 +0000] "GET \#($0) HTTP/1.1" 200 10 "-" "Mozilla/5.0""# }
        let path = try cli.folder.write("access.log", log.joined(separator: "\n") + "\n")
        let imported = try cli.run("logs", "import", "--db", cli.db, "--site", "s", path)
        #expect(imported.status == 0, "\(imported.stderr)")

        // Every byte the database holds, the WAL included.
        var stored = Data()
        for suffix in ["", "-wal"] {
            stored += (FileManager.default.contents(atPath: cli.db + suffix) ?? Data())
        }
        for secret in secrets {
            #expect(stored.range(of: Data(secret.utf8)) == nil, "\(secret) is in the database")
        }
        #expect(stored.range(of: Data("product-12345-blue-widget".utf8)) != nil, "an ordinary value is kept")
        let shown = try #require(try cli.json("logs", "show", "--db", cli.db, "--site", "s", "--path", "/login.php") as? [String: Any])
        let values = (shown["values"] as? [[String: Any]] ?? []).compactMap { $0["value"] as? String }
        #expect(values.contains("***") && values.contains("/home"), "\(values)")
        let pages = try #require(try cli.json("urls", "--db", cli.db, "--site", "s", "--prefix", "/account.php?") as? [[String: Any]])
        #expect(pages.compactMap { $0["path"] as? String } == ["/account.php?code=welcome"], "a declared page key is not masked")

        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: cli.db + suffix) {
            let mode = try FileManager.default.attributesOfItem(atPath: cli.db + suffix)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(suffix.isEmpty ? "the database" : suffix) is \(String(mode ?? 0, radix: 8))")
        }
    }
}

extension AuditCLITests {
    /// Findings 10 and 15: a truncated or corrupt gzip file is an error that stores nothing of
    /// it, even past the first 64 MiB stretch; a sound one, once read, is up to date by a stat.
    @Test func brokenGzipStoresNothingAndAReadOneIsNotDecompressedAgain() throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        try cli.folder.write("www/index.php", "<?php echo 1;")
        #expect(try cli.run("crawl", "--db", cli.db, "--docroot", "www").status == 0)
        // 72 MB of log: more than one 64 MiB stretch.
        var text = ""
        let line = #"192.0.2.1 - - [06/Dec/2026:10:00:00 +0000] "GET /index.php HTTP/1.1" 200 10 "-" "Mozilla/5.0""# + "\n"
        text.reserveCapacity(800_000 * line.utf8.count)
        for _ in 0..<800_000 { text += line }
        let plain = try cli.folder.write("big.log", text)
        #expect(try Subprocess.run("/bin/gzip", ["-kn", plain]).status == 0)
        let sound = try Data(contentsOf: URL(fileURLWithPath: plain + ".gz"))
        try sound.prefix(sound.count - 20).write(to: URL(fileURLWithPath: cli.folder.appending("truncated.log.gz")))
        var corrupt = sound
        corrupt[corrupt.count - 12] ^= 0xFF  // the end of the deflate data: found only after 64 MiB of output
        try corrupt.write(to: URL(fileURLWithPath: cli.folder.appending("corrupt.log.gz")))

        for broken in ["truncated.log.gz", "corrupt.log.gz"] {
            let result = try cli.run("logs", "import", "--db", cli.db, cli.folder.appending(broken))
            #expect(result.status != 0 && result.stderr.contains("gzip data"), "\(broken): \(result.stdout)\(result.stderr)")
            let shown = try #require(try cli.json("logs", "show", "--db", cli.db) as? [[String: Any]])
            #expect(shown.isEmpty, "\(broken) stored \(shown)")
        }
        let first = try cli.run("logs", "import", "--db", cli.db, plain + ".gz")
        #expect(first.status == 0 && first.stdout.contains("800000 requests counted"), "\(first.stdout)\(first.stderr)")
        let again = try cli.run("logs", "import", "--db", cli.db, plain + ".gz")
        #expect(again.stdout.contains("unchanged since it was read whole"), "\(again.stdout)")
    }
}

extension AuditCLITests {
    /// Finding 12: every size the README states is enforced where values enter; nothing is stored.
    @Test func oversizedSettingsAreRefusedWhereTheyEnter() throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        try cli.folder.write("www/index.php", "<?php echo 1;")
        // Under Linux's 128 KiB limit for one argument, far over every bound.
        let big = String(repeating: "a", count: 120_000)
        let cases: [[String]] = [
            ["--front-controller", "/\(big).php"],
            ["--access-log-format", "%h \(big)"],
            ["--page-key", "/index.php=\(big)"],
            ["--page-key", "/\(big).php=id"],
            [
                "--access-log", "/var/log/\(String(repeating: "b", count: 3_000))", "--access-log",
                "/var/log/\(String(repeating: "c", count: 3_000))",
                "--access-log", "/var/log/\(String(repeating: "d", count: 3_000))", "--access-log",
                "/var/log/\(String(repeating: "e", count: 3_000))",
                "--access-log", "/var/log/\(String(repeating: "f", count: 3_000))", "--access-log",
                "/var/log/\(String(repeating: "g", count: 3_000))",
            ],
        ]
        for extra in cases {
            let result = try cli.run(["site", "add", "s", "--db", cli.db, "--docroot", "www"] + extra)
            #expect(result.status != 0, "accepted \(extra.map { String($0.prefix(40)) })")
            #expect(result.stderr.utf8.count < 2_000, "the message is short: \(result.stderr.utf8.count) bytes")
        }
        let sites = try #require(try cli.json("site", "list", "--db", cli.db) as? [Any])
        #expect(sites.isEmpty)
    }

    /// Finding 13: scripts, front controllers and prefixes are normalised or refused; a route
    /// prefix over the whole site, the front controller or static files needs --force and a reason.
    @Test func routePrefixesAndScriptsAreNormalisedOrRefused() throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        for file in ["index.php", "static/site.css", "admin/index.php"] { try cli.folder.write("www/\(file)", "x") }
        for bad in ["/../doku.php", "//index.php", "/doku.php%0A", "/./index.php"] {
            let result = try cli.run("site", "add", "s", "--db", cli.db, "--docroot", "www", "--front-controller", bad)
            #expect(result.status != 0, "front controller \(bad) accepted")
            let key = try cli.run("site", "add", "s", "--db", cli.db, "--docroot", "www", "--page-key", "\(bad)=id")
            #expect(key.status != 0, "page key script \(bad) accepted")
        }
        let suggestion = try cli.run("site", "add", "s", "--db", cli.db, "--docroot", "www", "--front-controller", "//index.php")
        #expect(suggestion.stderr.contains("did you mean /index.php"), "\(suggestion.stderr)")
        #expect(try cli.run("site", "add", "s", "--db", cli.db, "--docroot", "www", "--front-controller", "/index.php").status == 0)
        #expect(try cli.run("crawl", "--db", cli.db, "--site", "s").status == 0)

        for wide in ["/", "/blog/../", "/blog/%2e%2e/", "//", "/static/", "/index"] {
            let result = try cli.run("flip", "--db", cli.db, "--site", "s", "--prefix", wide, "--to", "swift")
            #expect(result.status != 0 && result.stderr.contains("--force"), "\(wide): \(result.stdout)\(result.stderr)")
        }
        let noReason = try cli.run("flip", "--db", cli.db, "--site", "s", "--prefix", "/", "--to", "swift", "--force")
        #expect(noReason.status != 0, "force without a reason")
        let above = try cli.run("flip", "--db", cli.db, "--site", "s", "--prefix", "/../", "--to", "swift")
        #expect(above.status != 0 && above.stderr.contains("not a URL path"), "\(above.stderr)")
        let blog = try cli.run("flip", "--db", cli.db, "--site", "s", "--prefix", "/blog/./x/../", "--to", "swift")
        #expect(blog.status == 0 && blog.stdout.contains("/blog/*"), "\(blog.stdout)\(blog.stderr)")
        let forced = try cli.run("flip", "--db", cli.db, "--site", "s", "--prefix", "/", "--to", "swift", "--force", "--reason", "root cutover")
        #expect(forced.status == 0, "\(forced.stderr)")
        let export = try cli.run("export", "--db", cli.db, "--site", "s")
        #expect(export.status == 0 && export.stdout.contains("#    /blog/*"), "\(export.stderr)")
    }
}

extension AuditCLITests {
    /// Finding 18: with `%R` in the LogFormat, mod_rewrite's `redirect-handler` (the app's own
    /// rules sent the request to its front controller) is PHP's on a front-controller site, and
    /// not attributed at all elsewhere (it was "served by neither").
    @Test func redirectHandlerIsThePHPFrontControllerWhereThereIsOne() throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        try cli.folder.write("www/index.php", "<?php echo 1;")
        let format = #"%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\" %R"#
        let lines = [
            "/blog/hello/ HTTP/1.1\" 200 10 \"-\" \"Mozilla/5.0\" redirect-handler", "/new/ HTTP/1.1\" 200 10 \"-\" \"Mozilla/5.0\" proxy-server",
        ]
        .map { #"192.0.2.1 - - [06/Dec/2026:10:00:00 +0000] "GET "# + $0 }
        let log = try cli.folder.write("access.log", lines.joined(separator: "\n") + "\n")
        for (site, frontController) in [("wp", ["--front-controller", "/index.php"]), ("plain", [])] {
            let add = try cli.run(["site", "add", site, "--db", cli.db, "--docroot", "www", "--access-log-format", format] + frontController)
            #expect(add.status == 0, "\(add.stderr)")
            let imported = try cli.run("logs", "import", "--db", cli.db, "--site", site, log)
            #expect(imported.status == 0, "\(imported.stderr)")
            let rows = try #require(try cli.json("logs", "show", "--db", cli.db, "--site", site) as? [[String: Any]])
            let blog = try #require(rows.first { $0["path"] as? String == "/blog/hello/" })
            if site == "wp" {
                #expect(blog["attributed"] as? Int == 1 && blog["servedPHP"] as? Int == 1, "\(blog)")
            } else {
                #expect(blog["attributed"] as? Int == 0 && blog["servedPHP"] as? Int == 0, "\(blog)")
            }
            #expect(rows.first { $0["path"] as? String == "/new/" }?["servedSwift"] as? Int == 1)
        }
    }

    /// Finding 19, in part: a URL with credentials is refused where it enters (settings are open
    /// reads on loopback); a weak token or a token file others can read draws a warning at start.
    @Test func credentialsInURLsAreRefusedAndWeakTokensWarned() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        try cli.folder.write("www/index.php", "<?php echo 1;")
        for option in ["--backend-url", "--site-url"] {
            let result = try cli.run("site", "add", "s", "--db", cli.db, "--docroot", "www", option, "http://admin:hunter2@127.0.0.1:9")
            #expect(result.status != 0 && result.stderr.contains("credentials"), "\(option): \(result.stderr)")
        }
        let tokenFile = try cli.folder.write("token", "abc\n")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: tokenFile)
        let port = try FreePort.find()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: Subprocess.cutoverBinary)
        server.arguments = ["serve", "--db", cli.db, "--port", String(port), "--token-file", tokenFile, "--public", cli.folder.path]
        let errors = Pipe()
        server.standardError = errors
        server.standardOutput = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { server.terminate() } }
        // Reading blocks until output or the end: the server is stopped after 15 s whatever it said.
        DispatchQueue.global().asyncAfter(deadline: .now() + 15) { if server.isRunning { server.terminate() } }
        var said = ""
        while !(said.contains("chmod 600") && said.contains("at least 16")) {
            let chunk = errors.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            said += String(decoding: chunk, as: UTF8.self)
        }
        #expect(said.contains("3 characters") && said.contains("at least 16"), "\(said)")
        #expect(said.contains("can be read by other users") && said.contains("chmod 600"), "\(said)")
        server.terminate()
        server.waitUntilExit()
    }
}
