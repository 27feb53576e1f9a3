import CutoverCore
import CutoverProbe
import CutoverStore
import CutoverTestSupport
import Foundation
import Testing

/// A probe that runs nothing it need not run: Apache's own access log says which scripts a
/// probe requested.
@Suite(.enabled(if: Integration.enabled, "needs apache2 and libapache2-mod-php (always runs when CI=true)"))
struct ProbeSideEffectTests {
    static func requested(_ site: LiveSite) -> [String] {
        let log = (try? String(contentsOfFile: site.apache.workDirectory.appending("access.log"), encoding: .utf8)) ?? ""
        return log.split(separator: "\n").compactMap { line in
            guard let start = line.firstIndex(of: "\"") else { return nil }
            let words = line[line.index(after: start)...].split(separator: " ")
            return words.count >= 2 ? String(words[1]) : nil
        }
    }

    /// The access log once it has at least `count` lines and stopped growing: Apache writes a
    /// line after it answered, so the last lines of a probe may still be on their way.
    static func settledLog(_ site: LiveSite, atLeast count: Int) async throws -> [String] {
        var lines = requested(site)
        for _ in 0..<100 {
            try await Task.sleep(for: .milliseconds(50))
            let now = requested(site)
            if now.count >= count, now.count == lines.count { return now }
            lines = now
        }
        return lines
    }

    /// 500 includes (files that define functions: an empty 200) and a cron script: the first
    /// probe requests the includes and never the cron script; the second requests no include;
    /// an include whose content changed is requested again, alone.
    @Test func includesAreRequestedAgainOnlyWhenTheyChangeAndCronNever() async throws {
        let marker = "/tmp/cutover-cron-ran-\(UUID().uuidString)"
        var files = [
            "index.php": "<?php echo 'home';",
            "wp-cron.php": "<?php file_put_contents('\(marker)', 'ran');",
            "admin/install.php": "<?php file_put_contents('\(marker)', 'installed');",
        ]
        for index in 0..<500 { files["lib/inc\(index).php"] = "<?php function f\(index)() { return \(index); }" }
        let site = try await LiveSite(files: files)
        defer { try? FileManager.default.removeItem(atPath: marker) }
        try await site.crawl()

        let first = try await site.probe()
        #expect(first.run.skippedDenied == 2 && first.run.skippedIncludes == 0, "\(first.run)")
        let odd = first.outcomes.filter { $0.target.path.hasPrefix("/lib/") && $0.observation.status != 200 }
        #expect(odd.isEmpty, "\(odd.map { "\($0.target.path): \($0.observation)" })")
        let afterFirst = try await Self.settledLog(site, atLeast: 501)
        #expect(afterFirst.filter { $0.hasPrefix("/lib/") }.count == 500)
        let counts = try try await storeCall { try site.database.inventory.summary(siteID: site.site.id) }
        #expect(counts.includes == 500, "\(counts)")

        let second = try await site.probe()
        #expect(second.run.skippedIncludes == 500 && second.run.skippedDenied == 2, "\(second.run)")
        let duringSecond = Array(try await Self.settledLog(site, atLeast: afterFirst.count + 1).dropFirst(afterFirst.count))
        #expect(!duringSecond.isEmpty && !duringSecond.contains { $0.hasPrefix("/lib/") }, "\(duringSecond.prefix(10))")
        // Still includes: skipping them keeps what the last probe found.
        #expect(try try await storeCall { try site.database.inventory.summary(siteID: site.site.id) }.includes == 500)

        try site.docroot.write("htdocs/lib/inc7.php", "<?php function f7() { return 'seven'; }")
        try await site.crawl()
        let beforeThird = Self.requested(site).count
        let third = try await site.probe()
        let duringThird = Array(try await Self.settledLog(site, atLeast: beforeThird + 2).dropFirst(beforeThird))
        #expect(duringThird.filter { $0.hasPrefix("/lib/") } == ["/lib/inc7.php"], "\(duringThird)")
        #expect(third.run.skippedIncludes == 499)

        #expect(!Self.requested(site).contains { $0.hasPrefix("/wp-cron.php") || $0.hasPrefix("/admin/install.php") })
        #expect(!FileManager.default.fileExists(atPath: marker), "a probe ran a script with side effects")
        await site.shutdown()
    }

    /// A request that times out (a worker busy right after a reload) is asked once more; the
    /// report says how many were and the likely cause.
    @Test func aTimeoutIsRetriedOnceAndExplained() async throws {
        let flag = "/tmp/cutover-slow-once-\(UUID().uuidString)"
        let site = try await LiveSite(files: [
            "index.php": "<?php echo 'home';",
            "slow.php": "<?php if (!file_exists('\(flag)')) { touch('\(flag)'); sleep(3); } echo 'ok';",
        ])
        defer { try? FileManager.default.removeItem(atPath: flag) }
        try await site.crawl()
        let report = try await site.probe(ProbeConfiguration(concurrency: 2, timeout: .seconds(1)))
        let slow = try #require(report.outcomes.first { $0.target.path == "/slow.php" })
        #expect(slow.retried && slow.observation.status == 200, "\(slow.observation)")
        #expect(report.run.timeoutsRetried >= 1 && report.timeouts == 0)
        #expect(report.timeoutHint?.contains("too few idle Apache workers for 2 requests at once") == true, "\(report.timeoutHint ?? "")")
        await site.shutdown()
    }
}
