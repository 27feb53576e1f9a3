import CutoverCore
import CutoverStore
import Foundation
import Prometheus

/// Prometheus metrics for `/metrics`: job durations and outcomes (recorded as jobs finish),
/// and inventory gauges refreshed from the database at each scrape.
package final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let database: AppDatabase
    static let buckets: [Duration] = [.milliseconds(100), .milliseconds(500), .seconds(1), .seconds(5), .seconds(15), .seconds(60), .seconds(300)]

    package init(database: AppDatabase) {
        self.database = database
    }

    func jobFinished(kind: JobKind, state: JobState, duration: Duration) {
        registry.makeDurationHistogram(
            descriptor: .init(metricName: "cutover_job_duration", unitName: "seconds", helpText: "Duration of crawl and probe jobs"),
            labels: [("kind", kind.rawValue)],
            buckets: Self.buckets
        ).record(duration)
        registry.makeCounter(
            descriptor: .init(metricName: "cutover_jobs", unitName: "total", helpText: "Jobs finished, by kind and outcome"),
            labels: [("kind", kind.rawValue), ("state", state.rawValue)]
        ).increment()
    }

    /// The exposition text, with the inventory gauges read now.
    func scrape() async throws -> String {
        for site in try await database.inventory.gauges() {
            let counts = site.counts
            for (owner, value) in [("php", counts.php), ("swift", counts.swift), ("planned", counts.planned), ("static", counts.static)] {
                gauge(
                    "cutover_urls",
                    "count",
                    "Pages each once (includes, other URLs of a page and never-pages left out): php, swift (a probe saw Swift), planned (for Swift, not yet seen there); and static files",
                    site.site,
                    [("owner", owner)]
                ).set(to: Double(value))
            }
            gauge("cutover_drift_urls", "count", "URLs whose latest probe disagrees with the expected owner", site.site)
                .set(to: Double(site.drift))
            if let probe = site.latestProbe {
                gauge("cutover_probe_errors", "count", "URLs without an answer in the latest probe", site.site).set(to: Double(probe.errorCount))
                gauge("cutover_fallback_healthy", "bool", "1 when the latest probe reached Swift through the fallback", site.site)
                    .set(to: (probe.fallbackHealthy ?? false) ? 1.0 : 0.0)
            }
            for canary in site.canaries {
                gauge(
                    "cutover_canary_weight",
                    "percent",
                    "Share of visitors a running canary sends to Swift for its pages",
                    site.site,
                    [("canary", canary.name)]
                )
                .set(to: Double(canary.weight))
            }
            for node in site.nodes {
                let labels = [("node", SiteNodes.label(node.node))]
                gauge(
                    "cutover_node_drift_urls",
                    "count",
                    "URLs one node (asked directly) answers otherwise than the plan in the latest probe",
                    site.site,
                    labels
                )
                .set(to: Double(node.driftedURLs))
                gauge(
                    "cutover_node_export_behind",
                    "bool",
                    "1 when the node serves another export than most nodes in the latest probe",
                    site.site,
                    labels
                )
                .set(to: node.expectedExportID == nil ? 0 : 1)
                if let export = node.exportID {
                    gauge("cutover_node_export", "id", "The export id most of the node's answers carried in the latest probe", site.site, labels)
                        .set(to: Double(export))
                }
            }
        }
        return registry.emitToString()
    }

    private func gauge(_ name: String, _ unit: String, _ help: String, _ site: String, _ labels: [(String, String)] = []) -> Gauge {
        registry.makeGauge(descriptor: .init(metricName: name, unitName: unit, helpText: help), labels: [("site", site)] + labels)
    }
}
