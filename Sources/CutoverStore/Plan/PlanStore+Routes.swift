import CutoverCore
import Foundation
import GRDB

/// Front-controller sites: URLs without a file are the front controller's (PHP), not the Swift
/// fallback's, and move to Swift by their own rules, one URL or one prefix at a time.
extension PlanStore {

    /// Prefixes planned for Swift on a front-controller site (`/blog/`: every URL below).
    @available(*, noasync)
    package func routePrefixes(siteID: SiteID) throws -> [String] {
        try writer.read { db in try PlanStore.routePrefixes(db, siteID: siteID) }
    }

    static func routePrefixes(_ db: Database, siteID: SiteID) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT prefix FROM route_prefixes WHERE site_id = ? ORDER BY prefix", arguments: [siteID])
    }

    /// Plans a prefix route for Swift (or drops it for PHP); true when that changed anything.
    static func planRoutePrefix(_ db: Database, siteID: SiteID, prefix: String, to target: Owner, at now: Date) throws -> Bool {
        if target == .swift {
            try db.execute(
                sql: "INSERT INTO route_prefixes (site_id, prefix, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                arguments: [siteID, prefix, now]
            )
        } else {
            try db.execute(sql: "DELETE FROM route_prefixes WHERE site_id = ? AND prefix = ?", arguments: [siteID, prefix])
        }
        return db.changesCount > 0
    }
}
