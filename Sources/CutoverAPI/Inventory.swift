import CutoverCore
import CutoverStore

extension Components.Schemas.Stats {
    /// How far a site's migration is (`GET /api/sites/{site}/stats`, `cutover status --json`).
    package init(_ progress: SiteProgress) {
        let counts = progress.counts
        self.init(
            counts: .init(
                aliases: counts.aliases,
                gone: counts.gone,
                hidden: counts.hidden,
                includes: counts.includes,
                neverPages: counts.neverPages,
                php: counts.php,
                planned: counts.planned,
                sensitive: counts.sensitive,
                _static: counts.static,
                swift: counts.swift
            ),
            detectedFrontController: progress.detectedFrontController,
            driftCount: progress.driftCount,
            fallback: .init(
                checkedAt: progress.fallback.checkedAt,
                detail: progress.fallback.detail,
                healthy: progress.fallback.healthy,
                status: progress.fallback.status
            ),
            frontController: progress.frontController,
            frontControllerDeclined: progress.frontControllerDeclined,
            lastCrawl: progress.lastCrawl.map(Components.Schemas.Crawl.init),
            lastProbe: progress.lastProbe.map(Components.Schemas.ProbeRun.init),
            percentOnSwift: progress.percentOnSwift,
            routePrefixes: progress.routePrefixes,
            routingFrontController: progress.routingFrontController,
            series: progress.series.map(Components.Schemas.OwnerSnapshot.init),
            site: progress.site
        )
    }
}

extension Components.Schemas.OwnerSnapshot {
    package init(_ snapshot: OwnerSnapshot) {
        self.init(
            at: snapshot.at,
            drift: snapshot.drift,
            php: snapshot.php,
            planned: snapshot.planned,
            // The store writes only "crawl" and "probe" (InventoryStore.recordSnapshot).
            source: SourcePayload(rawValue: snapshot.source) ?? .crawl,
            _static: snapshot.static,
            swift: snapshot.swift
        )
    }
}
