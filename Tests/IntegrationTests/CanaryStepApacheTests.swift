import CutoverCore
import CutoverExport
import CutoverLogs
import CutoverNotify
import CutoverStore
import CutoverTestSupport
import Foundation
import Testing

/// Progressive flips stepped by their analysis (#29), on a real Apache + mod_php with a Swift
/// backend and the tree export: Apache's own access log (`%D`, `%R`) is imported, both sides of
/// each step are compared, a twin answering 500 to a tenth of its requests is rolled back and
/// nobody reaches it afterwards, a healthy twin is promoted through every step to an ordinary
/// flip, a step without traffic says it is waiting.
@Suite(.enabled(if: Integration.enabled, "needs apache2 and libapache2-mod-php (always runs when CI=true)"))
struct CanaryStepApacheTests {
    static let format = #"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %D %R"#

    /// `count` fresh visitors (no cookie) of `path`; returns how many Swift answered.
    static func visitors(_ live: LiveSite, _ path: String, count: Int) async throws -> Int {
        var swift = 0
        for _ in 0..<count where try await CanaryApacheTests.visit(live, path).swift { swift += 1 }
        return swift
    }

    /// Imports what Apache logged since the last import.
    static func importLog(_ live: LiveSite, _ log: String) async throws {
        let site = try await live.database.sites.named(live.site.name)
        let importer = LogImporter(database: live.database, site: site, format: try LogFormat(site.accessLogFormat), logger: live.quiet)
        let report = try await live.database.blocking { _ in try importer.importFile(log) }
        #expect(report.badLines == 0, "\(report.firstBadLines)")
    }

    /// Waits until the canary has been at its weight for its interval.
    static func waitOutStep(_ live: LiveSite, _ name: String) async throws {
        let canary = try await live.database.plan.canaries(siteID: live.site.id).first { $0.name == name }!
        let end = canary.stepStartedAt!.addingTimeInterval(Double(canary.policy.intervalSeconds) + 0.2)
        let wait = end.timeIntervalSinceNow
        if wait > 0 { try await Task.sleep(for: .milliseconds(Int(wait * 1000))) }
    }

    @Test func aFailingTwinIsRolledBackAHealthyOnePromotedAQuietOneWaits() async throws {
        let logs = try TemporaryDirectory(prefix: "canary-log")
        defer { logs.remove() }
        let log = logs.appending("access.log")
        let live = try await LiveSite(
            files: CanaryApacheTests.files,
            directoryConfig: "",
            serverConfig:
                "LogFormat \"\(Self.format.replacingOccurrences(of: "\"", with: "\\\""))\" cutover_canary\nCustomLog \"\(log)\" cutover_canary",
            backendPages: ["/page-a.php": .init(body: "swift backend: a twin with a bug", failEvery: 10)]
        )
        defer { Task { await live.shutdown() } }
        _ = try await live.configure { $0.accessLogFormat = Self.format }
        try await live.crawl()
        let map = live.docroot.appending("flips.tree")
        var policy = CanaryPolicy()
        policy.intervalSeconds = 5
        policy.minRequests = 20
        let options = CanaryOptions(policy: policy, automatic: true, map: (.tree, map))
        let plan = live.database.plan
        try await plan.startCanary(siteID: live.site.id, name: "buggy", .paths(["/page-a.php"]), steps: [25, 50, 100], options: options)
        try await plan.startCanary(siteID: live.site.id, name: "healthy", .paths(["/page-b.php"]), steps: [25, 50, 100], options: options)
        try await live.install(.tree)
        let stepper = CanaryStepper(database: live.database)
        // A receiver for the webhooks, started by the test: one URL answers, one fails.
        let receiver = RecordingBackend(pages: ["/broken": .init(status: 503, body: "down")])
        try await receiver.start()
        defer { Task { await receiver.stop() } }
        let secret = "test-secret-\(UUID().uuidString)"
        try await live.database.notify.add(
            siteID: live.site.id,
            url: receiver.baseURL + "/hook",
            events: [.canaryRolledBack, .canaryPromoted],
            secret: secret
        )
        try await live.database.notify.add(siteID: live.site.id, url: receiver.baseURL + "/broken", events: [.canaryRolledBack], secret: "other")
        let client = WebhookSender.makeClient()
        defer { Task { try? await client.shutdown() } }
        let sender = WebhookSender(database: live.database, client: client, logger: live.quiet)

        // The first analysis of a canary at 0 % starts it: 25 %, written to the map.
        for name in ["buggy", "healthy"] {
            let first = try await stepper.step(site: live.site, name: name)
            #expect(first.decision == .promote && first.canary.weight == 25 && first.published == map, "\(first.reason) \(first.publishError ?? "")")
        }
        // No visitor yet: waiting, with the count, and the weight stays.
        let quiet = try await stepper.step(site: live.site, name: "healthy")
        #expect(
            quiet.decision == .wait && quiet.reason == "waiting for traffic: 0 of 20 requests on Swift" && quiet.canary.weight == 25,
            "\(quiet.reason)"
        )

        // The buggy twin: 200 fresh visitors at 25 %, a tenth of Swift's answers are 500.
        let onSwift = try await Self.visitors(live, "/page-a.php", count: 200)
        #expect((20...80).contains(onSwift), "\(onSwift) of 200 on Swift at 25 %")
        try await Self.importLog(live, log)
        let rolledBack = try await stepper.step(site: live.site, name: "buggy")
        #expect(rolledBack.decision == .rollback && rolledBack.canary.state == .aborted && rolledBack.published == map, "\(rolledBack.reason)")
        #expect(rolledBack.reason.contains("Swift 5xx") && rolledBack.analysis?.swift.errors ?? 0 >= 2, "\(rolledBack.reason)")
        #expect(rolledBack.analysis?.php.requests ?? 0 >= 100 && rolledBack.analysis?.swift.latency.total == rolledBack.analysis?.swift.requests)
        // The rollback is told: a signed webhook arrives (the HMAC of the body under the secret);
        // the failing receiver's delivery waits for its retry.
        #expect(await sender.deliverDue() == 1)
        let hook = try #require(receiver.requests.first { $0.target == "/hook" })
        #expect(hook.header(WebhookSender.eventHeader) == "canary.rolled_back")
        #expect(hook.header(WebhookSender.signatureHeader) == WebhookSender.signature(body: hook.body, secret: secret))
        #expect(hook.header(WebhookSender.signatureHeader) != WebhookSender.signature(body: hook.body, secret: "other"))
        let payload = try JSONSerialization.jsonObject(with: Data(hook.body)) as? [String: Any] ?? [:]
        #expect(payload["canary"] as? String == "buggy" && payload["site"] as? String == "live" && payload["weight"] as? Int == 25, "\(payload)")
        #expect((payload["figures"] as? [String: Any])?["swiftErrors"] as? Int ?? 0 >= 2, "\(payload)")
        #expect(await sender.deliverDue() == 0, "a failed delivery is retried later, not at once")
        let deliveries = try await live.database.notify.deliveries(siteID: live.site.id)
        #expect(
            deliveries.map(\.state) == [.pending, .delivered] && deliveries.first?.lastStatus == 503 && deliveries.first?.attempts == 1,
            "\(deliveries)"
        )
        #expect(!deliveries.contains { ($0.lastError ?? "").contains(secret) })

        // Afterwards no request reaches the buggy twin, whatever the visitor's bucket.
        let before = live.backend.requestTargets.filter { $0 == "/page-a.php" }.count
        for bucket in 0..<100 { #expect(try await !CanaryApacheTests.visit(live, "/page-a.php", cookie: bucket).swift, "bucket \(bucket)") }
        #expect(live.backend.requestTargets.filter { $0 == "/page-a.php" }.count == before)

        // The healthy twin goes through 25 → 50 → 100 % and is promoted to an ordinary flip.
        for (from, to) in [(25, 50), (50, 100)] {
            // 200 at 25 %: at least 20 on Swift but for a chance of 10^-8 (100 would miss it one run in nine).
            let swift = try await Self.visitors(live, "/page-b.php", count: from == 25 ? 200 : 100)
            #expect(swift >= 10, "\(swift) of 100 on Swift at \(from) %")
            try await Self.importLog(live, log)
            try await Self.waitOutStep(live, "healthy")
            let stepped = try await stepper.step(site: live.site, name: "healthy")
            #expect(stepped.decision == .promote && stepped.canary.weight == to, "\(from) %: \(stepped.reason)")
        }
        #expect(try await Self.visitors(live, "/page-b.php", count: 40) == 40, "every fresh visitor on Swift at 100 %")
        try await Self.importLog(live, log)
        try await Self.waitOutStep(live, "healthy")
        let promoted = try await stepper.step(site: live.site, name: "healthy")
        #expect(promoted.decision == .promote && promoted.canary.state == .promoted, "\(promoted.reason)")
        let page = try storeCall { try live.database.inventory.url(siteID: live.site.id, path: "/page-b.php") }
        #expect(page?.expectedOwner == .swift, "the page is flipped: \(String(describing: page))")
        // A flip now: Swift answers a visitor of any bucket, with no canary left.
        for bucket in [0, 50, 99] { #expect(try await CanaryApacheTests.visit(live, "/page-b.php", cookie: bucket).swift, "bucket \(bucket)") }

        #expect(await sender.deliverDue() == 1)
        #expect(
            receiver.requests.filter { $0.target == "/hook" }.compactMap { $0.header(WebhookSender.eventHeader) } == [
                "canary.rolled_back", "canary.promoted",
            ]
        )

        // Every step and decision is recorded with its figures.
        let healthy = try await plan.canaries(siteID: live.site.id).first { $0.name == "healthy" }!
        #expect(try await plan.canarySteps(canaryID: healthy.id).map(\.weight) == [0, 25, 50, 100])
        let decisions = try await plan.canaryDecisions(canaryID: healthy.id)
        #expect(decisions.filter { $0.decision == .promote }.count == 4, "\(decisions.map(\.reason))")
        #expect(decisions.first?.figures?.swiftRequests ?? 0 >= 40)
        // The page's timeline shows its canary's steps with their figures.
        let timeline = try await live.database.inventory.detail(siteID: live.site.id, id: page!.id)?.canary ?? []
        #expect(timeline.map(\.name) == Array(repeating: "healthy", count: decisions.count), "\(timeline.map(\.name))")
        #expect(
            timeline.first?.decision.reason.hasPrefix("promoted after every step (25→50→100 %)") == true,
            "\(timeline.first?.decision.reason ?? "")"
        )
    }
}
