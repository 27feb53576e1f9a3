import CutoverCore
import Foundation
import GRDB

/// Progress of one site: counts by owner, share on Swift, drift, fallback health, burndown
/// (the API's `Stats` shape, CutoverAPI, is made from it).
package struct SiteProgress: Sendable {
    package struct Fallback: Sendable {
        package var healthy: Bool?
        package var status: Int?
        package var detail: String?
        package var checkedAt: Date?
    }
    package var site: String
    package var counts: InventorySummary
    package var percentOnSwift: Double
    package var driftCount: Int
    package var fallback: Fallback
    package var lastCrawl: CrawlRecord?
    package var lastProbe: ProbeRunRecord?
    package var lastParity: ParityRunRecord?
    package var parity: ParityCounts
    package var series: [OwnerSnapshot]
    /// The site's front controller setting, and the one the last crawl found in the docroot's
    /// `.htaccess` (a catch-all rule or FallbackResource) for the user to confirm.
    package var frontController: String?
    package var detectedFrontController: String?
    /// Who answers URLs without a file: `frontController`, else the detected one unless the user
    /// declined it ("detected, not confirmed" while `frontController` is nil).
    package var routingFrontController: String?
    package var frontControllerDeclined: Bool
    /// Prefixes planned for Swift on a front-controller site (`/blog/`: every URL below).
    package var routePrefixes: [String]
    /// Each of the site's nodes as the latest finished probe saw it (empty without nodes).
    package var nodes: [NodeSummary] = []

    /// Built inside one read transaction, so a probe committing meanwhile cannot make the counts
    /// and the last probe disagree.
    init(_ db: Database, site: SiteRecord) throws {
        // As stored now: a crawl may have detected a front controller since `site` was read.
        let site = try SiteRecord.fetchOne(db, key: site.id) ?? site
        self.site = site.name
        counts = try InventoryStore.summary(db, siteID: site.id)
        percentOnSwift = (counts.percentOnSwift * 10).rounded() / 10
        driftCount = try InventoryStore.driftCount(db, siteID: site.id)
        lastCrawl = try CrawlStore.crawls(db, siteID: site.id, limit: 1).first
        lastProbe = try ProbeStore.probeRuns(db, siteID: site.id, limit: 1).first
        nodes = try ProbeStore.latestNodeSummaries(db, site: site)
        lastParity = try ParityStore.runs(db, siteID: site.id, limit: 1).first
        parity = try ParityStore.counts(db, siteID: site.id)
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
    package func progress(of site: SiteRecord) async throws -> SiteProgress {
        try await writer.read { db in try SiteProgress(db, site: site) }
    }
}
