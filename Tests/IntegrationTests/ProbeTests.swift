import CutoverCore
import CutoverProbe
import CutoverTestSupport
import Foundation
import GRDB
import Testing

@testable import CutoverStore

@Suite(.enabled(if: Integration.enabled, "needs apache2 and libapache2-mod-php (always runs when CI=true)"))
struct ProbeTests {
    static let files = [
        "index.php": "<?php echo 'home';",
        "page-1.php": "<?php echo 'one';",
        "page-2.php": "<?php echo 'two';",
        "about/index.php": "<?php echo 'about';",
        "style.css": "body{}",
        "img/logo.svg": "<svg/>",
    ]

    @Test func observesEachOwnerThroughApacheAndTheFallback() async throws {
        let live = try await LiveSite(files: Self.files)
        try await live.crawl()
        let report = try await live.probe()
        await live.shutdown()
        #expect(
            live.observed(report) == [
                "/": .php, "/index.php": .php, "/page-1.php": .php, "/page-2.php": .php, "/about/": .php, "/about/index.php": .php,
                "/style.css": .static, "/img/logo.svg": .static,
            ]
        )
        #expect(report.outcomes.allSatisfy { $0.observation.ownerSource == .marker })
        #expect(report.fallback.healthy, "\(report.fallback.detail)")
        #expect(report.fallback.observedOwner == .swift)
        #expect(report.run.driftCount == 0)
        #expect(!report.needsAttention)
        // The recording backend answers 200 for every path, so every PHP page counts as ready:
        // `/`, `/page-1.php`, `/page-2.php`, `/about/` (`/index.php` and `/about/index.php` are
        // their aliases, not pages of their own).
        #expect(report.run.readyCount == 4)
        #expect(live.backend.requestTargets.contains("/page-1.php"))
        let css = try #require(report.outcomes.first { $0.target.path == "/style.css" })
        #expect(css.observation.status == 200)
        #expect(css.observation.contentType?.hasPrefix("text/css") == true)
        #expect(css.observation.bodyHash == "7c98040a541657584690ae2a1cc3b42a8b53b159cc60c5d3abbfecbaeac6c94a")  // sha256sum of "body{}"
        #expect(css.observation.contentLength == 6)
        // Stored: the run, the per-URL latest columns, and history.
        let stored = try #require(try storeCall { try live.database.inventory.url(siteID: live.site.id, path: "/style.css") })
        #expect(stored.observedOwner == .static && stored.lastStatus == 200 && !stored.drift)
        #expect(try storeCall { try live.database.probes.history(urlID: stored.id) }.count == 1)
    }

    /// `probe --json` writes its document directly; it must be exactly what JSONEncoder makes
    /// of `ProbeReportView`, on a live report with drift, a deleted page, odd names and headers.
    @Test func probeJSONIsWhatJSONEncoderWrites() async throws {
        var files = Self.files
        files["quote\"back\\slash \u{7}bell.html"] = "odd"
        files["caf\u{E9} \u{1F600}.php"] = "<?php header('Content-Type: text/plain; charset=\"x\"'); echo 'é';"
        files["moved.php"] = "<?php header('Location: /a/\"b\"?c=d&e'); http_response_code(302);"
        let live = try await LiveSite(files: files)
        try await live.crawl()
        try live.remove("page-1.php")
        let report = try await live.probe()
        await live.shutdown()
        #expect(report.run.driftCount > 0)
        #expect(report.outcomes.contains { $0.observation.location != nil })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let expected = try encoder.encode(ProbeReportView(report))
        let written = try report.jsonBytes()
        #expect(String(decoding: written, as: UTF8.self) == String(decoding: expected, as: UTF8.self))
        #expect(written == Array(expected))
    }

    @Test func deletedPageIsSwiftAfterRecrawlAndDriftsBefore() async throws {
        let live = try await LiveSite(files: Self.files)
        try await live.crawl()
        // page-2: deleted and re-crawled: the inventory says swift, the fallback serves it.
        try live.remove("page-2.php")
        try await live.crawl()
        // page-1: deleted behind the inventory's back: still expected php.
        try live.remove("page-1.php")
        let report = try await live.probe()
        let observed = live.observed(report)
        #expect(observed["/page-2.php"] == .swift)
        #expect(observed["/page-1.php"] == .swift)
        #expect(report.drifted.map(\.target.path) == ["/page-1.php"])
        #expect(report.needsAttention)
        #expect(try storeCall { try live.database.probes.driftedURLs(siteID: live.site.id) }.map(\.path) == ["/page-1.php"])
        // Re-crawl and re-probe: no drift left.
        try await live.crawl()
        let again = try await live.probe()
        await live.shutdown()
        #expect(again.run.driftCount == 0)
        #expect(live.observed(again)["/page-1.php"] == .swift)
        #expect(try storeCall { try live.database.probes.driftedURLs(siteID: live.site.id) }.isEmpty)
    }

    @Test func fallbackGoesRedWhenTheBackendStops() async throws {
        let live = try await LiveSite(files: Self.files)
        try await live.crawl()
        await live.backend.stop()
        let report = try await live.probe()
        await live.shutdown()
        #expect(!report.fallback.healthy)
        #expect(report.fallback.status == 503)
        #expect(report.fallback.detail.contains("backend is down"))
        #expect(report.needsAttention)
        #expect(live.observed(report)["/page-1.php"] == .php)  // PHP still answers
        #expect(report.run.readyCount == 0)
        let outcome = try #require(report.outcomes.first { $0.target.path == "/page-1.php" })
        #expect(outcome.backendError?.hasPrefix("refused") == true)
    }

    @Test func fallbackGoesRedWithoutTheRewriteRules() async throws {
        let live = try await LiveSite(files: Self.files, directoryConfig: ApacheSnippets.ownerMarker)
        try await live.crawl()
        let report = try await live.probe()
        await live.shutdown()
        #expect(!report.fallback.healthy)
        #expect(report.fallback.status == 404)
        #expect(report.fallback.detail.contains("answered by Apache itself"))
    }

    @Test func heuristicsAreLabelledGuessedWithoutMarkers() async throws {
        let live = try await LiveSite(files: Self.files, directoryConfig: ApacheSnippets.directoryFallback(backend: "BACKEND"))
        try await live.crawl()
        try live.remove("page-1.php")
        let report = try await live.probe()
        await live.shutdown()
        let observed = live.observed(report)
        #expect(observed["/page-2.php"] == .php)
        #expect(observed["/style.css"] == .static)
        #expect(report.outcomes.filter { $0.target.path != "/page-1.php" }.allSatisfy { $0.observation.ownerSource == .guessed })
        let page1 = try #require(report.outcomes.first { $0.target.path == "/page-1.php" })
        // The recording backend marks its answers itself, which beats any guess.
        #expect(page1.observation.observedOwner == .swift)
        #expect(page1.observation.ownerSource == .marker)
    }

    /// More URLs than one save batch (500): every outcome is stored once and published at the end,
    /// and history keeps the retention's worth of runs, the current one included.
    @Test func runsLargerThanABatchAreStoredWhole() async throws {
        var files = Self.files
        for index in 0..<1_200 { files["bulk/f\(index).txt"] = "\(index)" }
        let live = try await LiveSite(files: files)
        var settings = live.site.settings
        settings.probeRetention = 2
        _ = try await live.database.sites.save(settings)
        let site = try await live.database.sites.named("live")
        try await live.crawl()
        let prober = Prober(
            database: live.database,
            configuration: ProbeConfiguration(timeout: .seconds(30), checkBackend: false),
            logger: live.quiet
        )
        var reports: [ProbeReport] = []
        for _ in 0..<3 { reports.append(try await prober.probe(site: site)) }
        await live.shutdown()
        let last = try #require(reports.last)
        let urlCount = Self.files.count + 2 + 1_200  // + the directory URLs / and /about/
        #expect(last.run.urlCount == urlCount)
        #expect(last.run.errorCount == 0 && last.run.driftCount == 0)
        let counts = try await live.database.writer.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT run_id, count(*) AS n, count(DISTINCT url_id) AS urls FROM probe_results GROUP BY run_id ORDER BY run_id"
            )
            .map { [$0["run_id"] as Int64, $0["n"] as Int64, $0["urls"] as Int64] }
        }
        // Retention 2: the first run is gone; each kept run has every URL exactly once.
        #expect(counts == reports.dropFirst().map { [$0.run.id!, Int64(urlCount), Int64(urlCount)] })
        let stored = try #require(try storeCall { try live.database.inventory.url(siteID: site.id, path: "/bulk/f1199.txt") })
        #expect(stored.observedOwner == .static && stored.lastStatus == 200 && stored.lastProbeRun == last.run.id)
    }
}
