import ArgumentParser
import CutoverAPI
import CutoverCore
import CutoverStore
import Foundation

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show how far the migration is: URLs by owner, share of PHP pages on Swift, last crawl."
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var siteOptions: SiteOptions

    func run() async throws {
        let database = try global.openDatabase(readOnly: true)
        let site = try await siteOptions.resolve(in: database)
        let status = try await SiteStatus(site: site, database: database)
        if global.json {
            try Output.json(status)
            return
        }
        let counts = status.counts
        print("site \(site.name) (\(site.docroot))")
        print("  php     \(counts.php) pages")
        if counts.includes > 0 {
            print(
                "  include \(counts.includes) .php files other files include, or that answer an error or nothing, and no one requests: code, not pages"
            )
        }
        if counts.aliases > 0 {
            print("  alias   \(counts.aliases) other URLs of pages (/about/index.php of /about/): each page counted once, flipped together")
        }
        print("  swift   \(counts.swift) pages on Swift: Swift's by the plan, and a probe saw Swift answer them")
        if counts.planned > 0 {
            print("  planned \(counts.planned) pages planned for Swift that no probe has seen Swift answer yet: export, install, then probe")
        }
        if counts.neverPages > 0 {
            print(
                "  never   \(counts.neverPages) URLs without a file that were never pages (the logs saw only errors, or a scanner's name like /.env)"
            )
        }
        print("  static  \(counts.static)")
        if counts.gone > 0 { print("  gone    \(counts.gone) static files no longer on disk") }
        if counts.sensitive > 0 { print("  warning: \(counts.sensitive) sensitive files (.env, backups, VCS data) are in the docroot") }
        if !status.exposures.isEmpty {
            let count = status.exposures.count
            print(
                "  warning: \(count) symbolic link\(count == 1 ? "" : "s") in the docroot lead\(count == 1 ? "s" : "") to a private place; Apache "
                    + "serves \(count == 1 ? "it" : "them") under FollowSymLinks (the crawl never follows them):"
            )
            for exposure in status.exposures.prefix(5) {
                print("    \(ConfigText.visible(exposure.url, limit: 300)) (\(ConfigText.visible(exposure.filePath, limit: 300)))")
                if let deny = exposure.deny { print("      deny it with one line in the vhost or the docroot's .htaccess: \(deny)") }
            }
            if count > 5 { print("    ... and \(count - 5) more (cutover status --json)") }
        }
        print(String(format: "  %.1f%% of pages are on Swift (%d of %d)", counts.percentOnSwift, counts.swift, counts.pages))
        if let script = site.frontController {
            print("  front controller \(script): it answers URLs without a file (no Swift fallback); flip URLs and prefixes to move them")
        } else if let detected = site.routingFrontController {
            print("  front controller \(detected): detected, not confirmed. The docroot's .htaccess sends URLs without a file to it, so")
            print("    they count as its routes (PHP's); flip URLs and prefixes to move them. The export keeps the Swift fallback until you")
            print("    confirm it: cutover site set \(site.name) --front-controller \(detected)   (or decline it: --front-controller '')")
        } else if let detected = site.detectedFrontController {
            print("  front controller \(detected) (detected in the docroot's .htaccess) declined: URLs without a file are the Swift fallback's")
        }
        for prefix in status.progress.routePrefixes { print("  prefix route \(prefix)* planned for Swift") }
        for file in status.htaccess where file.hasOwnRewriteRules || file.blocksFallback != nil {
            var line = "  .htaccess in \(file.directory): \(file.ruleCount) rewrite rules of the app's own"
            if let blocker = file.blocksFallback { line += "; '\(blocker)' keeps the fallback out of \(file.directory)" }
            print(line)
            if let script = file.frontController {
                print("    front controller: \(script) answers every URL without a file below \(file.directory), not the Swift fallback")
            }
        }
        if let crawl = status.lastCrawl {
            var line = "  last crawl #\(crawl.id ?? 0) \(crawl.status.rawValue) at \(Output.date(crawl.startedAt))"
            if let error = crawl.error { line += ": \(error)" }
            print(line)
        } else {
            print("  never crawled: run 'cutover crawl --site \(site.name)'")
        }
        if let probe = status.lastProbe {
            print(
                "  last probe #\(probe.id ?? 0) \(probe.status.rawValue) at \(Output.date(probe.startedAt)): \(probe.driftCount) drifted, \(probe.readyCount) answered by Swift"
            )
            if let healthy = probe.fallbackHealthy {
                print("  fallback: \(healthy ? "ok" : "BROKEN") — \(probe.fallbackDetail ?? "")")
            }
            for url in status.drifted {
                print("  drift \(url.path): expected \(url.expectedOwner.rawValue), observed \(url.observedOwner?.rawValue ?? "-")")
            }
            if probe.driftCount > status.drifted.count { print("  ... and \(probe.driftCount - status.drifted.count) more (cutover urls --drift)") }
            for node in status.progress.nodes {
                let silent = node.urlCount > 0 && node.errorCount == node.urlCount
                let state = node.driftCount > 0 ? "NODE DRIFT" : silent ? "NO ANSWER" : "agrees"
                print(
                    "  node \(SiteNodes.label(node.node)): \(state), export \(node.exportID.map(String.init) ?? "-"), \(node.errorCount) without answer"
                )
                for line in node.problems { print("    \(line)") }
            }
        } else {
            print("  never probed: run 'cutover probe --site \(site.name)'")
        }
        for (canary, latest) in status.canaries {
            let stepping = canary.automatic ? (canary.paused ? "paused" : "stepped automatically") : "stepped by hand"
            print(
                "  canary \(canary.name): \(canary.weight) % of visitors on Swift for \(canary.pages.count) URLs, \(stepping) (cutover canary show \(canary.name))"
            )
            if let latest { print("    latest: \(latest.decision.rawValue): \(ConfigText.visible(latest.reason, limit: 300))") }
        }
    }
}

/// `cutover status --json`: the site's progress (as the stats endpoint shows it) and its drifted URLs.
struct SiteStatus: Encodable {
    var progress: SiteProgress
    var drifted: [URLView]
    var htaccess: [HtaccessView]
    /// Symbolic links the last successful crawl found making a private place public.
    var exposures: [ExposureView]
    /// Running canaries and each one's latest decision (text output only).
    var canaries: [(CanaryRecord, CanaryDecision?)] = []

    init(site: SiteRecord, database: AppDatabase) async throws {
        let siteID = site.id
        progress = try await database.inventory.progress(of: site)
        drifted = try await database.blocking { try $0.probes.driftedURLs(siteID: siteID, limit: 50) }.map { URLView($0) }
        htaccess = try await database.crawls.htaccessFiles(siteID: siteID).map(HtaccessView.init)
        exposures = try await database.crawls.exposures(siteID: siteID).map(ExposureView.init)
        for canary in try await database.plan.canaries(siteID: siteID) where canary.state == .running {
            canaries.append((canary, try await database.plan.canaryDecisions(canaryID: canary.id, limit: 1).first))
        }
    }

    var counts: InventorySummary { progress.counts }
    var lastCrawl: CrawlRecord? { progress.lastCrawl }
    var lastProbe: ProbeRunRecord? { progress.lastProbe }

    enum CodingKeys: CodingKey { case drifted, exposures, htaccess }

    func encode(to encoder: any Encoder) throws {
        try StatsView(progress).encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(drifted, forKey: .drifted)
        try container.encode(htaccess, forKey: .htaccess)
        try container.encode(exposures, forKey: .exposures)
    }
}
