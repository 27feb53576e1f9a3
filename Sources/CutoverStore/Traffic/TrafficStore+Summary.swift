import CutoverCore
import Foundation
import GRDB

extension TrafficStore {
    /// The traffic figures of a site in one read transaction: Swift's share of page requests over
    /// 7 and 30 days, what to port next, orphans, includes and noise.
    package func summary(siteID: SiteID, orphanDays: Int = TrafficSummary.defaultOrphanDays, listLimit: Int = 20) async throws -> TrafficSummary {
        let today = Int(clock.now().timeIntervalSince1970.rounded(.down)) / 86_400
        return try await writer.read { db in try Self.trafficSummary(db, siteID: siteID, today: today, orphanDays: orphanDays, listLimit: listLimit) }
    }

    static func trafficSummary(_ db: Database, siteID: SiteID, today: Int, orphanDays: Int, listLimit: Int) throws -> TrafficSummary {
        var summary = TrafficSummary(orphanDays: orphanDays)
        let range = try Row.fetchOne(
            db,
            sql: """
                SELECT min(day) AS first, max(day) AS last FROM (
                  SELECT day FROM traffic_daily WHERE site_id = ?1 UNION ALL SELECT day FROM traffic_tail_days WHERE site_id = ?1 AND hits > 0)
                """,
            arguments: [siteID]
        )
        summary.logsFrom = (range?["first"] as Int?).map(CivilDate.text)
        summary.logsTo = (range?["last"] as Int?).map(CivilDate.text)
        summary.last7 = try share(db, siteID: siteID, since: today - 7, days: 7)
        summary.last30 = try share(db, siteID: siteID, since: today - 30, days: 30)
        // Pages by their own requests: a query page's (`/index.php?page=about`) are its own rows,
        // not its script's.
        let portable = """
            u.site_id = ?2 AND u.owner = 'php' AND u.gone = 0 AND coalesce(u.planned_owner, 'php') = 'php'
            AND coalesce(u.last_status, 200) < 400
            """
        summary.portNext = try Row.fetchAll(
            db,
            sql: """
                SELECT u.path AS path, sum(d.hits - d.page_hits) AS hits, sum(d.human_hits - d.page_human_hits) AS human FROM urls u
                JOIN traffic_daily d ON d.site_id = u.site_id AND d.path = u.path AND d.day > ?1
                WHERE \(portable) GROUP BY u.path HAVING human > 0
                UNION ALL
                SELECT u.path AS path, sum(d.hits) AS hits, sum(d.human_hits) AS human FROM urls u
                JOIN query_page_daily d ON d.site_id = u.site_id AND d.path = u.path AND d.day > ?1
                WHERE \(portable) AND u.flags & \(URLFlags.queryPage.rawValue) != 0 GROUP BY u.path HAVING human > 0
                ORDER BY human DESC, hits DESC, path LIMIT ?3
                """,
            arguments: [today - 30, siteID, listLimit]
        ).map { RankedPage(path: $0["path"], hits: $0["hits"], humanHits: $0["human"]) }
        // A query page requested before its days were kept (query_page_hits only) is no orphan.
        let orphanFilter = """
            FROM urls u WHERE u.site_id = ?1 AND u.owner = 'php' AND u.gone = 0 AND u.flags & \(URLFlags.include.rawValue) = 0
            AND coalesce(u.last_status, 0) < 400
            AND NOT EXISTS (SELECT 1 FROM traffic_daily d WHERE d.site_id = u.site_id AND d.path = u.path AND d.day > ?2 AND d.human_hits > 0)
            AND NOT EXISTS (SELECT 1 FROM query_page_daily q WHERE q.site_id = u.site_id AND q.path = u.path AND q.day > ?2 AND q.human_hits > 0)
            AND NOT (u.flags & \(URLFlags.queryPage.rawValue) != 0 AND coalesce(u.hits, 0) > 0
              AND NOT EXISTS (SELECT 1 FROM query_page_daily q WHERE q.site_id = u.site_id AND q.path = u.path))
            """
        summary.orphanCount = try Int.fetchOne(db, sql: "SELECT count(*) \(orphanFilter)", arguments: [siteID, today - orphanDays]) ?? 0
        summary.orphans = try String.fetchAll(
            db,
            sql: "SELECT u.path \(orphanFilter) ORDER BY u.path LIMIT ?3",
            arguments: [siteID, today - orphanDays, listLimit]
        )
        let includeFilter = "FROM urls WHERE site_id = ? AND owner = 'php' AND gone = 0 AND flags & \(URLFlags.include.rawValue) != 0"
        summary.includeCount = try Int.fetchOne(db, sql: "SELECT count(*) \(includeFilter)", arguments: [siteID]) ?? 0
        summary.includes = try String.fetchAll(db, sql: "SELECT path \(includeFilter) ORDER BY path LIMIT ?", arguments: [siteID, listLimit])
        let noiseFilter = """
            FROM traffic t WHERE t.site_id = ? AND t.status_4xx = t.hits
            AND NOT EXISTS (SELECT 1 FROM urls u WHERE u.site_id = t.site_id AND u.path = t.path AND u.gone = 0)
            """
        if let row = try Row.fetchOne(db, sql: "SELECT count(*) AS paths, coalesce(sum(t.hits), 0) AS hits \(noiseFilter)", arguments: [siteID]) {
            summary.noiseCount = row["paths"]
            summary.noiseHits = row["hits"]
        }
        summary.noise = try Row.fetchAll(
            db,
            sql: "SELECT t.path, t.hits, t.hits - t.bot_hits AS human \(noiseFilter) ORDER BY t.hits DESC, t.path LIMIT ?",
            arguments: [siteID, listLimit]
        ).map { RankedPage(path: $0["path"], hits: $0["hits"], humanHits: $0["human"]) }
        summary.pageKeySuggestions = try InventoryStore.pageKeySuggestions(db, siteID: siteID, limit: 5)
        summary.tail = try tail(db, siteID: siteID, sinceDay: today - 30, limit: listLimit)
        return summary
    }

    /// The URL's latest probe found an error (403, 404, 5xx) or an empty 2xx body: a file that
    /// only defines code (a class, a library) or that its app refuses to run directly.
    static let answersLikeAnInclude = """
        (coalesce(u.last_status, 0) >= 400 OR EXISTS (SELECT 1 FROM probe_results pr WHERE pr.url_id = u.id AND pr.run_id = u.last_probe_run
          AND pr.status BETWEEN 200 AND 299 AND pr.content_length = 0))
        """

    /// A PHP file that answers like an include, or that other PHP files include, and that no
    /// person has requested.
    static let isInclude = """
        (u.owner = 'php' AND u.gone = 0 AND u.file_path IS NOT NULL AND u.flags & \(URLFlags.queryPage.rawValue) = 0
          AND (u.flags & \(URLFlags.includedBySource.rawValue) != 0 OR \(answersLikeAnInclude))
          AND NOT EXISTS (SELECT 1 FROM traffic t WHERE t.site_id = u.site_id AND t.path = u.path AND t.hits > t.bot_hits))
        """

    /// Swift's share of page requests on days after `since`. Each path's hits are attributed
    /// by the log where its lines said who answered, else by the URL's latest probe, else by
    /// the inventory (a requested URL without a file is the fallback's: Swift).
    static func share(_ db: Database, siteID: SiteID, since: Int, days: Int) throws -> TrafficShare {
        var share = TrafficShare(days: days)
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT sum(d.hits) AS hits, sum(d.attributed) AS attributed, sum(d.served_swift) AS swift,
                  sum(d.human_hits) AS human, sum(d.human_attributed) AS human_attributed, sum(d.human_served_swift) AS human_swift,
                  u.owner AS owner, u.observed_owner AS observed, t.hits AS total, t.status_4xx AS total4xx
                FROM traffic_daily d
                JOIN traffic t ON t.site_id = d.site_id AND t.path = d.path
                LEFT JOIN urls u ON u.site_id = d.site_id AND u.path = d.path AND u.gone = 0
                WHERE d.site_id = ? AND d.day > ?
                GROUP BY d.path
                """,
            arguments: [siteID, since]
        )
        for row in rows {
            let owner: String? = row["owner"]
            if owner == Owner.static.rawValue { continue }
            if owner == nil, (row["total4xx"] as Int) == (row["total"] as Int) { continue }
            let hits: Int = row["hits"]
            let attributed: Int = row["attributed"]
            share.pageHits += hits
            share.swiftHits += row["swift"] as Int
            share.byLog += attributed
            let human: Int = row["human"]
            share.humanPageHits += human
            share.humanSwiftHits += row["human_swift"] as Int
            let observed: String? = row["observed"]
            let restOnSwift = (observed ?? owner ?? Owner.swift.rawValue) == Owner.swift.rawValue
            if restOnSwift { share.humanSwiftHits += human - (row["human_attributed"] as Int) }
            let rest = hits - attributed
            guard rest > 0 else { continue }
            if observed != nil { share.byProbe += rest } else { share.byPlan += rest }
            if restOnSwift { share.swiftHits += rest }
        }
        share.percentOnSwift = share.pageHits > 0 ? Double(share.swiftHits) * 100 / Double(share.pageHits) : nil
        share.humanPercentOnSwift = share.humanPageHits > 0 ? Double(share.humanSwiftHits) * 100 / Double(share.humanPageHits) : nil
        return share
    }
}
