import CutoverCore
import CutoverTestSupport
import Foundation
import GRDB
import Testing

@testable import CutoverStore

/// A URL page is the same slice of the whole ordered list whichever way SQLite reaches it (an
/// index walk forwards or backwards, a sort, rows skipped by OFFSET), through both read paths;
/// and the whole list is in the documented order: by the sort's column, NULL first, ties by id,
/// descending exactly reversed.
@Suite struct URLPageQueryTests {
    /// 23 URLs with repeated owners, statuses and latencies (so the tie-break on id decides),
    /// gone ones and traffic for some.
    static func database() async throws -> (AppDatabase, SiteID) {
        let database = try AppDatabase(writer: DatabaseQueue())
        let settings = SiteSettings(name: "demo", docroot: "/srv/www", publicURL: "http://127.0.0.1:8081", backendURL: "http://127.0.0.1:8080")
        let siteID = try await database.sites.add(settings).id
        let owners: [Owner] = [.php, .static, .swift]
        let found = (0..<23).map { index in
            FoundURL(
                path: "/p\(String(format: "%02d", (index * 7) % 23)).php",
                filePath: "p\(index).php",
                owner: owners[index % 3],
                size: Int64(index),
                mtime: Double(index),
                contentHash: "h\(index)",
                flags: []
            )
        }
        let changes = InventoryChanges.between(known: try storeCall { try database.crawls.knownURLs(siteID: siteID) }, found: found)
        _ = try await offPool {
            try database.crawls.finish(try database.crawls.begin(siteID: siteID), changes: changes, issues: [], filesSeen: found.count)
        }
        try await database.writer.write { db in
            try db.execute(sql: "UPDATE urls SET last_status = 200 + (id % 4), last_latency_ms = (id % 5) * 1.5")
            try db.execute(sql: "UPDATE urls SET gone = 1 WHERE id % 6 = 0")
        }
        var batch = TrafficBatch()
        for (index, path) in ["/p03.php", "/p04.php", "/p10.php", "/p17.php", "/p21.php"].enumerated() {
            var counts = TrafficCounts()
            counts.hits = [5, 9, 5, 1, 12][index]
            counts.status2xx = counts.hits
            counts.firstSeen = 1_700_000_000
            counts.lastSeen = 1_700_000_000 + index * 60
            batch.paths[path] = counts
        }
        _ = try storeCall { try database.traffic.record(batch, siteID: siteID) }
        return (database, siteID)
    }

    @Test(arguments: URLSort.allCases, [false, true])
    func everyPageIsItsSliceOfTheWholeList(sort: URLSort, descending: Bool) async throws {
        let (database, siteID) = try await Self.database()
        for includeGone in [false, true] {
            for minHits in [nil, 1] as [Int?] {
                var query = URLQuery(includeGone: includeGone)
                query.sort = sort
                query.descending = descending
                query.minHits = minHits
                let whole = try storeCall { try database.inventory.views(siteID: siteID, query: query) }
                // 3 gone URLs; 5 with traffic, one of them gone.
                #expect(whole.count == (minHits == nil ? (includeGone ? 23 : 20) : (includeGone ? 5 : 4)))
                #expect(try await database.inventory.count(siteID: siteID, query: query) == whole.count)
                let ordered = whole.sorted { Self.precedes($0, $1, by: sort) }
                #expect(whole.map(\.id) == (descending ? ordered.reversed() : ordered).map(\.id), "\(sort) \(descending)")
                for offset in [0, 1, 4, 7, whole.count - 1, whole.count + 2] {
                    var page = query
                    page.limit = 4
                    page.offset = offset
                    let expected = Array(whole.dropFirst(offset).prefix(4))
                    let views = try storeCall { try database.inventory.views(siteID: siteID, query: page) }
                    #expect(
                        views.map(\.path) == expected.map(\.path),
                        "\(sort) \(descending) offset \(offset) gone \(includeGone) minHits \(String(describing: minHits))"
                    )
                    #expect(views.map(\.hits) == expected.map(\.hits))
                    let rows = try await offPool { [page] in
                        var rows: [String] = []
                        try database.inventory.forEachURL(siteID: siteID, query: page) { row in
                            rows.append(String(decoding: row.text(.path)!, as: UTF8.self))
                        }
                        return rows
                    }
                    #expect(rows == expected.map(\.path))
                }
            }
        }
    }

    /// The ascending order, computed here rather than by SQLite: the sort's column with NULL
    /// first (as SQLite orders it), then the id.
    static func precedes(_ a: URLEntry, _ b: URLEntry, by sort: URLSort) -> Bool {
        func compare<T: Comparable>(_ x: T?, _ y: T?) -> Bool? {
            switch (x, y) {
            case (nil, nil): nil
            case (nil, _): true
            case (_, nil): false
            case (let x?, let y?): x == y ? nil : x < y
            }
        }
        let decided: Bool? =
            switch sort {
            case .path: compare(a.path, b.path)
            case .owner: compare(a.owner.rawValue, b.owner.rawValue)
            case .status: compare(a.lastStatus, b.lastStatus)
            case .latency: compare(a.lastLatencyMs, b.lastLatencyMs)
            case .hits: compare(a.hits, b.hits)
            case .lastSeen: compare(a.lastSeen, b.lastSeen)
            }
        return decided ?? (a.id < b.id)
    }
}
