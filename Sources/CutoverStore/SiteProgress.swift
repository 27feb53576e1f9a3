import CutoverCore
import Foundation

/// Progress of one site: counts by owner, share on Swift, drift, fallback health, burndown.
public struct SiteProgress: Encodable, Sendable {
    public struct Fallback: Encodable, Sendable {
        public var healthy: Bool?
        public var status: Int?
        public var detail: String?
        public var checkedAt: Date?
    }
    public var site: String
    public var counts: InventorySummary
    public var percentOnSwift: Double
    public var driftCount: Int
    public var fallback: Fallback
    public var lastCrawl: CrawlView?
    public var lastProbe: ProbeRunView?
    public var series: [OwnerSnapshot]

    init(site: SiteRecord, database: AppDatabase) throws {
        self.site = site.name
        counts = try database.summary(siteID: site.id!)
        percentOnSwift = (counts.percentOnSwift * 10).rounded() / 10
        driftCount = try database.driftCount(siteID: site.id!)
        lastCrawl = try database.crawls(siteID: site.id!, limit: 1).first.map(CrawlView.init)
        lastProbe = try database.probeRuns(siteID: site.id!, limit: 1).first.map(ProbeRunView.init)
        fallback = Fallback(
            healthy: lastProbe?.fallbackHealthy,
            status: lastProbe?.fallbackStatus,
            detail: lastProbe?.fallbackDetail,
            checkedAt: lastProbe?.finishedAt
        )
        series = try database.snapshots(siteID: site.id!)
    }
}

extension AppDatabase {
    /// How far a site's migration is; what `cutover status` and the stats endpoint show.
    public func progress(of site: SiteRecord) throws -> SiteProgress {
        try SiteProgress(site: site, database: self)
    }
}
