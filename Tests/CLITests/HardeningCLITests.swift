import CutoverTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite struct HardeningCLITests {
    /// `crawl --docroot` moves the docroot and nothing else.
    @Test func crawlWithDocrootKeepsTheOtherSettings() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        try cli.folder.write("one/index.php", "x")
        try cli.folder.write("two/index.php", "x")
        let add = try cli.run(
            "site",
            "add",
            "s",
            "--db",
            cli.db,
            "--docroot",
            cli.folder.appending("one"),
            "--crawl-every",
            "15m",
            "--owner-header",
            "X-Owner",
            "--probe-retention",
            "7",
            "--directory-index",
            "index.php default.php",
            "--backend-url",
            "http://127.0.0.1:9999"
        )
        #expect(add.status == 0, "\(add.stderr)")
        let crawl = try cli.run("crawl", "--db", cli.db, "--site", "s", "--docroot", cli.folder.appending("two"))
        #expect(crawl.status == 0, "\(crawl.stderr)")
        let sites = try #require(try cli.json("site", "list", "--db", cli.db) as? [[String: Any]])
        let site = try #require(sites.first)
        #expect(site["docroot"] as? String == cli.folder.appending("two"))
        #expect(site["crawlEvery"] as? String == "15m")
        #expect(site["ownerHeader"] as? String == "X-Owner")
        #expect(site["probeRetention"] as? Int == 7)
        #expect(site["directoryIndex"] as? [String] == ["index.php", "default.php"])
        #expect(site["backendURL"] as? String == "http://127.0.0.1:9999")
    }

    /// Terminal control sequences in file names are printed as `\xHH` in text output; JSON stays exact.
    @Test func controlCharactersInNamesAreEscapedInText() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        try cli.folder.write("www/index.php", "x")
        let hostile = "evil\u{1B}]0;pwned\u{07}\u{1B}[2J\u{9B}31m.php"
        #expect(mkfifo(cli.folder.appending("www/" + hostile), 0o644) == 0)
        let text = try cli.run("crawl", "--db", cli.db, "--docroot", cli.folder.appending("www"))
        #expect(text.status == 0, "\(text.stderr)")
        #expect(!text.stdout.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x9B }, "\(text.stdout.debugDescription)")
        #expect(text.stdout.contains(#"evil\x1B]0;pwned\x07\x1B[2J\x9B31m.php"#), "\(text.stdout)")
        let json = try #require(try cli.json("crawl", "--db", cli.db, "--docroot", cli.folder.appending("www")) as? [String: Any])
        let issues = try #require(json["issues"] as? [[String: Any]])
        #expect(issues.contains { $0["filePath"] as? String == hostile }, "\(issues)")
    }

    /// A front controller named in the docroot's `.htaccess` is text from the docroot too:
    /// `status` shows it with its control characters made visible (every CLI line passes
    /// through `print` in Output.swift).
    @Test func detectedFrontControllerIsEscapedInStatus() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        try cli.folder.write("www/index.php", "x")
        try cli.folder.write("www/.htaccess", "RewriteEngine On\nRewriteRule . /in\u{1B}[2Jdex.php [L]\n")
        #expect(try cli.run("crawl", "--db", cli.db, "--docroot", cli.folder.appending("www")).status == 0)
        let status = try cli.run("status", "--db", cli.db)
        #expect(status.stdout.contains(#"front controller /in\x1B[2Jdex.php: detected, not confirmed"#), "\(status.stdout)")
        #expect(!status.stdout.unicodeScalars.contains { $0.value == 0x1B }, "\(status.stdout.debugDescription)")
    }

    /// A database from a newer Cutover: one clear line, no SQL, nothing written.
    @Test func newerDatabaseIsOneClearLine() async throws {
        let cli = try CLI()
        defer { cli.cleanup() }
        try cli.folder.write("www/index.php", "x")
        #expect(try cli.run("crawl", "--db", cli.db, "--docroot", cli.folder.appending("www")).status == 0)
        await #expect(
            try Subprocess.run(
                "/usr/bin/python3",
                [
                    "-c",
                    "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"INSERT INTO grdb_migrations VALUES ('0099_future')\"); c.commit()",
                    cli.db,
                ]
            ).status == 0
        )
        for arguments in [["crawl", "--db", cli.db], ["status", "--db", cli.db], ["serve", "--db", cli.db, "--port", "0"]] {
            let result = try await Subprocess.run(Subprocess.cutoverBinary, arguments, currentDirectory: cli.folder.path)
            #expect(result.status != 0)
            #expect(result.stderr.contains("written by a newer Cutover: migrations 0099_future unknown"), "\(result.stderr)")
            #expect(!result.stderr.contains("SELECT") && result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        }
    }
}

/// Reading commands on a database the user cannot write (a read-only file, folder or mount).
@Suite(.enabled(if: Integration.isRoot || Integration.isCI, "needs root to switch to the 'nobody' user"))
struct ReadOnlyDatabaseTests {
    @Test func readingCommandsWorkWithoutWriteAccess() async throws {
        let folder = try TemporaryDirectory(prefix: "readonly")
        defer { folder.remove() }
        let binary = try UnreadableTests().unprivilegedCLI(in: folder)
        try folder.write("www/index.php", "<?php echo 1;")
        try folder.write("www/about.php", "<?php echo 2;")
        let db = folder.appending("data/cutover.sqlite")
        try FileManager.default.createDirectory(atPath: folder.appending("data"), withIntermediateDirectories: true)
        await #expect(try Subprocess.run(binary, ["crawl", "--db", db, "--site", "s", "--docroot", folder.appending("www")]).status == 0)
        await #expect(try Subprocess.run(binary, ["flip", "--db", db, "--site", "s", "/about.php", "--to", "swift"]).status == 0)
        // Owned by root, readable by all, writable by none but root; the WAL files are gone after a clean close.
        try await Subprocess.run("/bin/chmod", ["755", folder.path, folder.appending("data")])
        try await Subprocess.run("/bin/chmod", ["644", db])
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        func asNobody(_ arguments: [String]) throws -> ProcessResult {
            try Subprocess.run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", binary] + arguments, currentDirectory: "/")
        }
        let status = try asNobody(["status", "--db", db, "--site", "s"])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("php"), "\(status.stdout)")
        let urls = try asNobody(["urls", "--db", db, "--site", "s"])
        #expect(urls.status == 0 && urls.stdout.contains("/about.php"), "\(urls.stderr)")
        let list = try asNobody(["site", "list", "--db", db])
        #expect(list.status == 0 && list.stdout.contains("s\t"), "\(list.stderr)")
        let export = try asNobody(["export", "--db", db, "--site", "s"])
        #expect(export.status == 0 && export.stdout.contains("about\\.php"), "\(export.stderr)")
        #expect(export.stderr.contains("not stored"))
        let preview = try asNobody(["export", "--db", db, "--site", "s", "--preview"])
        #expect(preview.status == 0, "\(preview.stderr)")
        // A write is refused clearly, and the file is untouched.
        let flip = try asNobody(["flip", "--db", db, "--site", "s", "/index.php", "--to", "swift"])
        #expect(flip.status != 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
        #expect(!FileManager.default.fileExists(atPath: db + "-wal"))
    }
}
