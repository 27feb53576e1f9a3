import CutoverCore
import Foundation
import GRDB

/// Front-controller sites: URLs without a file are the front controller's (PHP), not the Swift
/// fallback's, and move to Swift by their own rules, one URL or one prefix at a time.
extension AppDatabase {
    /// The site's routing front controller (`SiteRecord.routingFrontController`: set, or
    /// detected and not declined), read as stored now.
    static func routingFrontController(_ db: Database, siteID: SiteID) throws -> String? {
        guard
            let row = try Row.fetchOne(
                db,
                sql: "SELECT front_controller, front_controller_declined, detected_front_controller FROM sites WHERE id = ?",
                arguments: [siteID]
            )
        else { return nil }
        return SiteRecord.routingFrontController(set: row[0], declined: row[1], detected: row[2])
    }

    /// Who answers a URL without a file on this site: its routing front controller, else the
    /// Swift fallback.
    static func missingOwner(_ db: Database, siteID: SiteID) throws -> Owner {
        try routingFrontController(db, siteID: siteID) == nil ? .swift : .php
    }

    /// Gives every URL without a file the owner the site's routing gives it, after its front
    /// controller was set or cleared. Returns how many URLs changed owner.
    @discardableResult
    static func syncRouteOwners(_ db: Database, siteID: SiteID) throws -> Int {
        let owner = try missingOwner(db, siteID: siteID)
        try db.execute(
            sql: """
                UPDATE urls SET owner = ? WHERE site_id = ? AND file_path IS NULL AND gone = 0 AND owner != 'static' AND owner != ?
                  AND flags & ? = 0
                """,
            arguments: [owner, siteID, owner, URLFlags.queryPage.rawValue]
        )
        let changed = db.changesCount
        if owner == .swift { try db.execute(sql: "DELETE FROM route_prefixes WHERE site_id = ?", arguments: [siteID]) }
        return changed
    }

    /// Plans for Swift every URL below a planned prefix route that has no plan of its own: a URL
    /// that appears under `/blog/` (a new post in the log, a new file) is Swift's from the start,
    /// as the export's prefix rule already sends it there. Returns how many URLs it planned.
    @discardableResult
    static func applyRoutePrefixes(_ db: Database, siteID: SiteID) throws -> Int {
        try db.execute(
            sql: """
                UPDATE urls SET planned_owner = 'swift'
                WHERE site_id = ?1 AND planned_owner IS NULL AND gone = 0 AND owner = 'php'
                  AND EXISTS (SELECT 1 FROM route_prefixes r WHERE r.site_id = ?1 AND substr(urls.path, 1, length(r.prefix)) = r.prefix)
                """,
            arguments: [siteID]
        )
        return db.changesCount
    }

    /// Prefixes planned for Swift on a front-controller site (`/blog/`: every URL below).
    public func routePrefixes(siteID: SiteID) throws -> [String] {
        try writer.read { db in try Self.routePrefixes(db, siteID: siteID) }
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
