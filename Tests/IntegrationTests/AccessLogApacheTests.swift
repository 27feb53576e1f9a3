import CutoverCore
import CutoverLogs
import CutoverStore
import CutoverTestSupport
import Foundation
import Testing

/// Log lines written by a real Apache: Debian's own LogFormat definitions (read from
/// /etc/apache2/apache2.conf) and a custom format with %R, each imported and counted.
@Suite(.enabled(if: Integration.enabled, "needs apache2 and libapache2-mod-php (always runs when CI=true)"))
struct AccessLogApacheTests {
    static let custom = #"%a [%{%Y-%m-%d %H:%M:%S %z}t] "%r" %>s %B %D %R %{X-Cutover-Owner}o"#
    static let files = [
        "index.php": "<?php echo 'home';",
        "page.php": "<?php echo 'page ' . htmlspecialchars($_GET['id'] ?? '');",
        "style.css": "body{}",
    ]

    /// `LogFormat "..." nickname` lines of Debian's apache2.conf, by nickname.
    static func debianFormats() throws -> [String: String] {
        let config = try String(contentsOfFile: "/etc/apache2/apache2.conf", encoding: .utf8)
        var formats: [String: String] = [:]
        for line in config.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("LogFormat "), let lastSpace = trimmed.lastIndex(of: " ") else { continue }
            let format = trimmed[trimmed.index(trimmed.startIndex, offsetBy: 10)..<lastSpace].trimmingCharacters(in: .whitespaces)
            formats[String(trimmed[trimmed.index(after: lastSpace)...])] = format
        }
        return formats
    }

    @Test func debianPresetsAreWhatApacheDefines() throws {
        let debian = try Self.debianFormats()
        for name in ["common", "combined", "vhost_combined"] {
            let written = try #require(debian[name], "apache2.conf defines \(name)")
            #expect(try LogFormat(written).pieces == LogFormat(name).pieces, "\(name)")
        }
    }

    @Test func linesApacheWroteAreCountedInEveryFormat() async throws {
        let debian = try Self.debianFormats()
        let logs = try TemporaryDirectory(prefix: "logs")
        defer { logs.remove() }
        var config = ["common", "combined", "vhost_combined"].map { "LogFormat \(debian[$0]!) \($0)" }
        config.append("LogFormat \"\(Self.custom.replacingOccurrences(of: "\"", with: "\\\""))\" cutover_custom")
        let names = ["common", "combined", "vhost_combined", "cutover_custom"]
        for name in names { config.append("CustomLog \"\(logs.appending("\(name).log"))\" \(name)") }
        // Apache (www-data) writes the logs; the folder is the test's.
        chmod(logs.path, 0o777)
        let live = try await LiveSite(files: Self.files, serverConfig: config.joined(separator: "\n"))
        defer { Task { await live.shutdown() } }
        let port = live.apache.port

        _ = try await RawHTTP.send(port: port, method: "GET", path: "/index.php?id=start&utm_source=news")
        _ = try await RawHTTP.send(port: port, method: "GET", path: "/page.php?id=a%3Ab")
        _ = try await RawHTTP.send(port: port, method: "GET", path: "http://127.0.0.1:\(port)/page.php?id=a:b")
        _ = try await RawHTTP.send(port: port, method: "GET", path: "/style.css")
        _ = try await RawHTTP.send(port: port, method: "GET", path: "/missing/route?x=1", headers: ["User-Agent": #"Mozilla/5.0 say "hi" \"#])
        // A TLS handshake sent to the HTTP port: Apache logs it with its bytes escaped, status 400.
        _ = try? RawHTTP.exchange(port: port, [0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03, 13, 10, 13, 10])
        let expectedLines = 6
        for name in names {
            let path = logs.appending("\(name).log")
            try await waitFor("\(name).log has \(expectedLines) lines") {
                ((try? String(contentsOfFile: path, encoding: .utf8))?.split(separator: "\n").count ?? 0) >= expectedLines
            }
        }

        for name in names {
            // A fresh site per format, so each log's counts stand alone.
            var settings = live.site.settings
            settings.name = "live-\(name.replacingOccurrences(of: "_", with: "-"))"
            let site = try await live.database.sites.add(settings)
            let format = try LogFormat(name == "cutover_custom" ? Self.custom : name)
            let importer = LogImporter(database: live.database, site: site, format: format, logger: live.quiet)
            let report = try storeCall { try importer.importFile(logs.appending("\(name).log")) }
            let log = try String(contentsOfFile: logs.appending("\(name).log"), encoding: .utf8)
            #expect(report.lines == expectedLines && report.badLines == 0 && report.noTargetLines == 1, "\(name): \(report) \(log)")
            func traffic(_ path: String) throws -> TrafficCounts? { try live.database.traffic.row(siteID: site.id, path: path)?.counts }
            #expect(try traffic("/index.php")?.hits == 1, "\(name)")
            #expect(try traffic("/page.php")?.hits == 2, "\(name)")
            #expect(try traffic("/style.css")?.status2xx == 1, "\(name)")
            #expect(try traffic("/missing/route")?.hits == 1, "\(name)")
            let values = try storeCall { try live.database.traffic.queryValues(siteID: site.id, path: "/page.php") }
            #expect(values.map { "\($0.key)=\($0.value ?? "-")" } == ["id=a:b"], "\(name)")
            #expect(
                try storeCall { try live.database.traffic.queries(siteID: site.id, path: "/index.php") }.map(\.query) == ["id=start"],
                "\(name)"
            )
            if name.hasSuffix("combined") {
                // The quoted user agent, escaped by Apache, read back whole: a browser's agent, no bot
                // (from loopback, the site's own address, only a browser's agent is a person's).
                #expect(try traffic("/missing/route")?.botHits == 0, "\(name)")
            }
            if name == "cutover_custom" {
                let index = try #require(try traffic("/index.php"))
                let missing = try #require(try traffic("/missing/route"))
                let style = try #require(try traffic("/style.css"))
                #expect(index.attributed == 1 && index.servedPHP == 1)
                #expect(missing.attributed == 1 && missing.servedSwift == 1)
                #expect(style.attributed == 1 && style.servedSwift == 0 && style.servedPHP == 0)
            }
        }
    }

    /// Each side of a page, as the log lines Apache wrote say (%R, %D): the stored statuses and
    /// duration histograms equal what the lines themselves give, and the quantiles read from the
    /// buckets hold the true ones.
    @Test func perSideFiguresAgreeWithTheLinesApacheWrote() async throws {
        let logs = try TemporaryDirectory(prefix: "logs")
        defer { logs.remove() }
        chmod(logs.path, 0o777)
        let format = Self.custom.replacingOccurrences(of: "\"", with: "\\\"")
        let config = "LogFormat \"\(format)\" sides\nCustomLog \"\(logs.appending("sides.log"))\" sides"
        let live = try await LiveSite(files: Self.files, serverConfig: config)
        defer { Task { await live.shutdown() } }
        let port = live.apache.port
        for index in 0..<24 {
            _ = try await RawHTTP.send(port: port, method: "GET", path: index % 3 == 0 ? "/index.php?n=\(index)" : "/index.php")
            _ = try await RawHTTP.send(port: port, method: "GET", path: "/swift/route\(index % 2)")
        }
        let path = logs.appending("sides.log")
        try await waitFor("sides.log has 48 lines") {
            ((try? String(contentsOfFile: path, encoding: .utf8))?.split(separator: "\n").count ?? 0) >= 48
        }
        let site = live.site
        let report = try storeCall {
            try LogImporter(database: live.database, site: site, format: try LogFormat(Self.custom), logger: live.quiet).importFile(path)
        }
        #expect(report.requests == 48 && report.badLines == 0)

        // What the lines say, read here with a split on spaces after the quoted request line.
        var expected: [String: (side: Owner, statuses: [Int], durations: [Int])] = [:]
        for line in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n") {
            let request = line.split(separator: "\"")[1].split(separator: " ")
            let target = String(request[1].split(separator: "?")[0])
            let after = line.split(separator: "\"")[2].split(separator: " ")
            let (status, duration, handler) = (Int(after[0])!, Int(after[2])!, after[3])
            let side: Owner = handler == "proxy-server" ? .swift : .php
            expected[target, default: (side, [], [])].statuses.append(status)
            expected[target]!.durations.append(duration)
            #expect(expected[target]!.side == side, "\(target) answered by one side")
        }
        #expect(Set(expected.keys) == ["/index.php", "/swift/route0", "/swift/route1"])
        #expect(expected["/index.php"]?.side == .php && expected["/swift/route0"]?.side == .swift, "both sides answered")
        for (target, lines) in expected {
            let figures = try await live.database.traffic.sides(siteID: site.id, path: target, days: 0...1_000_000)
            #expect(figures.map(\.side) == [lines.side], "\(target)")
            let figure = try #require(figures.first)
            #expect(figure.hits == lines.statuses.count && figure.status2xx == lines.statuses.filter { (200..<300).contains($0) }.count)
            var histogram = LatencyHistogram()
            for duration in lines.durations { histogram.record(duration) }
            #expect(figure.latency == histogram, "\(target): the stored buckets are the lines' durations")
            let sorted = lines.durations.sorted()
            for q in [0.5, 0.9, 0.99] {
                let truth = sorted[max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1)]
                #expect(figure.latency.quantile(q)?.contains(truth) == true, "\(target) p\(Int(q * 100)) \(truth) µs")
            }
        }
    }

    func waitFor(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw HarnessError("timed out waiting until \(what)") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}
