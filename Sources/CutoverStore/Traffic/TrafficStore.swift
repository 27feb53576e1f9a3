import CutoverCore
import Foundation
import GRDB

extension TrafficStore {
    /// How the traffic table can be ordered.
    package enum TrafficOrder: String, Sendable, CaseIterable {
        case hits, humanHits, lastSeen, path

        var sql: String {
            switch self {
            case .hits: "hits DESC, path"
            case .humanHits: "hits - bot_hits DESC, path"
            case .lastSeen: "last_seen DESC, path"
            case .path: "path"
            }
        }
    }

    /// One page of a site's traffic table and how many rows match, in one read transaction.
    /// `prefix` keeps paths that start with it.
    package func page(
        siteID: SiteID,
        order: TrafficOrder,
        prefix: String?,
        limit: Int,
        offset: Int
    ) async throws -> (rows: [TrafficRow], total: Int) {
        try await writer.read { db in
            var filter = "site_id = ?"
            var arguments: StatementArguments = [siteID]
            if let prefix, !prefix.isEmpty {
                // substr() instead of LIKE: no wildcard in a path can widen the match.
                filter += " AND substr(path, 1, ?) = ?"
                _ = arguments.append(contentsOf: [prefix.utf8.count, prefix])
            }
            let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM traffic WHERE \(filter)", arguments: arguments) ?? 0
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT * FROM traffic WHERE \(filter) ORDER BY \(order.sql) LIMIT ? OFFSET ?",
                arguments: arguments + [limit, offset]
            ).map(Self.trafficRow)
            return (rows, total)
        }
    }

    /// Requests per UTC day over the last `days` days (today included, by the store's clock),
    /// oldest first; days without traffic are left out.
    package func byDay(siteID: SiteID, days: Int) async throws -> [TrafficDay] {
        let today = Int(clock.now().timeIntervalSince1970.rounded(.down)) / 86_400
        return try await writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT day, sum(hits) AS hits, sum(human_hits) AS human_hits, sum(attributed) AS attributed,
                      sum(served_swift) AS served_swift, sum(served_php) AS served_php, sum(tail_hits) AS tail_hits
                    FROM (
                      SELECT day, hits, human_hits, attributed, served_swift, served_php, 0 AS tail_hits
                      FROM traffic_daily WHERE site_id = ?1 AND day > ?2
                      UNION ALL
                      SELECT day, hits, human_hits, attributed, served_swift, served_php, hits AS tail_hits
                      FROM traffic_tail_days WHERE site_id = ?1 AND day > ?2
                    ) GROUP BY day HAVING sum(hits) > 0 ORDER BY day
                    """,
                arguments: [siteID, today - days]
            ).map { row in
                TrafficDay(
                    day: row["day"],
                    hits: row["hits"],
                    humanHits: row["human_hits"],
                    attributed: row["attributed"],
                    servedSwift: row["served_swift"],
                    servedPHP: row["served_php"],
                    tailHits: row["tail_hits"]
                )
            }
        }
    }

    /// The stored state of each log file of the site (synchronous: the importer reads it on its
    /// blocking thread; the server reads it through `blockingRead`).
    @available(*, noasync)
    package func logFiles(siteID: SiteID) throws -> [LogFileState] {
        try writer.read { db in
            try LogFileState.filter(Column("site_id") == siteID).order(Column("id")).fetchAll(db)
        }
    }

    /// The most requested paths of a site.
    @available(*, noasync)
    package func top(siteID: SiteID, limit: Int) throws -> [TrafficRow] {
        try writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM traffic WHERE site_id = ? ORDER BY hits DESC, path LIMIT ?
                    """,
                arguments: [siteID, limit]
            ).map(Self.trafficRow)
        }
    }

    @available(*, noasync)
    package func row(siteID: SiteID, path: String) throws -> TrafficRow? {
        try writer.read { db in try Self.traffic(db, siteID: siteID, path: path) }
    }

    static func traffic(_ db: Database, siteID: SiteID, path: String) throws -> TrafficRow? {
        try Row.fetchOne(db, sql: "SELECT * FROM traffic WHERE site_id = ? AND path = ?", arguments: [siteID, path]).map(Self.trafficRow)
    }

    /// Query keys of a path with their most requested values (at most `valuesPerKey` each, and
    /// the key's "other values" row), by key. Bounded: keys per path are capped at `keysPerPath`.
    @available(*, noasync)
    package func queryValues(siteID: SiteID, path: String, valuesPerKey: Int = TrafficStore.valuesPerKey) throws -> [QueryValue] {
        try writer.read { db in try Self.queryValues(db, siteID: siteID, path: path, valuesPerKey: valuesPerKey) }
    }

    /// What a URL's detail shows of each key: its 20 most requested values.
    package static let valuesShownPerKey = 20

    static func queryValues(_ db: Database, siteID: SiteID, path: String, valuesPerKey: Int = valuesShownPerKey) throws -> [QueryValue] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT key, is_other, value, hits FROM (
                  SELECT key, is_other, value, hits, row_number() OVER (PARTITION BY key, is_other ORDER BY hits DESC, value) AS rank
                  FROM traffic_query_values WHERE site_id = ? AND path = ?
                ) WHERE rank <= ?
                ORDER BY key, is_other, hits DESC, value LIMIT ?
                """,
            arguments: [siteID, path, valuesPerKey, keysPerPath * (valuesPerKey + 1)]
        ).map { row in QueryValue(key: row["key"], value: (row["is_other"] as Bool) ? nil : row["value"], hits: row["hits"]) }
    }

    @available(*, noasync)
    package func queries(siteID: SiteID, path: String) throws -> [(query: String, hits: Int)] {
        try writer.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT query, hits FROM traffic_queries WHERE site_id = ? AND path = ? ORDER BY hits DESC, query LIMIT ?",
                arguments: [siteID, path, Self.queriesPerPath]
            ).map { ($0["query"], $0["hits"]) }
        }
    }

    static func trafficRow(_ row: Row) -> TrafficRow {
        var counts = TrafficCounts()
        counts.hits = row["hits"]
        counts.bytes = row["bytes"]
        counts.firstSeen = row["first_seen"]
        counts.lastSeen = row["last_seen"]
        counts.status2xx = row["status_2xx"]
        counts.status3xx = row["status_3xx"]
        counts.status4xx = row["status_4xx"]
        counts.status5xx = row["status_5xx"]
        counts.statusOther = row["status_other"]
        counts.botHits = row["bot_hits"]
        counts.attributed = row["attributed"]
        counts.servedSwift = row["served_swift"]
        counts.servedPHP = row["served_php"]
        return TrafficRow(
            path: row["path"],
            counts: counts,
            otherQueryHits: row["other_query_hits"],
            otherKeyHits: row["other_key_hits"],
            exactSince: row["exact_since"],
            estimatedBefore: row["estimated_before"]
        )
    }
}
