import AsyncHTTPClient
import CutoverTestSupport
import Foundation
import Testing

/// `cutover install` against a real Apache laid out like Debian's (sites-enabled links, two
/// vhosts on one port, an Alias outside the docroot), through the built binary.
@Suite(.enabled(if: Integration.enabled, "needs apache2 and libapache2-mod-php (always runs when CI=true)"))
struct InstallTests {
    /// Two sites on one port: the blog is read first (Apache's default server for the port), the
    /// shop answers to `localhost`, the site URL's host.
    static func sites(www: String, extra: [(String, String)] = []) -> [(String, String)] {
        [
            (
                "000-blog.conf",
                """
                <VirtualHost *:{PORT}>
                    ServerName blog.example
                    DocumentRoot \(www)/blog
                </VirtualHost>

                """
            ),
            (
                "shop.conf",
                """
                <VirtualHost *:{PORT}>
                    ServerName localhost
                    ServerAlias www.shop.example
                    DocumentRoot \(www)/shop
                    Alias /media \(www)/../media
                </VirtualHost>

                """
            ),
        ] + extra
    }

    struct Fixture {
        let folder: TemporaryDirectory
        let apache: DebianApache
        let backend: RecordingBackend
        var db: String { folder.appending("cutover.sqlite") }

        init(extraSites: (String) -> [(String, String)] = { _ in [] }) async throws {
            folder = try TemporaryDirectory(prefix: "install")
            let www = folder.appending("www")
            try folder.write("www/shop/index.php", "<?php echo 'shop';")
            try folder.write("www/shop/contact.php", "<?php echo 'contact';")
            try folder.write("www/shop/about.php", "<?php echo 'about';")
            try folder.write("www/blog/index.php", "<?php echo 'blog';")
            try folder.write("media/logo.txt", "logo")
            apache = try DebianApache(sites: InstallTests.sites(www: www, extra: extraSites(www)))
            let started = apache
            try await offPool { try started.start() }
            backend = RecordingBackend()
            try await backend.start()
            try await run(["site", "add", "shop", "--docroot", "\(www)/shop", "--site-url", apache.baseURL, "--backend-url", backend.baseURL])
            try await run(["crawl", "--site", "shop"])
        }

        @discardableResult
        func run(_ arguments: [String], expecting status: Int32? = 0) async throws -> ProcessResult {
            // Awaited, never blocking a thread: the backend answering Apache runs in this process.
            let result = try await Subprocess.run(Subprocess.cutoverBinary, arguments + ["--db", db], environment: apache.environment)
            if let status {
                #expect(result.status == status, "cutover \(arguments.joined(separator: " ")): \(result.stdout)\(result.stderr)")
            }
            return result
        }

        func file(_ relative: String) throws -> String { try String(contentsOfFile: apache.confdir + "/" + relative, encoding: .utf8) }

        /// A fresh connection's answer to `path` on the site: status, handler, export stamp.
        func answer(_ path: String) async throws -> (status: Int, handler: String?, export: String?) {
            var request = HTTPClientRequest(url: apache.baseURL + path)
            request.headers.add(name: "Connection", value: "close")
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            _ = try await response.body.collect(upTo: 1 << 20)
            return (Int(response.status.code), response.headers.first(name: "X-Cutover-Handler"), response.headers.first(name: "X-Cutover-Export"))
        }

        func close() async {
            await backend.stop()
            apache.shutdown()
            folder.remove()
        }
    }

    /// The include goes into the vhost that serves the site URL (not the port's default server),
    /// in the real file behind the sites-enabled link, once; the flipped page is Swift's live.
    @Test func installIncludesTheExportInTheVhostThatServesTheSite() async throws {
        let fixture = try await Fixture()
        do {
            let blogBefore = try fixture.file("sites-available/000-blog.conf")
            let shopBefore = try fixture.file("sites-available/shop.conf")
            try await fixture.run(["flip", "/contact.php", "--to", "swift", "--site", "shop", "--reason", "ported"])
            // Before: PHP answers, with no marker (the export adds it).
            #expect(try await fixture.answer("/contact.php").handler == nil)

            let dry = try await fixture.run(["install", "--site", "shop", "--dry-run"])
            #expect(dry.stdout.contains("sites-enabled/shop.conf:1") && dry.stdout.contains("would add"), "\(dry.stdout)")
            #expect(try fixture.file("sites-available/shop.conf") == shopBefore)
            #expect(!FileManager.default.fileExists(atPath: fixture.apache.confdir + "/cutover/shop.conf"))

            let installed = try await fixture.run(["install", "--site", "shop"])
            #expect(installed.stdout.contains("live and verified"), "\(installed.stdout)")
            let shop = try fixture.file("sites-available/shop.conf")
            let include = "Include \"\(fixture.apache.confdir)/cutover/shop.conf\""
            #expect(shop.components(separatedBy: include).count == 2, "\(shop)")
            #expect(shop.range(of: include)!.lowerBound < shop.range(of: "</VirtualHost>")!.lowerBound)
            #expect(try fixture.file("sites-available/000-blog.conf") == blogBefore)
            let link = try FileManager.default.destinationOfSymbolicLink(atPath: fixture.apache.confdir + "/sites-enabled/shop.conf")
            #expect(link == "../sites-available/shop.conf")
            let live = try await fixture.answer("/contact.php")
            #expect(live.status == 200 && live.handler == "proxy-server" && live.export == "1", "\(live)")
            #expect(try await fixture.answer("/about.php").handler?.contains("php") == true)

            // Again: nothing to add, the include stays single, still verified.
            let again = try await fixture.run(["install", "--site", "shop"])
            #expect(again.stdout.contains("already includes"), "\(again.stdout)")
            #expect(try fixture.file("sites-available/shop.conf") == shop)
        } catch {
            Issue.record(error)
        }
        await fixture.close()
    }

    /// An `Alias` outside the docroot (#24.3): files Apache serves from there were requested URLs
    /// without a file, the fallback's by the inventory, and every probe reported them as drift.
    /// `install` takes the vhost's Alias into the site, the crawl walks it at its URL prefix,
    /// and three probes in a row find no drift; a missing file there is never a page.
    @Test func theVhostsAliasIsCrawledAtItsPrefixAndNeverDrifts() async throws {
        let fixture = try await Fixture()
        do {
            #expect(try await fixture.answer("/media/logo.txt").status == 200)
            let log = fixture.folder.appending("access.log")
            try ["/media/logo.txt", "/media/logo.txt", "/media/gone.png", "/contact.php"].map {
                #"192.0.2.1 - - [02/Dec/2026:10:00:00 +0000] "GET \#($0) HTTP/1.1" \#($0.hasSuffix(".png") ? 200 : 200) 10 "-" "Mozilla/5.0""#
            }.joined(separator: "\n").appending("\n").write(toFile: log, atomically: true, encoding: .utf8)
            try await fixture.run(["logs", "import", "--site", "shop", log])

            let installed = try await fixture.run(["install", "--site", "shop"])
            #expect(installed.stdout.contains("took the vhost's Alias /media -> "), "\(installed.stdout)")
            try await fixture.run(["crawl", "--site", "shop"])
            let media = try #require(try await fixture.run(["urls", "--site", "shop", "--prefix", "/media/", "--json"]).stdout.data(using: .utf8))
            let rows = try #require(try JSONSerialization.jsonObject(with: media) as? [[String: Any]])
            let byPath = Dictionary(uniqueKeysWithValues: rows.map { ($0["path"] as? String ?? "", $0) })
            #expect(byPath["/media/logo.txt"]?["owner"] as? String == "static", "\(rows)")
            #expect((byPath["/media/gone.png"]?["flags"] as? [String])?.contains("never-a-page") == true, "\(rows)")
            for _ in 0..<3 {
                let probe = try await fixture.run(["probe", "--site", "shop"])
                #expect(!probe.stdout.contains("drift /media"), "\(probe.stdout)")
            }
            let status = try await fixture.run(["status", "--site", "shop"])
            #expect(!status.stdout.contains("drift /media"), "\(status.stdout)")
            // The runs by number, never an optional's description.
            #expect(status.stdout.contains("last probe #") && !status.stdout.contains("Optional("), "\(status.stdout)")
        } catch {
            Issue.record(error)
        }
        await fixture.close()
    }

    /// Two vhosts with the same name on one port (`shop.conf` is read before `shop2.conf`, so
    /// Apache uses it): refused with both listed, nothing changed.
    /// `--vhost` picks one: the one Apache uses verifies; the shadowed one never carries the new
    /// export's stamp, so that install rolls itself back.
    @Test func anAmbiguousMatchIsRefusedAndAWrongPickRollsBack() async throws {
        let fixture = try await Fixture { www in
            [("shop2.conf", "<VirtualHost *:{PORT}>\n    ServerName localhost\n    DocumentRoot \(www)/shop\n</VirtualHost>\n")]
        }
        do {
            let copyBefore = try fixture.file("sites-available/shop2.conf")
            let refused = try await fixture.run(["install", "--site", "shop"], expecting: 1)
            #expect(refused.stderr.contains("2 <VirtualHost> blocks answer to localhost"), "\(refused.stderr)")
            #expect(refused.stderr.contains("sites-enabled/shop.conf:1") && refused.stderr.contains("sites-enabled/shop2.conf:1"))
            #expect(!FileManager.default.fileExists(atPath: fixture.apache.confdir + "/cutover/shop.conf"))

            let wrong = try await fixture.run(
                ["install", "--site", "shop", "--vhost", fixture.apache.confdir + "/sites-enabled/shop2.conf:1", "--verify-seconds", "2"],
                expecting: 4
            )
            #expect(wrong.stderr.contains("rolled back") && wrong.stderr.contains("no answer carried export #1"), "\(wrong.stderr)")
            #expect(try fixture.file("sites-available/shop2.conf") == copyBefore)
            #expect(!FileManager.default.fileExists(atPath: fixture.apache.confdir + "/cutover/shop.conf"))

            let right = try await fixture.run(["install", "--site", "shop", "--vhost", fixture.apache.confdir + "/sites-enabled/shop.conf:1"])
            #expect(right.stdout.contains("live and verified"), "\(right.stdout)")
        } catch {
            Issue.record(error)
        }
        await fixture.close()
    }

    /// The README's manual path (export to a file, Include it inside the vhost, configtest,
    /// graceful) works as written; `install` then finds the include in place. With the backend
    /// down, the next install fails its live check and puts everything back.
    @Test func theManualPathWorksAndADownBackendRollsTheInstallBack() async throws {
        let fixture = try await Fixture()
        do {
            try await fixture.run(["flip", "/contact.php", "--to", "swift", "--site", "shop", "--reason", "ported"])
            let conf = fixture.apache.confdir + "/cutover/shop.conf"
            try FileManager.default.createDirectory(atPath: fixture.apache.confdir + "/cutover", withIntermediateDirectories: true)
            #expect(try await fixture.run(["export", "--site", "shop", "--check"]).status == 0)
            try await fixture.run(["export", "--site", "shop", "-o", conf])
            let vhost = fixture.apache.confdir + "/sites-available/shop.conf"
            let text = try String(contentsOfFile: vhost, encoding: .utf8)
            try text.replacingOccurrences(of: "</VirtualHost>", with: "    Include \(conf)\n</VirtualHost>")
                .write(toFile: vhost, atomically: true, encoding: .utf8)
            let ctl = "/usr/sbin/apache2ctl"
            #expect(try await Subprocess.run(ctl, ["configtest"], environment: fixture.apache.environment).status == 0)
            #expect(try await Subprocess.run(ctl, ["graceful"], environment: fixture.apache.environment).status == 0)
            var live = try await fixture.answer("/contact.php")
            for _ in 0..<100 where live.export != "1" {
                try await Task.sleep(for: .milliseconds(50))
                live = try await fixture.answer("/contact.php")
            }
            #expect(live.handler == "proxy-server" && live.export == "1", "\(live)")
            let kept = try await fixture.run(["install", "--site", "shop"])
            #expect(kept.stdout.contains("already includes"), "\(kept.stdout)")

            await fixture.backend.stop()
            try await fixture.run(["flip", "/about.php", "--to", "swift", "--site", "shop", "--reason", "ported"])
            let before = try String(contentsOfFile: conf, encoding: .utf8)
            let failed = try await fixture.run(["install", "--site", "shop"], expecting: 4)
            #expect(failed.stderr.contains("rolled back"), "\(failed.stderr)")
            // Apache answers 503 for a stopped backend; under a parallel test run the freed port can
            // be bound again by another test's server that never answers (a timeout instead). Either
            // way the flipped page is reported and the install rolled back.
            #expect(
                failed.stderr.contains("/about.php: answered 503 through the proxy")
                    || failed.stderr.contains("/about.php: no answer carried export"),
                "\(failed.stderr)"
            )
            #expect(try String(contentsOfFile: conf, encoding: .utf8) == before)
            var after = try await fixture.answer("/")
            for _ in 0..<100 where after.export != "1" {
                try await Task.sleep(for: .milliseconds(50))
                after = try await fixture.answer("/")
            }
            #expect(after.export == "1", "the old export answers again: \(after)")
        } catch {
            Issue.record(error)
        }
        await fixture.close()
    }
}
