import CutoverCore
import Foundation
import GRDB

// Reading both sides of a page: statuses and durations per side, merged over a window.
extension TrafficStore {
    /// Each side's figures for `path` over the UTC days `days` (PHP first, then Swift; a side
    /// without requests is left out).
    package func sides(siteID: SiteID, path: String, days: ClosedRange<Int>) async throws -> [SideFigures] {
        try await writer.read { db in
            var figures: [Owner: SideFigures] = [:]
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT side, hits, status_2xx, status_3xx, status_4xx, status_5xx, status_other, latency FROM traffic_sides
                    WHERE site_id = ? AND path = ? AND day BETWEEN ? AND ?
                    """,
                arguments: [siteID, path, days.lowerBound, days.upperBound]
            )
            while let row = try rows.next() {
                guard let side = Owner(rawValue: row["side"]) else { continue }
                var tally = figures[side] ?? SideFigures(side: side)
                tally.hits += row["hits"] as Int
                tally.status2xx += row["status_2xx"] as Int
                tally.status3xx += row["status_3xx"] as Int
                tally.status4xx += row["status_4xx"] as Int
                tally.status5xx += row["status_5xx"] as Int
                tally.statusOther += row["status_other"] as Int
                if let data = row["latency"] as Data?, let histogram = LatencyHistogram(encoded: data) { tally.latency.merge(histogram) }
                figures[side] = tally
            }
            return [Owner.php, .swift].compactMap { figures[$0] }
        }
    }
}
