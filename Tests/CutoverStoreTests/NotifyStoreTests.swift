import CutoverCore
import CutoverTestSupport
import Foundation
import GRDB
import Testing

@testable import CutoverStore

/// What the stores queue for webhooks (#29.4), with what caused it: a parity regression (same
/// before, different now), more drift than the run before, a fallback that broke — each once,
/// not on every run that still says so — and only for the webhooks that want the event.
@Suite struct NotifyStoreTests {
    func events(_ database: AppDatabase, _ site: SiteRecord) async throws -> [String] {
        try await database.notify.deliveries(siteID: site.id).reversed().map(\.event)
    }

    @Test func regressionsDriftAndABrokenFallbackAreQueuedOnce() async throws {
        let (database, site, ids) = try await ParityStoreTests.site()
        try await database.notify.add(siteID: site.id, url: "https://hooks.example/all", events: [], secret: "s")
        try await database.notify.add(siteID: site.id, url: "https://hooks.example/parity", events: [.parityRegression], secret: "t")

        // Parity: /b different from the start is no regression; /a same, then different, is.
        for verdicts in [[("/a.php", PageParity.same), ("/b.php", .different)], [("/a.php", .different), ("/b.php", .different)]] {
            let run = try await database.parity.beginRun(siteID: site.id, concurrency: 1)
            _ = try await database.parity.finishRun(
                run,
                results: verdicts.map { ParityResultRecord(urlID: ids[$0.0]!, verdict: $0.1) },
                siteNoise: [],
                retention: 5
            )
        }
        #expect(try await events(database, site) == ["parity.regression", "parity.regression"], "one per webhook that wants it")
        let body = try await database.writer.read { db in try String.fetchOne(db, sql: "SELECT body FROM webhook_deliveries LIMIT 1") } ?? ""
        let payload = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] ?? [:]
        #expect(
            payload["firstPaths"] as? [String] == ["/a.php"] && payload["site"] as? String == "shop"
                && payload["event"] as? String == "parity.regression"
        )

        // Probes: Swift answering a PHP page is drift; PHP answering a missing URL a broken fallback.
        for _ in 0..<2 {
            let run = try await database.probes.beginRun(siteID: site.id, concurrency: 1)
            let outcomes = try await database.probes.targets(siteID: site.id).map { target in
                ProbeOutcome(target: target, observation: ProbeObservation(status: 200, observedOwner: target.path == "/a.php" ? .swift : .php))
            }
            try await database.probes.saveResults(runID: run.id!, outcomes)
            let broken = FallbackHealth(path: "/cutover-missing", observation: ProbeObservation(status: 404, observedOwner: .php))
            #expect(!broken.healthy)
            _ = try await database.probes.finishRun(run, fallback: broken)
        }
        #expect(
            try await events(database, site) == ["parity.regression", "parity.regression", "drift", "fallback.broken"],
            "the second run says the same: nothing new is queued"
        )
    }
}
