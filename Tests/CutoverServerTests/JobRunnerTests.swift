import CutoverServer
import CutoverStore
import CutoverTestSupport
import Foundation
import Testing

@Suite struct JobRunnerTests {
    /// Crawls run on a Dispatch queue, outside the job's task: shutdown must still stop them
    /// (SIGTERM in serve), leave the crawl recorded as failed and the inventory untouched.
    @Test func shutdownCancelsARunningCrawl() async throws {
        let fixture = try await ServerFixture(files: 3000)
        defer { fixture.cleanup() }
        let site = try await fixture.database.sites.named("demo")
        // The crawl's first write waits for this lock, so the job is surely running at shutdown.
        let lock = try WriteLock(path: fixture.folder.appending("cutover.sqlite"))
        let job = try await fixture.jobs.start(.crawl, site: site)
        let stopping = Task { await fixture.jobs.shutdown() }
        // shutdown refuses new jobs and cancels running ones in the same step; until then a second
        // job of the site is refused as already running.
        while true {
            do {
                _ = try await fixture.jobs.start(.probe, site: site)
                Issue.record("a second job of a busy site was started")
                break
            } catch JobError.shuttingDown {
                break
            } catch {
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        lock.unlock()
        await stopping.value
        let final = try #require(await fixture.jobs.job(job.id))
        #expect(final.state == .cancelled)
        let crawl = try #require(try storeCall { try fixture.database.crawls.recent(siteID: site.id) }.first)
        #expect(crawl.status == .failed)
        #expect(crawl.error == "cancelled")
        #expect(try storeCall { try fixture.database.crawls.knownURLs(siteID: site.id) }.isEmpty)
    }
}
