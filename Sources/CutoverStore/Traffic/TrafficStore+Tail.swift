import CutoverCore
import GRDB

// Reading the log's tail: the per-day summaries merged over a window.
extension TrafficStore {
    /// The tail over the UTC days after `sinceDay`, with its `limit` most requested paths.
    package func tail(siteID: SiteID, sinceDay: Int, limit: Int = 20) async throws -> TrafficTailFigures {
        try await writer.read { db in try Self.tail(db, siteID: siteID, sinceDay: sinceDay, limit: limit) }
    }

    static func tail(_ db: Database, siteID: SiteID, sinceDay: Int, limit: Int) throws -> TrafficTailFigures {
        var figures = TrafficTailFigures()
        if let row = try Row.fetchOne(
            db,
            sql: """
                SELECT count(*) AS days, coalesce(sum(hits), 0) AS hits, coalesce(sum(human_hits), 0) AS human,
                  coalesce(sum(hits_4xx), 0) AS client_errors, coalesce(sum(hits / capacity), 0) AS bound
                FROM traffic_tail_days WHERE site_id = ? AND day > ?
                """,
            arguments: [siteID, sinceDay]
        ) {
            figures.days = row["days"]
            figures.requests = row["hits"]
            figures.humanRequests = row["human"]
            figures.clientErrorRequests = row["client_errors"]
            figures.bound = row["bound"]
        }
        figures.paths = try Row.fetchAll(
            db,
            sql: """
                SELECT path, sum(hits) AS hits, sum(hits - error) AS certain, sum(human_hits) AS human, sum(hits_4xx) AS client_errors,
                  count(*) AS days
                FROM traffic_tail WHERE site_id = ? AND day > ?
                GROUP BY path ORDER BY hits DESC, path LIMIT ?
                """,
            arguments: [siteID, sinceDay, limit]
        ).map { row in
            TrafficTailPath(
                path: row["path"],
                hits: row["hits"],
                certain: row["certain"],
                humanHits: row["human"],
                clientErrorHits: row["client_errors"],
                days: row["days"]
            )
        }
        return figures
    }

    /// Entries per day's summary (oldest first): what the tail stores is bounded by its capacity.
    @available(*, noasync)
    package func tailSizes(siteID: SiteID) throws -> [(day: Int, paths: Int, requests: Int, capacity: Int)] {
        try writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT d.day, d.hits, d.capacity, (SELECT count(*) FROM traffic_tail t WHERE t.site_id = d.site_id AND t.day = d.day) AS paths
                    FROM traffic_tail_days d WHERE d.site_id = ? ORDER BY d.day
                    """,
                arguments: [siteID]
            ).map { ($0["day"], $0["paths"], $0["hits"], $0["capacity"]) }
        }
    }
}
