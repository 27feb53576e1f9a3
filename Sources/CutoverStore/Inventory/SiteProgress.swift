import CutoverCore
import Foundation
import GRDB

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
    /// The site's front controller setting, and the one the last crawl found in the docroot's
    /// `.htaccess` (a catch-all rule or FallbackResource) for the user to confirm.
    public var frontController: String?
    public var detectedFrontController: String?
    /// Who answers URLs without a file: `frontController`, else the detected one unless the user
    /// declined it ("detected, not confirmed" while `frontController` is nil).
    public var routingFrontController: String?
    public var frontControllerDeclined: Bool
    /// Prefixes planned for Swift on a front-controller site (`/blog/`: every URL below).
    public var routePrefixes: [String]

    /// Built inside one read transaction, so a probe committing meanwhile cannot make the counts
    /// and the last probe disagree.
    init(_ db: Database, site: SiteRecord) throws {
        // As stored now: a crawl may have detected a front controller since `site` was read.
        let site = try SiteRecord.fetchOne(db, key: site.id) ?? site
        self.site = site.name
        counts = try InventoryStore.summary(db, siteID: site.id)
        percentOnSwift = (counts.percentOnSwift * 10).rounded() / 10
        driftCount = try InventoryStore.driftCount(db, siteID: site.id)
        lastCrawl = try CrawlStore.crawls(db, siteID: site.id, limit: 1).first.map(CrawlView.init)
        lastProbe = try ProbeStore.probeRuns(db, siteID: site.id, limit: 1).first.map(ProbeRunView.init)
        fallback = Fallback(
            healthy: lastProbe?.fallbackHealthy,
            status: lastProbe?.fallbackStatus,
            detail: lastProbe?.fallbackDetail,
            checkedAt: lastProbe?.finishedAt
        )
        series = try InventoryStore.snapshots(db, siteID: site.id, limit: 500)
        frontController = site.frontController
        detectedFrontController = site.detectedFrontController
        routingFrontController = site.routingFrontController
        frontControllerDeclined = site.frontControllerDeclined
        routePrefixes = try PlanStore.routePrefixes(db, siteID: site.id)
    }
}

extension InventoryStore {
    /// How far a site's migration is; what `cutover status` and the stats endpoint show.
    public func progress(of site: SiteRecord) async throws -> SiteProgress {
        try await writer.read { db in try SiteProgress(db, site: site) }
    }
}
