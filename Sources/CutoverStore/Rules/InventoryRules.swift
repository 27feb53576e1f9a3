import CutoverCore
import Foundation
import GRDB

/// The rules that keep a site's URL rows consistent whichever store changed them: who owns a URL
/// without a file (routes, the front controller), what is never a page, what lies under an
/// alias, where drift is, which query URLs are pages of their own. Every store that writes
/// URLs or settings calls them inside its own transaction.
enum InventoryRules {
    /// Sets `neverAPage` on URLs without a file known only from the logs that were never
    /// answered as a page, and clears it where that changed or a plan now names the URL. Such
    /// a URL got no 2xx or 3xx in the logs, or has a name scanners ask for: hidden or sensitive
    /// (`/.env`), or a script's (`/wp-login.php`, `/config.inc.php`: on a PHP site every page
    /// that ends in .php is a file, so one no crawl ever found is a probe for another app,
    /// whatever a catch-all answered; judged once a crawl has succeeded).
    static func markNeverPages(_ db: Database, siteID: SiteID) throws {
        let bit = URLFlags.neverAPage.rawValue
        let isNeverAPage = """
            (urls.file_path IS NULL AND urls.gone = 0 AND urls.flags & \(URLFlags.fromLog.rawValue) != 0
              AND urls.flags & \(URLFlags.queryPage.rawValue) = 0 AND urls.planned_owner IS NULL AND urls.redirect_to IS NULL
              AND (urls.flags & \(URLFlags.hidden.rawValue | URLFlags.sensitive.rawValue) != 0
                OR ((urls.path LIKE '%.php' OR urls.path LIKE '%.asp' OR urls.path LIKE '%.aspx' OR urls.path LIKE '%.jsp'
                  OR urls.path LIKE '%.cgi')
                  AND EXISTS (SELECT 1 FROM crawls c WHERE c.site_id = urls.site_id AND c.status = 'succeeded'))
                OR NOT EXISTS (SELECT 1 FROM traffic t WHERE t.site_id = urls.site_id AND t.path = urls.path
                  AND t.status_2xx + t.status_3xx > 0)
                OR \(underAlias("urls"))))
            """
        try db.execute(
            sql: """
                UPDATE urls SET flags = CASE WHEN \(isNeverAPage) THEN flags | \(bit) ELSE flags & ~\(bit) END
                WHERE site_id = ? AND ((flags & \(bit)) != 0) != \(isNeverAPage)
                """,
            arguments: [siteID]
        )
    }

    /// Sets the `alias` flag where a URL is another name of a page (`/about/index.php` when
    /// `/about/` is the page), and clears it where it no longer is.
    static func markAliases(_ db: Database, siteID: SiteID) throws {
        let bit = URLFlags.alias.rawValue
        let isAlias = """
            (urls.file_path IS NOT NULL AND urls.gone = 0 AND urls.flags & \(URLFlags.directoryIndex.rawValue | URLFlags.queryPage.rawValue) = 0
              AND urls.file_path IN (SELECT d.file_path FROM urls d WHERE d.site_id = ?1 AND d.gone = 0
                AND d.flags & \(URLFlags.directoryIndex.rawValue) != 0)
              AND urls.path != ifnull(?2, '')
              AND NOT EXISTS (SELECT 1 FROM json_each((SELECT page_keys FROM sites WHERE id = ?1)) k
                WHERE json_extract(k.value, '$.script') = urls.path))
            """
        try db.execute(
            sql: """
                UPDATE urls SET flags = CASE WHEN \(isAlias) THEN flags | \(bit) ELSE flags & ~\(bit) END
                WHERE site_id = ?1 AND ((flags & \(bit)) != 0) != \(isAlias)
                """,
            arguments: [siteID, try routingFrontController(db, siteID: siteID)]
        )
    }

    /// Recomputes each URL's drift from its last observation and its expected owner now (URLs
    /// planned to redirect keep theirs: a redirect is judged on its answer, not an owner).
    static func refreshDrift(_ db: Database, siteID: SiteID) throws {
        try db.execute(
            sql: """
                UPDATE urls SET drift = (observed_owner IS NOT NULL AND observed_owner != coalesce(planned_owner, owner))
                WHERE site_id = ? AND redirect_to IS NULL
                  AND drift != (observed_owner IS NOT NULL AND observed_owner != coalesce(planned_owner, owner))
                """,
            arguments: [siteID]
        )
    }

    /// SQL: the row `table` has a path below one of its site's Alias directories, which Apache
    /// serves from there (no fallback, no front controller).
    static func underAlias(_ table: String) -> String {
        """
        EXISTS (SELECT 1 FROM json_each((SELECT s.aliases FROM sites s WHERE s.id = \(table).site_id)) a
          WHERE substr(\(table).path, 1, length(json_extract(a.value, '$.urlPath')) + 1) = json_extract(a.value, '$.urlPath') || '/')
        """
    }

    /// Brings the site's query-identified pages in line with its page keys, inside the caller's
    /// transaction: every value the logs saw for a declared key becomes a page owned like its
    /// script (`/doku.php?id=start`, flagged `page-key`); pages follow their script's owner, file
    /// and presence; pages of a key no longer declared go (`checkPageKeyRemoval` refuses to
    /// drop flipped ones first). Returns how many pages were added.
    @discardableResult
    static func syncQueryPages(_ db: Database, siteID: SiteID) throws -> Int {
        guard let site = try SiteRecord.fetchOne(db, key: siteID) else { return 0 }
        let flag = URLFlags.queryPage.rawValue
        let declared = Set(site.pageKeys.map { "\($0.script)?\($0.key)=" })
        let existing = try Row.fetchAll(db, sql: "SELECT id, path FROM urls WHERE site_id = ? AND flags & ? != 0", arguments: [siteID, flag])
        for row in existing {
            let path: String = row["path"]
            if !declared.contains(where: { path.hasPrefix($0) }) {
                try db.execute(sql: "DELETE FROM urls WHERE id = ?", arguments: [row["id"] as Int64])
            }
        }
        var added = 0
        let insert = try db.makeStatement(sql: InventoryStore.insertQueryPage)
        // The page's requests: the logged hits of its value (the capped table keeps the top 200).
        let hits = try db.makeStatement(
            sql: "INSERT INTO query_page_hits (site_id, path, hits) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET hits = excluded.hits"
        )
        for pageKey in site.pageKeys {
            let values = try Row.fetchAll(
                db,
                sql: """
                    SELECT value, hits FROM traffic_query_values WHERE site_id = ? AND path = ? AND key = ? AND is_other = 0
                    ORDER BY hits DESC, value LIMIT ?
                    """,
                arguments: [siteID, pageKey.script, pageKey.key, InventoryStore.queryPagesPerKey]
            )
            for row in values {
                let value: String = row["value"]
                guard let url = QueryPage.url(script: pageKey.script, key: pageKey.key, value: Array(value.utf8)) else { continue }
                try insert.execute(arguments: [url, flag, siteID, pageKey.script, flag])
                added += db.changesCount
                try hits.execute(arguments: [siteID, url, row["hits"] as Int])
            }
        }
        // Pages follow their script: owner, file and presence.
        try db.execute(
            sql: """
                UPDATE urls AS q SET owner = s.owner, file_path = s.file_path, gone = s.gone
                FROM urls AS s
                WHERE q.site_id = ? AND q.flags & ? != 0 AND s.site_id = q.site_id AND s.path = substr(q.path, 1, instr(q.path, '?') - 1)
                  AND (q.owner != s.owner OR q.file_path IS NOT s.file_path OR q.gone != s.gone)
                """,
            arguments: [siteID, flag]
        )
        return added
    }

    /// One page of a declared key that no log named yet, added so it can be flipped; nil when the
    /// URL is no page of a declared key or its script is not in the inventory.
    static func addQueryPage(_ db: Database, siteID: SiteID, url: String) throws -> URLRecord? {
        guard let site = try SiteRecord.fetchOne(db, key: siteID), let page = QueryPage.parse(url),
            site.pageKeys.contains(PageKey(script: page.script, key: page.key))
        else { return nil }
        let flag = URLFlags.queryPage.rawValue
        try db.execute(sql: InventoryStore.insertQueryPage, arguments: [url, flag, siteID, page.script, flag])
        // A page of a script that is gone is no page to flip.
        return try URLRecord.filter(URLRecord.Columns.siteID == siteID && URLRecord.Columns.path == url && URLRecord.Columns.gone == false)
            .fetchOne(db)
    }

    /// Refuses settings that would drop a page key whose pages are planned for Swift: their
    /// flips would silently disappear from the next export.
    static func checkPageKeyRemoval(_ db: Database, site: SiteRecord, newKeys: [PageKey]) throws {
        let kept = Set(newKeys.map { "\($0.script)?\($0.key)=" })
        for old in site.pageKeys where !kept.contains("\(old.script)?\(old.key)=") {
            let planned =
                try Int.fetchOne(
                    db,
                    sql: "SELECT count(*) FROM urls WHERE site_id = ? AND flags & ? != 0 AND planned_owner = 'swift' AND substr(path, 1, ?) = ?",
                    arguments: [site.id, URLFlags.queryPage.rawValue, old.script.utf8.count + old.key.utf8.count + 2, "\(old.script)?\(old.key)="]
                ) ?? 0
            if planned > 0 {
                throw StoreError.invalidSite([
                    "page key \(old.argument) has \(planned) pages planned for Swift: flip them back to php before removing the key"
                ])
            }
        }
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

    /// The one rule: the script the user set, else the detected one unless declined.
    static func routingFrontController(set: String?, declined: Bool, detected: String?) -> String? {
        set ?? (declined ? nil : detected)
    }

    /// Who answers a URL without a file on this site: its routing front controller, else the
    /// Swift fallback.
    static func missingOwner(_ db: Database, siteID: SiteID) throws -> Owner {
        try routingFrontController(db, siteID: siteID) == nil ? .swift : .php
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

    /// Sets the `include` flag of the site's URLs from their latest probes and the traffic,
    /// and clears it where either changed its mind; returns how many URLs changed. Runs in the
    /// transaction that stores a probe run or a log import, so counts never see a half state.
    @discardableResult
    static func markIncludes(_ db: Database, siteID: SiteID) throws -> Int {
        let bit = URLFlags.include.rawValue
        try db.execute(
            sql: """
                UPDATE urls AS u SET flags = CASE WHEN \(TrafficStore.isInclude) THEN flags | \(bit) ELSE flags & ~\(bit) END
                WHERE u.site_id = ? AND ((u.flags & \(bit)) != 0) != \(TrafficStore.isInclude)
                """,
            arguments: [siteID]
        )
        return db.changesCount
    }

    /// A LIKE pattern matching strings that start with `prefix` literally.
    static func likePrefix(_ prefix: String) -> String {
        var escaped = ""
        for character in prefix {
            if character == "%" || character == "_" || character == "\\" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped + "%"
    }
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
        return InventoryRules.routingFrontController(set: row[0], declined: row[1], detected: row[2])
    }
}
