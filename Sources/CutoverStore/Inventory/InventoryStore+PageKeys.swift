import CutoverCore
import Foundation
import GRDB

/// A query key that looks like it names the pages of a script, with the evidence.
package struct PageKeySuggestion: Sendable, Hashable {
    package var script: String
    package var key: String
    /// Distinct values seen (the capped table keeps the top 200).
    package var distinctValues: Int
    /// Requests whose query had the key, and all the script's requests.
    package var keyHits: Int
    package var scriptHits: Int
    /// The most requested values, most first.
    package var topValues: [QueryValue]
}

extension InventoryStore {
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

    /// Page-key scripts that answer their directory URL (the inventory's directory-index URL
    /// with the same file), by script: `/index.php` → `/`.
    @available(*, noasync)
    package func pageKeyDirectoryURLs(site: SiteRecord) throws -> [String: String] {
        try writer.read { db in try InventoryStore.pageKeyDirectoryURLs(db, site: site) }
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

    /// Query keys of PHP scripts whose values split the script's requests into pages: a key
    /// present in at least half of the script's requests with at least 3 distinct values.
    /// Declared keys are left out.
    package func pageKeySuggestions(siteID: SiteID, limit: Int = 10) async throws -> [PageKeySuggestion] {
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
