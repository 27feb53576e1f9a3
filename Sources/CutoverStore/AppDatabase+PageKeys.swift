import CutoverCore
import Foundation
import GRDB

/// A query key that looks like it names the pages of a script, with the evidence.
public struct PageKeySuggestion: Codable, Sendable, Hashable {
    public var script: String
    public var key: String
    /// Distinct values seen (the capped table keeps the top 200).
    public var distinctValues: Int
    /// Requests whose query had the key, and all the script's requests.
    public var keyHits: Int
    public var scriptHits: Int
    /// The most requested values, most first.
    public var topValues: [QueryValue]
}

extension AppDatabase {
    /// The most values of one key that become pages per sync (the traffic table keeps 200).
    static let queryPagesPerKey = 1_000

    /// Adds the page (path, flag) of a script (site, script path, flag) owned like the script,
    /// unless it is known already.
    static let insertQueryPage = """
        INSERT INTO urls (site_id, path, file_path, owner, flags, first_seen_crawl, changed_crawl, gone)
        SELECT site_id, ?, file_path, owner, ?, changed_crawl, changed_crawl, gone FROM urls
        WHERE site_id = ? AND path = ? AND flags & ? = 0
        ON CONFLICT (site_id, path) DO NOTHING
        """

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
        let insert = try db.makeStatement(sql: insertQueryPage)
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
                arguments: [siteID, pageKey.script, pageKey.key, queryPagesPerKey]
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

    /// Page-key scripts that answer their directory URL (the inventory's directory-index URL
    /// with the same file), by script: `/index.php` → `/`.
    public func pageKeyDirectoryURLs(site: SiteRecord) throws -> [String: String] {
        try writer.read { db in try Self.pageKeyDirectoryURLs(db, site: site) }
    }

    static func pageKeyDirectoryURLs(_ db: Database, site: SiteRecord) throws -> [String: String] {
        guard !site.pageKeys.isEmpty else { return [:] }
        var result: [String: String] = [:]
        for script in Set(site.pageKeys.map(\.script)) {
            let directory = try String.fetchOne(
                db,
                sql: """
                    SELECT d.path FROM urls s JOIN urls d ON d.site_id = s.site_id AND d.file_path = s.file_path
                    WHERE s.site_id = ? AND s.path = ? AND s.gone = 0 AND d.gone = 0 AND d.flags & ? != 0
                    """,
                arguments: [site.id, script, URLFlags.directoryIndex.rawValue]
            )
            if let directory { result[script] = directory }
        }
        return result
    }

    /// One page of a declared key that no log named yet, added so it can be flipped; nil when the
    /// URL is no page of a declared key or its script is not in the inventory.
    static func addQueryPage(_ db: Database, siteID: SiteID, url: String) throws -> URLRecord? {
        guard let site = try SiteRecord.fetchOne(db, key: siteID), let page = QueryPage.parse(url),
            site.pageKeys.contains(PageKey(script: page.script, key: page.key))
        else { return nil }
        let flag = URLFlags.queryPage.rawValue
        try db.execute(sql: insertQueryPage, arguments: [url, flag, siteID, page.script, flag])
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

    /// Query keys of PHP scripts whose values split the script's requests into pages: a key
    /// present in at least half of the script's requests with at least 3 distinct values.
    /// Declared keys are left out.
    public func pageKeySuggestions(siteID: SiteID, limit: Int = 10) async throws -> [PageKeySuggestion] {
        try await writer.read { db in try Self.pageKeySuggestions(db, siteID: siteID, limit: limit) }
    }

    static func pageKeySuggestions(_ db: Database, siteID: SiteID, limit: Int) throws -> [PageKeySuggestion] {
        let declared = Set((try SiteRecord.fetchOne(db, key: siteID)?.pageKeys ?? []).map(\.argument))
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT v.path, v.key, sum(v.is_other = 0) AS distinct_values, sum(v.hits) AS key_hits, t.hits AS script_hits
                FROM traffic_query_values v
                JOIN traffic t ON t.site_id = v.site_id AND t.path = v.path
                JOIN urls u ON u.site_id = v.site_id AND u.path = v.path AND u.owner = 'php' AND u.gone = 0
                WHERE v.site_id = ?
                GROUP BY v.path, v.key
                HAVING distinct_values >= 3 AND key_hits * 2 >= script_hits
                  AND sum(CASE WHEN v.is_other = 0 THEN v.hits ELSE 0 END) >= 2 * distinct_values
                ORDER BY distinct_values DESC, key_hits DESC, v.path, v.key
                """,
            arguments: [siteID]
        )
        var suggestions: [PageKeySuggestion] = []
        for row in rows {
            let script: String = row["path"]
            let key: String = row["key"]
            guard QueryPage.isKeyName(key), !declared.contains(PageKey(script: script, key: key).argument) else { continue }
            let top = try Row.fetchAll(
                db,
                sql:
                    "SELECT value, hits FROM traffic_query_values WHERE site_id = ? AND path = ? AND key = ? AND is_other = 0 ORDER BY hits DESC, value LIMIT 5",
                arguments: [siteID, script, key]
            ).map { QueryValue(key: key, value: $0["value"], hits: $0["hits"]) }
            suggestions.append(
                PageKeySuggestion(
                    script: script,
                    key: key,
                    distinctValues: row["distinct_values"],
                    keyHits: row["key_hits"],
                    scriptHits: row["script_hits"],
                    topValues: top
                )
            )
            if suggestions.count == limit { break }
        }
        return suggestions
    }
}
