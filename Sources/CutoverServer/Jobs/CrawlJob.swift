import CutoverCrawl
import CutoverStore

/// Walks the docroot and updates the inventory, on a Dispatch queue (blocking disk work).
struct CrawlJob: JobWork {
    static let kind = JobKind.crawl

    func run(site: SiteRecord, with context: JobContext, report: @escaping @Sendable (Int, Int?) -> Void) async throws -> JobOutcome {
        let crawler = Crawler(database: context.database, logger: context.logger)
        let result = try await offEventLoop { isCancelled in
            try crawler.crawl(site: site, isCancelled: isCancelled) { progress in report(progress.done, progress.total) }
        }
        return JobOutcome(runID: result.crawl.id)
    }
}
