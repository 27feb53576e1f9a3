import CutoverCore
import CutoverLogs
import CutoverStore
import CutoverTestSupport
import Foundation
import Testing

@testable import CutoverServer

/// The `canary` job of `cutover serve` (#29): each automatic canary is due once per interval,
/// imports the site's logs, is stepped; when the logs cannot be read it holds and says why.
@Suite struct CanaryRunnerTests {
    @Test func dueOncePerIntervalStepsAndHoldsWhenLogsCannotBeRead() async throws {
        let fixture = try await ServerFixture()
        defer { fixture.cleanup() }
        try await fixture.crawl()
        var settings = try await fixture.database.sites.named("demo").settings
        let log = fixture.folder.appending("logs/access.log")
        try fixture.folder.write("logs/access.log", "")
        settings.accessLogs = [log]
        let site = try await fixture.database.sites.save(settings)
        var policy = CanaryPolicy()
        policy.intervalSeconds = 5
        let map = fixture.folder.appending("flips")
        try await fixture.database.plan.startCanary(
            siteID: site.id,
            name: "auto",
            .paths(["/page-1.php"]),
            options: CanaryOptions(policy: policy, automatic: true, map: (.tree, map))
        )
        try await fixture.database.plan.startCanary(siteID: site.id, name: "manual", .paths(["/page-2.php"]))
        let runner = CanaryRunner(database: fixture.database, logger: fixture.logger, logRoots: LogRoots([fixture.folder.appending("logs")]))

        let now = Date()
        let due = await runner.due(now: now)
        #expect(due.map(\.canary.name) == ["auto"], "only automatic canaries are stepped")
        for (site, canary) in due { await runner.run(site: site, canary: canary) }
        #expect(await runner.due(now: now.addingTimeInterval(4)).isEmpty, "not again within its interval")
        var canary = try await fixture.database.plan.canaries(siteID: site.id).first { $0.name == "auto" }!
        #expect(canary.weight == 1 && FileManager.default.fileExists(atPath: map + ".canaries"))

        // A log outside the log roots cannot be imported: the step holds, with the reason.
        settings.accessLogs = ["/etc/passwd"]
        _ = try await fixture.database.sites.save(settings)
        let again = await runner.due(now: now.addingTimeInterval(6))
        #expect(again.count == 1)
        for (site, canary) in again { await runner.run(site: site, canary: canary) }
        canary = try await fixture.database.plan.canaries(siteID: site.id).first { $0.name == "auto" }!
        let latest = try await fixture.database.plan.canaryDecisions(canaryID: canary.id).first
        #expect(canary.weight == 1 && latest?.decision == .hold, "\(String(describing: latest))")
        #expect(latest?.reason.hasPrefix("holding at 1 %: the access logs could not be imported") == true, "\(latest?.reason ?? "")")

        // Two intervals without an analysis: the view says the weight holds, and why.
        let stale = CanaryStaleness.reason(canary, lastDecision: latest?.at, now: Date().addingTimeInterval(11))
        #expect(stale?.contains("two intervals are 10 s): holding at 1 %") == true, "\(stale ?? "nil")")
    }
}
