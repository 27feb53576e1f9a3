import ArgumentParser
import CutoverAPI
import CutoverCore
import CutoverCrawl
import CutoverStore
import Foundation

struct CrawlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crawl",
        abstract: "Walk the docroot and update the site's URL inventory.",
        discussion: "Safe to run from cron while 'cutover serve' runs: the inventory changes in one transaction."
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var siteOptions: SiteOptions

    func run() async throws {
        let database = try global.openDatabase()
        let site = try await siteOptions.resolve(in: database)
        let line = ProgressLine()
        let logger = global.logger()
        // The crawler's one synchronous bulk save runs on a thread that may block, not here.
        let result = try await database.blocking { database in
            try Crawler(database: database, logger: logger).crawl(
                site: site,
                progress: { progress in
                    switch progress.phase {
                    case .walking: line.update("walking: \(progress.done) files")
                    case .hashing: line.update("hashing: \(progress.done)/\(progress.total ?? 0) files")
                    case .saving: line.update("saving", force: true)
                    case .done: break
                    }
                }
            )
        }
        line.finish()
        if global.json {
            try Output.json(CrawlReport(site: site.name, crawl: CrawlView(result.crawl), issues: result.issues, includes: result.includes))
            return
        }
        let crawl = result.crawl
        print(
            "crawl #\(crawl.id ?? 0) of \(site.name): \(crawl.filesSeen) files, \(crawl.urlsAdded) added, "
                + "\(crawl.urlsChanged) changed, \(crawl.urlsRemoved) removed, \(result.issues.count) issues"
        )
        for issue in result.issues.prefix(20) {
            print("  \(issue.kind): \(ConfigText.visible(issue.filePath, limit: 1000)): \(issue.message)")
        }
        if result.issues.count > 20 { print("  ... and \(result.issues.count - 20) more (use --json)") }
        if let includes = result.includes, includes.filesRead > 0 {
            print(
                "PHP sources: \(includes.includedFiles) files included by others (includes unless a person requests them), "
                    + "\(includes.unresolved) include expressions not resolved (variables, function calls)"
            )
        }
    }
}

struct CrawlReport: Encodable {
    var site: String
    var crawl: CrawlView
    var issues: [CrawlIssue]
    var includes: IncludeScanSummary?
}
