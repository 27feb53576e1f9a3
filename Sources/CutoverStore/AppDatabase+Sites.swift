import CutoverCore
import Foundation
import GRDB

extension AppDatabase {
    /// Registers a new site; refuses invalid settings and duplicate names.
    @discardableResult
    public func addSite(_ settings: SiteSettings) throws -> SiteRecord {
        let problems = settings.problems()
        guard problems.isEmpty else { throw StoreError.invalidSite(problems) }
        return try writer.write { db in
            if try SiteRecord.filter(Column("name") == settings.name).fetchCount(db) > 0 {
                throw StoreError.siteExists(settings.name)
            }
            var record = SiteRecord(settings: settings)
            try record.insert(db)
            return record
        }
    }

    /// Creates the site or replaces its settings, keeping its id and inventory.
    @discardableResult
    public func upsertSite(_ settings: SiteSettings) throws -> SiteRecord {
        let problems = settings.problems()
        guard problems.isEmpty else { throw StoreError.invalidSite(problems) }
        return try writer.write { db in
            if var existing = try SiteRecord.filter(Column("name") == settings.name).fetchOne(db) {
                let created = existing.createdAt
                let id = existing.id
                let lastScheduled = existing.lastScheduledAt
                existing = SiteRecord(settings: settings, createdAt: created)
                existing.id = id
                existing.lastScheduledAt = lastScheduled
                try existing.update(db)
                return existing
            }
            var record = SiteRecord(settings: settings)
            try record.insert(db)
            return record
        }
    }

    public func sites() throws -> [SiteRecord] {
        try writer.read { db in try SiteRecord.order(Column("name")).fetchAll(db) }
    }

    public func site(named name: String) throws -> SiteRecord {
        // Every API request starts here: a cached statement, not a query prepared each time.
        let site = try writer.read { db in
            try SiteRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM sites WHERE name = ?"), arguments: [name])
        }
        guard let site else {
            throw StoreError.unknownSite(name)
        }
        return site
    }

    /// Deletes a site and, by cascade, its inventory, crawls and events.
    public func removeSite(named name: String) throws {
        let deleted = try writer.write { db in try SiteRecord.filter(Column("name") == name).deleteAll(db) }
        if deleted == 0 { throw StoreError.unknownSite(name) }
    }
}

extension AppDatabase {
    /// Records that the schedule started a run of this site now.
    public func markScheduled(siteID: Int64, at date: Date = Date()) throws {
        try writer.write { db in
            try db.execute(sql: "UPDATE sites SET last_scheduled_at = ? WHERE id = ?", arguments: [date, siteID])
        }
    }
}
