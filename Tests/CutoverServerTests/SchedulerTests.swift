import CutoverCore
import CutoverServer
import CutoverStore
import CutoverTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite struct SchedulerTests {
    func schedule(_ fixture: ServerFixture, every: String) async throws {
        try await fixture.test { client in
            try await client.execute(uri: "/api/sites/demo", method: .put, headers: authorized, body: json(#"{"crawlEvery":"\#(every)"}"#)) {
                response throws in #expect(response.status == .ok)
            }
        }
    }

    @Test func dueSitesRunCrawlThenProbeAndShowNextRun() async throws {
        let fixture = try await ServerFixture()
        defer { fixture.cleanup() }
        try await schedule(fixture, every: "15m")
        let scheduler = Scheduler(database: fixture.database, jobs: fixture.jobs, logger: fixture.logger)
        let start = Date()
        let cycles = await scheduler.startDue(now: start)
        #expect(cycles.map(\.site) == ["demo"])
        #expect(await scheduler.startDue(now: start).isEmpty)  // running, and not due again
        for cycle in cycles { await scheduler.finish(cycle) }
        var jobs: [JobSnapshot] = []
        for _ in 0..<100 {
            jobs = await fixture.jobs.list()
            if jobs.count == 2, jobs.allSatisfy({ $0.state != .running }) { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(jobs.map(\.kind).sorted { $0.rawValue < $1.rawValue } == [.crawl, .probe])
        #expect(jobs.allSatisfy { $0.trigger == "schedule" && $0.state == .succeeded })
        #expect(await scheduler.startDue(now: start.addingTimeInterval(60)).isEmpty)
        #expect(await scheduler.startDue(now: start.addingTimeInterval(15 * 60 + 1)).map(\.site) == ["demo"])
        _ = await fixture.jobs.wait(for: 3)
        try await fixture.test { client in
            try await client.execute(uri: "/api/sites/demo", method: .get) { response throws in
                let site = try decode(response)
                #expect(site["crawlEvery"] as? String == "15m")
                #expect(site["lastRun"] != nil && site["nextRun"] != nil)
            }
            for bad in ["5s", "soon", "-1m", "0m"] {
                try await client.execute(uri: "/api/sites/demo", method: .put, headers: authorized, body: json(#"{"crawlEvery":"\#(bad)"}"#)) {
                    response throws in #expect(response.status == .unprocessableContent, "\(bad)")
                }
            }
        }
    }

    /// A site that asks for it ends its scheduled run with parity; its parity settings are part
    /// of the site, checked where they enter.
    @Test func aSiteWithScheduledParityComparesAfterItsProbe() async throws {
        let fixture = try await ServerFixture()
        defer { fixture.cleanup() }
        try await fixture.test { client in
            let body = #"{"crawlEvery":"1h","parity":{"scheduled":true,"ignore":["header:vary"],"masks":["[0-9a-f]{32}"]}}"#
            try await client.execute(uri: "/api/sites/demo", method: .put, headers: authorized, body: json(body)) { response throws in
                #expect(response.status == .ok)
                let parity = try decode(response)["parity"] as? [String: Any]
                #expect(parity?["scheduled"] as? Bool == true && parity?["ignore"] as? [String] == ["header:vary"])
                #expect(parity?["siteNoiseShare"] as? Double == 0.2 && parity?["siteNoiseMinimum"] as? Int == 5)
            }
            // A partial change keeps the other fields; bad values are refused and change nothing.
            try await client.execute(uri: "/api/sites/demo", method: .put, headers: authorized, body: json(#"{"parity":{"siteNoiseMinimum":3}}"#)) {
                response throws in
                let parity = try decode(response)["parity"] as? [String: Any]
                #expect(parity?["siteNoiseMinimum"] as? Int == 3 && parity?["masks"] as? [String] == ["[0-9a-f]{32}"])
            }
            for bad in [#"{"masks":["("]}"#, #"{"siteNoiseShare":0}"#, #"{"ignore":["a\u0000b"]}"#, #"{"siteNoiseMinimum":0}"#] {
                try await client.execute(uri: "/api/sites/demo", method: .put, headers: authorized, body: json(#"{"parity":\#(bad)}"#)) {
                    response throws in #expect([.unprocessableContent, .badRequest].contains(response.status), "\(bad)")
                }
            }
        }
        let site = try await fixture.database.sites.named("demo")
        #expect(site.parity.masks == ["[0-9a-f]{32}"] && site.parity.siteNoiseMinimum == 3 && site.parity.scheduled)
        let scheduler = Scheduler(database: fixture.database, jobs: fixture.jobs, logger: fixture.logger)
        for cycle in await scheduler.startDue() { await scheduler.finish(cycle) }
        var jobs: [JobSnapshot] = []
        for _ in 0..<300 {
            jobs = await fixture.jobs.list()
            if jobs.count == 3, jobs.allSatisfy({ $0.state != .running }) { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(jobs.sorted { $0.id < $1.id }.map(\.kind) == [.crawl, .probe, .parity])
        #expect(jobs.allSatisfy { $0.trigger == "schedule" && $0.state == .succeeded }, "\(jobs)")
        // Nothing answers the fixture's site URL: every page is an error, and the run is stored.
        let run = try #require(try storeCall { try fixture.database.parity.runs(siteID: site.id) }.first)
        #expect(run.urlCount > 0 && run.errorCount == run.urlCount)
    }

    /// The service itself: a due site's whole cycle (crawl, then probe) runs as child tasks of
    /// `run()`, and cancelling the service ends it.
    @Test func theServiceRunsWholeCyclesAndStopsWhenCancelled() async throws {
        let fixture = try await ServerFixture()
        defer { fixture.cleanup() }
        try await schedule(fixture, every: "1h")
        let scheduler = Scheduler(database: fixture.database, jobs: fixture.jobs, logger: fixture.logger, tick: .milliseconds(20))
        let service = Task { try await scheduler.run() }
        var jobs: [JobSnapshot] = []
        for _ in 0..<500 {
            jobs = await fixture.jobs.list()
            if jobs.count == 2, jobs.allSatisfy({ $0.state != .running }) { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(jobs.sorted { $0.id < $1.id }.map(\.kind) == [.crawl, .probe])
        #expect(jobs.allSatisfy { $0.trigger == "schedule" && $0.state == .succeeded })
        service.cancel()
        try await service.value
        #expect(await fixture.jobs.list().count == 2, "not due again within the hour")
    }

    @Test func aSiteWithAccessLogsImportsThemBeforeItsCrawl() async throws {
        let fixture = try await ServerFixture()
        defer { fixture.cleanup() }
        let log = try fixture.folder.write(
            "logs/access.log",
            #"192.0.2.1 - - [01/Nov/2026:10:00:00 +0000] "GET /page-1.php HTTP/1.1" 200 5 "-" "x""# + "\n"
        )
        try await fixture.test { client in
            let body = #"{"crawlEvery":"1h","accessLogs":["\#(log)"]}"#
            try await client.execute(uri: "/api/sites/demo", method: .put, headers: authorized, body: json(body)) { response throws in
                #expect(response.status == .ok)
            }
        }
        let scheduler = Scheduler(database: fixture.database, jobs: fixture.jobs, logger: fixture.logger)
        let cycles = await scheduler.startDue()
        #expect(cycles.map(\.site) == ["demo"])
        for cycle in cycles { await scheduler.finish(cycle) }
        var jobs: [JobSnapshot] = []
        for _ in 0..<200 {
            jobs = await fixture.jobs.list()
            if jobs.count == 3, jobs.allSatisfy({ $0.state != .running }) { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(jobs.sorted { $0.id < $1.id }.map(\.kind) == [.logs, .crawl, .probe])
        #expect(jobs.allSatisfy { $0.trigger == "schedule" && $0.state == .succeeded })
        let site = try await fixture.database.sites.named("demo")
        #expect(try storeCall { try fixture.database.traffic.row(siteID: site.id, path: "/page-1.php") }?.counts.hits == 1)
    }

    @Test func manualTriggerDuringAScheduledRunIsAConflict() async throws {
        let fixture = try await ServerFixture(files: 3000)
        defer { fixture.cleanup() }
        try await schedule(fixture, every: "1h")
        let scheduler = Scheduler(database: fixture.database, jobs: fixture.jobs, logger: fixture.logger)
        // Hold the write lock first: the scheduled crawl then waits at its first write (busy
        // timeout) and stays running however fast or slow the machine is. Taking the lock after
        // the start raced the crawl's own write and could wait forever.
        let lock = try WriteLock(path: fixture.folder.appending("cutover.sqlite"))
        let started = Task { await scheduler.startDue() }
        while await !fixture.jobs.isRunning(site: "demo") { await Task.yield() }
        try await fixture.test { client in
            try await client.execute(uri: "/api/sites/demo/jobs", method: .post, headers: authorized, body: json(#"{"kind":"crawl"}"#)) {
                response throws in #expect(response.status == .conflict)
            }
        }
        lock.unlock()
        #expect(await started.value.map(\.site) == ["demo"])
        #expect(await fixture.jobs.wait(for: 1)?.state == .succeeded)
    }

    @Test func failingJobIsRecordedAndTheScheduleGoesOn() async throws {
        let fixture = try await ServerFixture()
        defer { fixture.cleanup() }
        try await schedule(fixture, every: "1m")
        try FileManager.default.removeItem(atPath: fixture.folder.appending("htdocs"))
        let scheduler = Scheduler(database: fixture.database, jobs: fixture.jobs, logger: fixture.logger)
        let start = Date()
        #expect(await scheduler.startDue(now: start).map(\.site) == ["demo"])
        let failed = await fixture.jobs.wait(for: 1)
        #expect(failed?.state == .failed)
        #expect(failed?.error?.contains("does not exist") == true)
        let siteID = try await fixture.database.sites.named("demo").id
        #expect(try storeCall { try fixture.database.crawls.recent(siteID: siteID) }.first?.status == .failed)
        #expect(await scheduler.startDue(now: start.addingTimeInterval(61)).map(\.site) == ["demo"])
        _ = await fixture.jobs.wait(for: 2)
    }

    @Test func scheduledCrawlsAndAPIFlipsLoseNoUpdate() async throws {
        let fixture = try await ServerFixture(files: 300)
        defer { fixture.cleanup() }
        try await fixture.crawl()
        try await schedule(fixture, every: "1m")
        let scheduler = Scheduler(database: fixture.database, jobs: fixture.jobs, logger: fixture.logger)
        let pages = (0..<300).map { "/bulk/p\($0).php" }
        try await fixture.test { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for round in 0..<15 {
                        await scheduler.startDue(now: Date().addingTimeInterval(Double(round + 1) * 120))
                        try await Task.sleep(for: .milliseconds(30))
                    }
                }
                for chunk in stride(from: 0, to: pages.count, by: 20) {
                    group.addTask {
                        let paths = pages[chunk..<chunk + 20].map { "\"\($0)\"" }.joined(separator: ",")
                        try await client.execute(
                            uri: "/api/sites/demo/flips",
                            method: .post,
                            headers: authorized,
                            body: json(#"{"paths":[\#(paths)],"to":"swift"}"#)
                        ) { response throws in #expect(response.status == .ok) }
                    }
                }
                try await group.waitForAll()
            }
        }
        for job in await fixture.jobs.list() { _ = await fixture.jobs.wait(for: job.id) }
        let site = try await fixture.database.sites.named("demo")
        let planned = try storeCall { try fixture.database.inventory.urls(siteID: site.id, query: URLQuery(pathPrefix: "/bulk/")) }.filter {
            $0.plannedOwner == .swift
        }
        #expect(planned.count == 300)
        for url in planned.prefix(20) { #expect(try storeCall { try fixture.database.inventory.events(urlID: url.id) }.count == 1) }
        #expect(await fixture.jobs.list().contains { $0.kind == .crawl && $0.trigger == "schedule" && $0.state == .succeeded })
    }
}
