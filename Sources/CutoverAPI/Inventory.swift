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
            lastParity: progress.lastParity.map(Components.Schemas.ParityRun.init),
            lastProbe: progress.lastProbe.map(Components.Schemas.ProbeRun.init),
            nodes: progress.nodes.map(Components.Schemas.NodeHealth.init),
            parity: .init(progress.parity),
            percentOnSwift: progress.percentOnSwift,
            routePrefixes: progress.routePrefixes,
            routingFrontController: progress.routingFrontController,
            series: progress.series.map(Components.Schemas.OwnerSnapshot.init),
            site: progress.site
        )
    }
}

extension Components.Schemas.NodeHealth {
    /// One node as the latest probe saw it.
    package init(_ summary: NodeSummary) {
        self.init(
            drifted: summary.drifted.map {
                .init(expectedOwner: .init($0.expectedOwner), observedOwner: .init($0.observedOwner), path: $0.path, status: $0.status)
            },
            driftedURLs: summary.driftedURLs,
            errorCount: summary.errorCount,
            expectedExportID: summary.expectedExportID.map(Int.init),
            exportID: summary.exportID.map(Int.init),
            label: SiteNodes.label(summary.node),
            node: summary.node,
            problems: summary.problems,
            urlCount: summary.urlCount
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

extension Components.Schemas.Url {
    /// One URL as the API and the CLI's `--json` show it. `URLPageWriter` (CutoverServer) writes
    /// the same document straight from the rows; URLPageJSONTests holds the two byte for byte.
    package init(_ entry: URLEntry) {
        self.init(
            contentHash: entry.contentHash,
            drift: entry.drift,
            expectedOwner: .init(entry.expectedOwner),
            filePath: entry.filePath,
            flags: entry.flags,
            gone: entry.gone,
            hits: entry.hits,
            id: Int(entry.id),
            lastError: entry.lastError,
            lastLatencyMs: entry.lastLatencyMs,
            lastSeen: entry.lastSeen,
            lastStatus: entry.lastStatus,
            mtime: entry.mtime,
            observedOwner: entry.observedOwner.map(Components.Schemas.Owner.init),
            observedSource: entry.observedSource.map(Components.Schemas.OwnerSource.init),
            owner: .init(entry.owner),
            parity: entry.parity.map(Components.Schemas.ParityVerdict.init),
            path: entry.path,
            plannedOwner: entry.plannedOwner.map(Components.Schemas.Owner.init),
            readyToFlip: entry.readyToFlip,
            redirectTo: entry.redirectTo,
            size: entry.size.map(Int.init),
            swiftAnswers: entry.swiftAnswers
        )
    }

    package init(_ url: URLRecord) { self.init(URLEntry(url)) }
}

extension Components.Schemas.URLDetail {
    /// One URL with its probe history, owner changes, requests and query values.
    package init(_ detail: URLDetailRecords) {
        self.init(
            canary: detail.canary.isEmpty
                ? nil
                : detail.canary.map { entry in
                    .init(
                        actor: entry.decision.actor,
                        at: entry.decision.at,
                        canary: entry.name,
                        decision: .init(rawValue: entry.decision.decision.rawValue) ?? .manual,
                        figures: entry.decision.figures.map { Components.Schemas.CanaryFigures($0) },
                        reason: entry.decision.reason,
                        weight: entry.decision.weight
                    )
                },
            events: detail.events.map(Components.Schemas.OwnershipEvent.init),
            parity: detail.parity.map { Components.Schemas.ParityResult($0.result, path: detail.url.path, at: $0.run.startedAt) },
            probes: detail.probes.map(Components.Schemas.ProbeResult.init),
            queryValues: detail.queryValues.map(Components.Schemas.QueryValue.init),
            traffic: detail.traffic.map(Components.Schemas.Traffic.init),
            url: .init(detail.url)
        )
    }
}
