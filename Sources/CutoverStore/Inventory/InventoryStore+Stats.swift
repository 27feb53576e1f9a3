import CutoverCore
import Foundation
import GRDB

/// Owner counts at one moment, for a burndown chart.
package struct OwnerSnapshot: Codable, FetchableRecord, Sendable, Hashable {
    package var at: Date
    package var source: String
    package var php: Int
    package var swift: Int
    /// Pages planned for Swift that no probe had observed there yet.
    package var planned: Int
    package var `static`: Int
    package var drift: Int
}

extension InventoryStore {
    /// Appends the current page counts, as `InventorySummary` counts them (called inside the
    /// crawl's or probe's transaction, so both see one state).
    static func recordSnapshot(_ db: Database, siteID: SiteID, source: String, at now: Date) throws {
        let counts = try summary(db, siteID: siteID)
        try db.execute(
            sql: """
                INSERT INTO owner_snapshots (site_id, at, source, php, swift, planned, static, drift)
                VALUES (?, ?, ?, ?, ?, ?, ?, (SELECT COUNT(*) FROM urls WHERE site_id = ?1 AND drift = 1 AND gone = 0))
                """,
            arguments: [siteID, now, source, counts.php, counts.swift, counts.planned, counts.static]
        )
    }

    @available(*, noasync)
    package func snapshots(siteID: SiteID, limit: Int = 500) throws -> [OwnerSnapshot] {
        try writer.read { db in try InventoryStore.snapshots(db, siteID: siteID, limit: limit) }
    }

    static func snapshots(_ db: Database, siteID: SiteID, limit: Int) throws -> [OwnerSnapshot] {
        try OwnerSnapshot.fetchAll(
            db,
            sql:
                "SELECT * FROM (SELECT at, source, php, swift, planned, static, drift, id FROM owner_snapshots WHERE site_id = ? ORDER BY id DESC LIMIT ?) ORDER BY id",
            arguments: [siteID, limit]
        )
    }

    /// What `/metrics` shows of each site, read in one transaction (one consistent answer, one
    /// read instead of four per site).
    package func gauges() async throws -> [SiteGauges] {
        try await writer.read { db in
            try SiteStore.sites(db).map { site in
                SiteGauges(
                    site: site.name,
                    counts: try InventoryStore.summary(db, siteID: site.id),
                    drift: try InventoryStore.driftCount(db, siteID: site.id),
                    latestProbe: try ProbeStore.probeRuns(db, siteID: site.id, limit: 1).first,
                    nodes: try ProbeStore.latestNodeSummaries(db, site: site),
                    canaries: try Row.fetchAll(
                        db,
                        sql: "SELECT name, weight FROM canaries WHERE site_id = ? AND state = 'running' ORDER BY name",
                        arguments: [site.id]
                    ).map { ($0["name"], $0["weight"]) }
                )
            }
        }
    }

    @available(*, noasync)
    package func driftCount(siteID: SiteID) throws -> Int {
        try writer.read { db in try InventoryStore.driftCount(db, siteID: siteID) }
    }

    static func driftCount(_ db: Database, siteID: SiteID) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM urls WHERE site_id = ? AND drift = 1 AND gone = 0", arguments: [siteID]) ?? 0
    }
}

/// One site's figures for `/metrics`.
package struct SiteGauges: Sendable {
    package var site: String
    package var counts: InventorySummary
    package var drift: Int
    package var latestProbe: ProbeRunRecord?
    /// Each node as the latest finished probe saw it.
    package var nodes: [NodeSummary]
    /// Running canaries and their weights (percent of visitors on Swift).
    package var canaries: [(name: String, weight: Int)]
}
