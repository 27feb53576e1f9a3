import CutoverCore
import Foundation
import GRDB

// Each answer has a synchronous form (the CLI, the crawler's Dispatch thread) and an async one
// (the server: GRDB runs it on its own queues, never on a NIO event loop). Both share one
// function over `Database`, so a change of the query changes both.
extension SiteStore {
    /// Registers a new site; refuses invalid settings and duplicate names.
    @discardableResult
    package func add(_ settings: SiteSettings) async throws -> SiteRecord {
        try Self.refuseInvalid(settings)
        return try await writer.write { [now = clock.now()] db in try Self.insertSite(db, settings, now: now) }
    }

    /// Creates the site or replaces its settings, keeping its id and inventory.
    @discardableResult
    package func save(_ settings: SiteSettings) async throws -> SiteRecord {
        try Self.refuseInvalid(settings)
        return try await writer.write { [now = clock.now()] db in try Self.upsertSite(db, settings, now: now) }
    }

    package func all() async throws -> [SiteRecord] {
        try await writer.read { db in try SiteStore.sites(db) }
    }

    package func named(_ name: String) async throws -> SiteRecord {
        guard let site = try await writer.read({ db in try Self.site(db, named: name) }) else { throw StoreError.unknownSite(name) }
        return site
    }

    /// Deletes a site and, by cascade, its inventory, crawls and events.
    package func remove(named name: String) async throws {
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
        try InventoryRules.syncQueryPages(db, siteID: record.id)
        try InventoryRules.syncRouteOwners(db, siteID: record.id)
        return record
    }

    static func upsertSite(_ db: Database, _ settings: SiteSettings, now: Date) throws -> SiteRecord {
        guard var existing = try SiteRecord.filter(Column("name") == settings.name).fetchOne(db) else {
            return try insertSite(db, settings, now: now)
        }
        let created = existing.createdAt
        let id = existing.id
        let lastScheduled = existing.lastScheduledAt
        try InventoryRules.checkPageKeyRemoval(db, site: existing, newKeys: settings.pageKeys)
        let old = existing.settings
        let detected = existing.detectedFrontController
        existing = SiteRecord(settings: settings, createdAt: created)
        existing.storedID = id
        existing.lastScheduledAt = lastScheduled
        existing.detectedFrontController = detected
        try existing.update(db)
        // Each scans the site's URLs (0.5 s at 1,000,000), and `crawl --docroot` upserts the
        // site every run: only when the setting they follow changed.
        if old.pageKeys != settings.pageKeys { try InventoryRules.syncQueryPages(db, siteID: existing.id) }
        let routingChanged =
            old.frontController != settings.frontController || old.frontControllerDeclined != settings.frontControllerDeclined
            || old.aliases != settings.aliases
        if routingChanged { try InventoryRules.syncRouteOwners(db, siteID: existing.id) }
        // Expected owners moved with the settings: so does each URL's drift against its last
        // observation (not only at the next probe).
        if old.pageKeys != settings.pageKeys || routingChanged {
            try InventoryRules.refreshDrift(db, siteID: existing.id)
            try InventoryRules.markAliases(db, siteID: existing.id)
            try InventoryRules.markNeverPages(db, siteID: existing.id)
        }
        return existing
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

extension SiteStore {
    /// Records that the schedule started a run of this site now.
    package func markScheduled(siteID: SiteID, at date: Date) async throws {
        try await writer.write { db in
            try db.execute(sql: "UPDATE sites SET last_scheduled_at = ? WHERE id = ?", arguments: [date, siteID])
        }
    }
}

extension SiteStore {
    /// The secret of the site's side header (`SideHeader`): for the people and the parity
    /// requests that choose a side. `rotating` draws a new one first: exports made before then
    /// stop honouring the old one once a new export is live.
    package func sideSecret(site: SiteRecord, rotating: Bool = false) async throws -> String {
        let siteID = site.id
        let secret: String?
        if rotating {
            secret = try await writer.write { db in
                try db.execute(
                    sql: "UPDATE site_secrets SET side_secret = lower(hex(randomblob(16))) WHERE site_id = ?",
                    arguments: [siteID]
                )
                return try Self.sideSecret(db, siteID: siteID)
            }
        } else {
            secret = try await writer.read { db in try Self.sideSecret(db, siteID: siteID) }
        }
        guard let secret else { throw StoreError.unknownSite(site.name) }
        return secret
    }

    static func sideSecret(_ db: Database, siteID: SiteID) throws -> String? {
        try String.fetchOne(db, sql: "SELECT side_secret FROM site_secrets WHERE site_id = ?", arguments: [siteID])
    }
}

extension SiteStore {
    /// The request headers parity sends under URL prefixes (`ParityCredential`), by prefix and name.
    package func parityCredentials(site: SiteRecord) async throws -> [ParityCredential] {
        let siteID = site.id
        return try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT prefix, name, value FROM parity_credentials WHERE site_id = ? ORDER BY prefix, name",
                arguments: [siteID]
            )
            .map { ParityCredential(prefix: $0["prefix"], name: $0["name"], value: $0["value"]) }
        }
    }

    /// Sets one (replacing the value of the same prefix and name), after checking it.
    package func setParityCredential(_ credential: ParityCredential, site: SiteRecord) async throws {
        let problems = credential.problems()
        guard problems.isEmpty else { throw StoreError.invalidSite(problems) }
        let siteID = site.id
        try await writer.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO parity_credentials (site_id, prefix, name, value) VALUES (?, ?, ?, ?)",
                arguments: [siteID, credential.prefix, credential.name, credential.value]
            )
        }
    }

    /// Removes the header `name` under `prefix` (every header under it when `name` is nil); returns how many went.
    @discardableResult
    package func removeParityCredentials(prefix: String, name: String?, site: SiteRecord) async throws -> Int {
        let siteID = site.id
        return try await writer.write { db in
            if let name {
                try db.execute(
                    sql: "DELETE FROM parity_credentials WHERE site_id = ? AND prefix = ? AND lower(name) = lower(?)",
                    arguments: [siteID, prefix, name]
                )
            } else {
                try db.execute(sql: "DELETE FROM parity_credentials WHERE site_id = ? AND prefix = ?", arguments: [siteID, prefix])
            }
            return db.changesCount
        }
    }
}
