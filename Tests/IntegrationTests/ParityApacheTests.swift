import CutoverCore
import CutoverParity
import CutoverProbe
import CutoverServer
import CutoverStore
import CutoverTestSupport
import Foundation
import Logging
import Testing

/// Parity through a real Apache + mod_php and a Swift backend (#27.2): each page fetched as PHP,
/// Swift and PHP again with the side header, compared field by field. The PHP page carries a
/// random CSRF token, the time to the microsecond and a session cookie; its Swift twins differ
/// in exactly one visible place, or not at all, or answer 404, a redirect, JSON, or too late.
/// Only GETs reach either side, and never a deny-listed page.
@Suite(.enabled(if: Integration.enabled, "needs apache2 and libapache2-mod-php (always runs when CI=true)"))
struct ParityApacheTests {
    /// The PHP page: a random token, the time, a session.
    static func php(title: String) -> String {
        """
        <?php session_start(); header('Cache-Control: private, max-age=0'); $token = bin2hex(random_bytes(8)); ?>
        <!DOCTYPE html><html><head><title>\(title)</title></head><body>
        <h1>Welcome</h1><ul><li>one</li><li>two</li><li>three</li></ul>
        <form id="login" method="post"><input type="hidden" name="csrf" value="<?= $token ?>"><input name="user"><input name="email"></form>
        <footer>generated at <?= sprintf('%.6f', microtime(true)) ?></footer></body></html>
        """
    }

    /// The Swift twin as the team wrote it: its own token and time, the same session cookie name.
    static func twin(title: String = "Shop", form: String = #"<input name="user"><input name="email">"#) -> RecordingBackend.Page {
        RecordingBackend.Page(
            headers: [("Set-Cookie", "PHPSESSID=swift123; path=/"), ("Cache-Control", "private, max-age=0")],
            body: """
                <!DOCTYPE html>
                <html><head><title>\(title)</title></head>
                <body><h1>Welcome</h1><ul><li>one</li><li>two</li><li>three</li></ul>
                <form id="login" method="post"><input type="hidden" name="csrf" value="swift-token">\(form)</form>
                <footer>generated at 1700000000.123456</footer></body></html>
                """
        )
    }

    static let files = [
        "same.php": php(title: "Shop"),
        "title.php": php(title: "Shop"),
        "input.php": php(title: "Shop"),
        "gone.php": php(title: "Shop"),
        "moved.php": php(title: "Shop"),
        "json.php": php(title: "Shop"),
        "slow.php": php(title: "Shop"),
        "flipped.php": php(title: "Shop"),
        "cron.php": "<?php echo 'cron ran';",
        // A form handler: POST only.
        "order.php": "<?php if ($_SERVER['REQUEST_METHOD'] !== 'POST') { header('Allow: POST'); http_response_code(405); exit; } echo 'ordered';",
        // A logged-in page: only the test account's session sees it.
        "account.php": "<?php if (($_COOKIE['session'] ?? '') !== 'test-account') { http_response_code(403); exit('log in'); } ?>"
            + "<html><head><title>Your account</title></head><body><p>Orders: 3</p></body></html>",
        "index.php": "<?php echo '<html><head><title>', htmlspecialchars($_GET['page'] ?? 'home'), '</title></head><body>index</body></html>';",
    ]

    static let twins: [String: RecordingBackend.Page] = [
        "/same.php": twin(),
        "/title.php": twin(title: "Shop - new"),
        "/input.php": twin(form: #"<input name="user">"#),
        "/gone.php": RecordingBackend.Page(status: 404, body: "<html><body>not found</body></html>"),
        "/moved.php": RecordingBackend.Page(status: 301, headers: [("Location", "/shop/")], body: ""),
        "/json.php": RecordingBackend.Page(contentType: "application/json", body: #"{"title":"Shop"}"#),
        "/slow.php": twin(),
        "/flipped.php": twin(),
        "/index.php": RecordingBackend.Page(body: "<html><head><title>about</title></head><body>index</body></html>"),
        "/account.php": RecordingBackend.Page(body: "<html><head><title>Your account</title></head><body><p>Orders: 3</p></body></html>"),
    ]

    @Test func eachPageIsComparedAsPHPSwiftAndPHPAgain() async throws {
        let live = try await LiveSite(
            files: Self.files,
            directoryConfig: "AllowOverride All",
            backendPages: Self.twins,
            backendDelays: ["/slow.php": 6]
        )
        defer { Task { await live.shutdown() } }
        try await live.crawl()
        try await live.configure {
            $0.pageKeys = [PageKey(script: "/index.php", key: "page")]
            $0.probeSkip = ["/cron*"]
        }
        try await live.database.plan.flip(siteID: live.site.id, .paths(["/flipped.php"]), to: .swift, reason: "ported")
        let secret = try await live.database.sites.sideSecret(site: live.site)
        // Before an export with the side header is live, both "sides" are PHP: an error, not "same".
        let early = try storeCall { try live.database.plan.parityPages(siteID: live.site.id, .paths(["/same.php"])) }
        let unexported = await ParityRunner(configuration: ProbeConfiguration(timeout: .seconds(3)))
            .run(site: live.site, pages: early, secret: secret, rules: ParityRules())
        #expect(unexported.first?.result?.verdict == .error, "\(unexported)")
        #expect(unexported.first?.result?.reason?.contains("swift side not reached") == true)
        try await live.install(.vhost)

        let paths = [
            "/same.php", "/title.php", "/input.php", "/gone.php", "/moved.php", "/json.php", "/slow.php", "/flipped.php", "/cron.php",
            "/index.php?page=about", "/order.php",
        ]
        // (/account.php is compared below, logged out and logged in.)
        let pages = try storeCall { try live.database.plan.parityPages(siteID: live.site.id, .paths(paths)) }
        var rules = ParityRules()
        rules.siteOrigin = live.site.publicURL
        let configuration = ProbeConfiguration(concurrency: 4, timeout: .seconds(3))
        let report = try await ParityCheck(database: live.database, configuration: configuration, logger: Logger(label: "test"))
            .check(site: live.site, pages: pages, rules: rules)
        let outcomes = report.outcomes
        let by = Dictionary(uniqueKeysWithValues: outcomes.map { ($0.path, $0) })
        func result(_ path: String) -> ParityResult? { by[path]?.result }

        // Identical but for the token, the time and the session id: the same, with those as noise.
        let same = try #require(result("/same.php"))
        #expect(same.verdict == .same, "\(same.differences)")
        #expect(same.noise.contains("html/body/form[@id=login]/input[@name=csrf]@value"), "\(same.noise)")
        #expect(same.noise.contains("html/body/footer/text()"), "\(same.noise)")
        // One visible change each: exactly that field.
        #expect(result("/title.php")?.differences == [.init(field: "html/head/title/text()", php: "Shop", swift: "Shop - new")])
        #expect(result("/input.php")?.differences.map(\.field) == ["html/body/form[@id=login]/input[@name=email]"])
        #expect(result("/gone.php")?.verdict == .different && result("/gone.php")?.differences.first?.field == "status")
        #expect(result("/moved.php")?.differences.map(\.field).starts(with: ["status", "location"]) == true)
        #expect(result("/json.php")?.differences.map(\.field).first == "content-type")
        // A backend slower than the timeout: an error that names the side.
        #expect(
            result("/slow.php")?.verdict == .error && result("/slow.php")?.reason?.hasPrefix("swift side:") == true,
            "\(String(describing: result("/slow.php")))"
        )
        // A page already flipped is compared too: the header reaches PHP behind the flip.
        #expect(result("/flipped.php")?.verdict == .same, "\(String(describing: result("/flipped.php")?.differences))")
        // A query-identified page, by its query on both sides.
        #expect(result("/index.php?page=about")?.verdict == .same, "\(String(describing: result("/index.php?page=about")?.differences))")
        // The deny-list's page is listed, never requested.
        #expect(by["/cron.php"]?.result == nil && by["/cron.php"]?.notCompared?.contains("deny-list") == true)
        // A page that needs another method is listed with the reason, never sent anything but GET.
        #expect(by["/order.php"]?.result == nil, "\(String(describing: by["/order.php"]))")
        #expect(by["/order.php"]?.notCompared?.contains("405 (Allow: POST)") == true, "\(String(describing: by["/order.php"]))")
        #expect(!live.backend.requestTargets.contains("/order.php"))

        // Only GETs reached either side, never the deny-listed page; PHP thrice per page, Swift once.
        let log = try String(contentsOfFile: live.apache.workDirectory.appending("access.log"), encoding: .utf8)
        let requestLines = log.split(separator: "\n").compactMap { line in line.split(separator: "\"").dropFirst().first }
        #expect(!requestLines.isEmpty && requestLines.allSatisfy { $0.hasPrefix("GET ") }, "\(requestLines.filter { !$0.hasPrefix("GET ") })")
        #expect(!requestLines.contains { $0.contains("/cron.php") })
        #expect(live.backend.requestMethods.allSatisfy { $0 == "GET" })
        #expect(!live.backend.requestTargets.contains { $0.hasPrefix("/cron") })
        #expect(live.backend.requestTargets.filter { $0 == "/same.php" }.count == 1)
        #expect(requestLines.filter { $0.hasPrefix("GET /same.php ") }.count == 3 + 2, "3 live, 2 before the export")

        // The run is stored: counts, each page's latest verdict on its URL, differences with both values.
        #expect(
            [report.run.sameCount, report.run.differentCount, report.run.errorCount, report.run.notComparedCount] == [Int](arrayLiteral: 3, 5, 1, 2),
            "\(report.run)"
        )
        let stored = try storeCall { try live.database.parity.results(runID: report.run.id!) }
        let storedBy = Dictionary(uniqueKeysWithValues: stored.map { ($0.path, $0.result) })
        #expect(storedBy["/title.php"]?.differences == [.init(field: "html/head/title/text()", php: "Shop", swift: "Shop - new")])
        #expect(storedBy["/same.php"]?.noise.contains("html/body/footer/text()") == true)
        #expect(storedBy["/same.php"]?.phpHash?.count == 64 && storedBy["/same.php"]?.phpHash != storedBy["/same.php"]?.swiftHash)
        #expect(storedBy["/cron.php"]?.verdict == .notCompared && storedBy["/cron.php"]?.reason?.contains("deny-list") == true)
        let urls = try storeCall { try live.database.inventory.urls(siteID: live.site.id, query: URLQuery()) }
        let parity = Dictionary(uniqueKeysWithValues: urls.map { ($0.path, $0.parity) })
        #expect(parity["/same.php"] == .same && parity["/title.php"] == .different && parity["/slow.php"] == .error)
        #expect(parity["/cron.php"] == .some(nil), "never compared")

        // An ignore rule in the site's settings hides the title change and says so; so does a mask
        // (a regular expression whose matches are masked on both sides before the values compare).
        var settings = live.site.settings
        settings.parity.ignore = ["html/head/title"]
        settings.parity.masks = ["^Shop.*"]
        let ignoring = try await live.database.sites.save(settings)
        let titlePage = try storeCall { try live.database.plan.parityPages(siteID: live.site.id, .paths(["/title.php"])) }
        let ignored = try await ParityCheck(database: live.database, configuration: configuration, logger: Logger(label: "test"))
            .check(site: ignoring, pages: titlePage, rules: ParityRules.site(ignoring, bodyCap: configuration.bodyCap))
        #expect(ignored.outcomes.first?.result?.verdict == .same, "\(ignored.outcomes)")
        #expect(ignored.outcomes.first?.result?.hidden == ["html/head/title": 1], "\(String(describing: ignored.outcomes.first?.result))")
        settings.parity.ignore = []
        let masking = try await live.database.sites.save(settings)
        let masked = try await ParityCheck(database: live.database, configuration: configuration, logger: Logger(label: "test"))
            .check(site: masking, pages: titlePage, rules: ParityRules.site(masking, bodyCap: configuration.bodyCap))
        #expect(
            masked.outcomes.first?.result?.verdict == .same && masked.outcomes.first?.result?.hidden == ["^Shop.*": 1],
            "\(String(describing: masked.outcomes.first?.result))"
        )
        settings.parity.masks = []
        _ = try await live.database.sites.save(settings)

        // Fixtures for the Swift app's own tests: the PHP page twice through Apache, its token and
        // time as noise; the team's twin compares as the same, the changed title as that field.
        let fixtures = await ParityRunner(configuration: configuration).fixtures(
            publicURL: live.site.publicURL,
            secret: secret,
            paths: ["/same.php", "/title.php"],
            rules: rules,
            siteNoise: []
        )
        let sameFixture = try #require(fixtures.first?.fixture, "\(fixtures)")
        #expect(sameFixture.noise.contains("html/body/form[@id=login]/input[@name=csrf]@value"), "\(sameFixture.noise)")
        #expect(sameFixture.fields.contains(ParityField(field: "html/head/title/text()", value: "Shop")))
        func response(_ page: RecordingBackend.Page) -> ParityResponse {
            ParityResponse(status: page.status, headers: [("Content-Type", page.contentType)] + page.headers, body: page.body)
        }
        let loaded = try ParityFixture(json: try sameFixture.json())
        #expect(loaded.compare(response(Self.twin())).verdict == .same, "\(loaded.compare(response(Self.twin())).differences)")
        let titleFixture = try #require(fixtures.last?.fixture)
        #expect(titleFixture.compare(response(Self.twin(title: "Shop - new"))).differences.map(\.field) == ["html/head/title/text()"])
        // The command writes them: one file per page named in the index, the deny-listed page
        // named and never fetched, no session id in any file.
        let out = live.docroot.appending("fixtures")
        let written = try await Subprocess.run(
            Subprocess.cutoverBinary,
            [
                "parity", "fixtures", "--site", live.site.name, "--out", out, "/same.php", "/cron.php", "--db",
                live.docroot.appending("cutover.sqlite"),
            ]
        )
        #expect(written.status == 0, "\(written.stdout)\(written.stderr)")
        #expect(written.stdout.contains("fixtures: 1 pages written") && written.stdout.contains("not fetched  /cron.php: on the probe's deny-list"))
        let index = try JSONDecoder().decode([String: String].self, from: Data(contentsOf: URL(fileURLWithPath: out + "/index.json")))
        let file = try #require(index["/same.php"], "\(index)")
        #expect(index.count == 1 && file.hasPrefix("same_php-") && file.hasSuffix(".json"))
        let text = try String(contentsOfFile: out + "/" + file, encoding: .utf8)
        #expect(text.contains("PHPSESSID=(value not kept)"), "PHP's session cookie is named, \(text.prefix(400))")
        #expect(text.components(separatedBy: "PHPSESSID=").count == text.components(separatedBy: "PHPSESSID=(value not kept)").count)
        let fromDisk = try ParityFixture(json: Data(text.utf8))
        #expect(fromDisk.compare(response(Self.twin())).verdict == .same, "\(fromDisk.compare(response(Self.twin())).differences)")

        // A logged-in page with the site's parity header under its prefix: both sides get the
        // test account's cookie, no other page does, and nothing stored or shown holds its value.
        let account = try storeCall { try live.database.plan.parityPages(siteID: live.site.id, .paths(["/account.php"])) }
        let loggedOut = try await ParityCheck(database: live.database, configuration: configuration, logger: Logger(label: "test"))
            .check(site: live.site, pages: account, rules: rules)
        #expect(loggedOut.outcomes.first?.result?.differences.first?.field == "status", "PHP asks to log in, Swift does not check")
        await #expect(throws: StoreError.self) {
            try await live.database.sites.setParityCredential(
                ParityCredential(prefix: "/account", name: "Cookie", value: "a\r\nX: y"),
                site: live.site
            )
        }
        try await live.database.sites.setParityCredential(
            ParityCredential(prefix: "/account", name: "Cookie", value: "session=test-account"),
            site: live.site
        )
        let loggedIn = try await ParityCheck(database: live.database, configuration: configuration, logger: Logger(label: "test"))
            .check(site: live.site, pages: account + titlePage, rules: rules)
        #expect(loggedIn.outcomes.first?.result?.verdict == .same, "\(String(describing: loggedIn.outcomes.first?.result))")
        let cookies = live.backend.requestCookies.filter { !$0.cookie.isEmpty }
        #expect(!cookies.isEmpty && cookies.allSatisfy { $0.target == "/account.php" && $0.cookie == "session=test-account" }, "\(cookies)")
        for run in [loggedOut.run, loggedIn.run] {
            let stored = try storeCall { try live.database.parity.results(runID: run.id!) }
            #expect(!"\(stored)".contains("test-account"), "the cookie's value is never stored")
        }
        #expect(try await live.database.sites.parityCredentials(site: live.site).map(\.masked) == ["sess…"])

        // The same comparison as a job (what the API's 202 starts): a run of its own, narrowed to the pages asked.
        let jobs = JobRunner(database: live.database, logger: Logger(label: "test"), probeConfiguration: configuration)
        let job = try await jobs.start(.parity, site: live.site, selection: .paths(["/same.php", "/title.php"]))
        let finishedJob = await jobs.wait(for: job.id)
        #expect(finishedJob?.state == .succeeded && finishedJob?.done == 2 && finishedJob?.total == 2, "\(String(describing: finishedJob))")
        let jobRun = try #require(try storeCall { try live.database.parity.runs(siteID: live.site.id) }.first)
        #expect(Int64(finishedJob?.runID ?? 0) == jobRun.id && jobRun.sameCount == 1 && jobRun.differentCount == 1)

        // Ready to flip: the probe sees Swift answer, and parity is the same. Answering is not enough.
        _ = try await Prober(
            database: live.database,
            configuration: ProbeConfiguration(concurrency: 4, timeout: .seconds(8)),
            logger: Logger(label: "test")
        )
        .probe(site: live.site)
        var ready = URLQuery()
        ready.readyToFlip = true
        let readyPaths = try storeCall { try live.database.inventory.urls(siteID: live.site.id, query: ready) }.map(\.path)
        #expect(readyPaths.contains("/same.php") && !readyPaths.contains("/title.php") && !readyPaths.contains("/cron.php"), "\(readyPaths)")

        // A flip that requires parity refuses the pages that are not the same, naming them; a
        // forced one with a reason goes through and the history says parity was overridden.
        await #expect(throws: PlanError.self) {
            try await live.database.plan.flip(siteID: live.site.id, .paths(["/same.php", "/title.php"]), to: .swift, reason: "", requireParity: true)
        }
        do {
            _ = try await live.database.plan.flip(
                siteID: live.site.id,
                .paths(["/title.php", "/cron.php"]),
                to: .swift,
                reason: "",
                requireParity: true
            )
            Issue.record("flipped without parity")
        } catch let error as PlanError {
            #expect(error.kind == .conflict)
            #expect(error.description.contains("/title.php (different)") && error.description.contains("/cron.php (not compared)"), "\(error)")
        }
        #expect(
            try await live.database.plan.flip(siteID: live.site.id, .paths(["/same.php"]), to: .swift, reason: "", requireParity: true).changed == [
                "/same.php"
            ]
        )
        await #expect(throws: PlanError.forceNeedsReason) {
            try await live.database.plan.flip(siteID: live.site.id, .paths(["/title.php"]), to: .swift, reason: " ", force: true, requireParity: true)
        }
        let forced = try await live.database.plan.flip(
            siteID: live.site.id,
            .paths(["/title.php"]),
            to: .swift,
            reason: "title change is intended",
            force: true,
            requireParity: true
        )
        #expect(forced.changed == ["/title.php"])
        let titleID = try #require(urls.first { $0.path == "/title.php" }?.id)
        let events = try storeCall { try live.database.inventory.events(urlID: titleID) }
        #expect(events.last?.reason == "planned; parity overridden (latest verdict: different): title change is intended", "\(events)")
    }
}
