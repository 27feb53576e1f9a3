import CutoverCore
import Foundation
import GRDB

/// Owner counts at one moment, for a burndown chart.
public struct OwnerSnapshot: Codable, FetchableRecord, Sendable, Hashable {
    public var at: Date
    public var source: String
    public var php: Int
    public var swift: Int
    public var `static`: Int
    public var drift: Int
}

extension AppDatabase {
    /// Appends the current owner counts (called inside the crawl's or probe's transaction).
    /// `php` and `swift` count pages: includes and aliases are left out, as in `InventorySummary`.
    /// One count per owner, each a range of the covering index `urls_site_counts` (and drift
    /// from its partial index): at 1,000,000 URLs 0.14 s, where one pass summing every row's
    /// owner and drift took 0.97 s (drift is not in that index, so each row was a table lookup).
    static func recordSnapshot(_ db: Database, siteID: Int64, source: String, at now: Date) throws {
        try db.execute(
            sql: """
                INSERT INTO owner_snapshots (site_id, at, source, php, swift, static, drift) VALUES (?, ?, ?,
                (SELECT COUNT(*) FROM urls WHERE site_id = ?1 AND gone = 0 AND owner = 'php' AND flags & \(URLFlags.notAPage.rawValue) = 0),
                (SELECT COUNT(*) FROM urls WHERE site_id = ?1 AND gone = 0 AND owner = 'swift' AND flags & \(URLFlags.alias.rawValue) = 0),
                (SELECT COUNT(*) FROM urls WHERE site_id = ?1 AND gone = 0 AND owner = 'static'),
                (SELECT COUNT(*) FROM urls WHERE site_id = ?1 AND drift = 1 AND gone = 0))
                """,
            arguments: [siteID, now, source]
        )
    }

    public func snapshots(siteID: Int64, limit: Int = 500) throws -> [OwnerSnapshot] {
        try writer.read { db in try Self.snapshots(db, siteID: siteID, limit: limit) }
    }

    static func snapshots(_ db: Database, siteID: Int64, limit: Int) throws -> [OwnerSnapshot] {
        try OwnerSnapshot.fetchAll(
            db,
            sql:
                "SELECT * FROM (SELECT at, source, php, swift, static, drift, id FROM owner_snapshots WHERE site_id = ? ORDER BY id DESC LIMIT ?) ORDER BY id",
            arguments: [siteID, limit]
        )
    }

    public func driftCount(siteID: Int64) throws -> Int {
        try writer.read { db in try Self.driftCount(db, siteID: siteID) }
    }

    static func driftCount(_ db: Database, siteID: Int64) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM urls WHERE site_id = ? AND drift = 1 AND gone = 0", arguments: [siteID]) ?? 0
    }
}
