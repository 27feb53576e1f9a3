import CutoverCore
import Foundation
import GRDB

// Each answer has a synchronous form (the CLI, the crawler's Dispatch thread) and an async one
// (the server: GRDB runs it on its own queues, never on a NIO event loop). Both share one
// function over `Database`, so a change of the query changes both.
extension AppDatabase {
    /// Registers a new site; refuses invalid settings and duplicate names.
    @discardableResult
    public func addSite(_ settings: SiteSettings) throws -> SiteRecord {
        try Self.refuseInvalid(settings)
        return try writer.write { [now = clock.now()] db in try Self.insertSite(db, settings, now: now) }
    }

    @discardableResult
    public func addSite(_ settings: SiteSettings) async throws -> SiteRecord {
        try Self.refuseInvalid(settings)
        return try await writer.write { [now = clock.now()] db in try Self.insertSite(db, settings, now: now) }
    }

    /// Creates the site or replaces its settings, keeping its id and inventory.
    @discardableResult
    public func upsertSite(_ settings: SiteSettings) throws -> SiteRecord {
        try Self.refuseInvalid(settings)
        return try writer.write { [now = clock.now()] db in try Self.upsertSite(db, settings, now: now) }
    }

    @discardableResult
    public func upsertSite(_ settings: SiteSettings) async throws -> SiteRecord {
        try Self.refuseInvalid(settings)
        return try await writer.write { [now = clock.now()] db in try Self.upsertSite(db, settings, now: now) }
    }

    public func sites() throws -> [SiteRecord] {
        try writer.read { db in try Self.sites(db) }
    }

    public func sites() async throws -> [SiteRecord] {
        try await writer.read { db in try Self.sites(db) }
    }

    public func site(named name: String) throws -> SiteRecord {
        guard let site = try writer.read({ db in try Self.site(db, named: name) }) else { throw StoreError.unknownSite(name) }
        return site
    }

    public func site(named name: String) async throws -> SiteRecord {
        guard let site = try await writer.read({ db in try Self.site(db, named: name) }) else { throw StoreError.unknownSite(name) }
        return site
    }

    /// Deletes a site and, by cascade, its inventory, crawls and events.
    public func removeSite(named name: String) throws {
        if try writer.write({ db in try Self.deleteSite(db, named: name) }) == 0 { throw StoreError.unknownSite(name) }
    }

    public func removeSite(named name: String) async throws {
        if try await writer.write({ db in try Self.deleteSite(db, named: name) }) == 0 { throw StoreError.unknownSite(name) }
    }

    static func refuseInvalid(_ settings: SiteSettings) throws {
        let problems = settings.problems()
        guard problems.isEmpty else { throw StoreError.invalidSite(problems) }
    }

    static func insertSite(_ db: Database, _ settings: SiteSettings, now: Date) throws -> SiteRecord {
        if try SiteRecord.filter(Column("name") == settings.name).fetchCount(db) > 0 {
            throw StoreError.siteExists(settings.name)
        }
        var record = SiteRecord(settings: settings, createdAt: now)
        try record.insert(db)
        try syncQueryPages(db, siteID: record.id)
        try syncRouteOwners(db, siteID: record.id)
        return record
    }

    static func upsertSite(_ db: Database, _ settings: SiteSettings, now: Date) throws -> SiteRecord {
        guard var existing = try SiteRecord.filter(Column("name") == settings.name).fetchOne(db) else {
            return try insertSite(db, settings, now: now)
        }
        let created = existing.createdAt
        let id = existing.id
        let lastScheduled = existing.lastScheduledAt
        try checkPageKeyRemoval(db, site: existing, newKeys: settings.pageKeys)
        let old = existing.settings
        let detected = existing.detectedFrontController
        existing = SiteRecord(settings: settings, createdAt: created)
        existing.storedID = id
        existing.lastScheduledAt = lastScheduled
        existing.detectedFrontController = detected
        try existing.update(db)
        // Each scans the site's URLs (0.5 s at 1,000,000), and `crawl --docroot` upserts the
        // site every run: only when the setting they follow changed.
        if old.pageKeys != settings.pageKeys { try syncQueryPages(db, siteID: existing.id) }
        let routingChanged =
            old.frontController != settings.frontController || old.frontControllerDeclined != settings.frontControllerDeclined
            || old.aliases != settings.aliases
        if routingChanged { try syncRouteOwners(db, siteID: existing.id) }
        // Expected owners moved with the settings: so does each URL's drift against its last
        // observation (not only at the next probe).
        if old.pageKeys != settings.pageKeys || routingChanged {
            try refreshDrift(db, siteID: existing.id)
            try markAliases(db, siteID: existing.id)
            try markNeverPages(db, siteID: existing.id)
        }
        return existing
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

    /// SQL: the row `table` has a path below one of its site's Alias directories, which Apache
    /// serves from there (no fallback, no front controller).
    static func underAlias(_ table: String) -> String {
        """
        EXISTS (SELECT 1 FROM json_each((SELECT s.aliases FROM sites s WHERE s.id = \(table).site_id)) a
          WHERE substr(\(table).path, 1, length(json_extract(a.value, '$.urlPath')) + 1) = json_extract(a.value, '$.urlPath') || '/')
        """
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

    static func sites(_ db: Database) throws -> [SiteRecord] {
        try SiteRecord.order(Column("name")).fetchAll(db)
    }

    /// Every API request starts here: a cached statement, not a query prepared each time.
    static func site(_ db: Database, named name: String) throws -> SiteRecord? {
        try SiteRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM sites WHERE name = ?"), arguments: [name])
    }

    static func deleteSite(_ db: Database, named name: String) throws -> Int {
        try SiteRecord.filter(Column("name") == name).deleteAll(db)
    }
}

extension AppDatabase {
    /// Records that the schedule started a run of this site now.
    public func markScheduled(siteID: SiteID, at date: Date) throws {
        try writer.write { db in
            try db.execute(sql: "UPDATE sites SET last_scheduled_at = ? WHERE id = ?", arguments: [date, siteID])
        }
    }

    public func markScheduled(siteID: SiteID, at date: Date) async throws {
        try await writer.write { db in
            try db.execute(sql: "UPDATE sites SET last_scheduled_at = ? WHERE id = ?", arguments: [date, siteID])
        }
    }
}
