import CutoverCore
import CutoverTestSupport
import Foundation
import GRDB
import Testing

@testable import CutoverStore

/// The URL-row rules every store applies (Rules/InventoryRules), one row per case: what is never
/// a page, where drift is, who answers a URL without a file. Each row is stored as the stores
/// would leave it, the rule runs in a transaction, and the row's flag or owner is read back.
@Suite struct InventoryRulesTests {
    /// One URL as stored, the logs' answers to it, and whether the rule should call it never a page.
    struct NeverPageRow: Sendable, CustomTestStringConvertible {
        var path: String
        var filePath: String? = nil
        var flags: URLFlags = .fromLog
        var planned: Owner? = nil
        var redirect: String? = nil
        /// Requests the logs saw answered 2xx or 3xx, and answered 4xx.
        var ok = 0
        var failed = 0
        var neverAPage: Bool
        var testDescription: String { "\(path) \(neverAPage ? "never a page" : "a page")" }
    }

    static let neverPageRows: [NeverPageRow] = [
        NeverPageRow(path: "/route", ok: 3, neverAPage: false),
        NeverPageRow(path: "/typo", failed: 9, neverAPage: true),
        NeverPageRow(path: "/.env", flags: [.fromLog, .hidden, .sensitive], ok: 2, neverAPage: true),
        // A catch-all answered a scanner: no crawl found such a script on this PHP site.
        NeverPageRow(path: "/wp-login.php", ok: 5, neverAPage: true),
        NeverPageRow(path: "/default.aspx", ok: 1, neverAPage: true),
        // A plan or a redirect names it: the user says it is a page.
        NeverPageRow(path: "/typo-planned", planned: .swift, failed: 2, neverAPage: false),
        NeverPageRow(path: "/old-name", redirect: "/new-name", failed: 2, neverAPage: false),
        // A file, a URL the crawl found, a page of a page key: never judged by the logs.
        NeverPageRow(path: "/a.php", filePath: "a.php", flags: [], failed: 4, neverAPage: false),
        NeverPageRow(path: "/doku.php?id=x", flags: [.fromLog, .queryPage], failed: 1, neverAPage: false),
        // Below an Alias directory Apache answers from there, not the fallback.
        NeverPageRow(path: "/uploads/a.jpg", ok: 4, neverAPage: true),
    ]

    static func database() async throws -> (AppDatabase, SiteID) {
        let database = try AppDatabase(writer: DatabaseQueue())
        var settings = SiteSettings(name: "shop", docroot: "/srv/www", publicURL: "http://127.0.0.1:8081", backendURL: "http://127.0.0.1:8080")
        settings.aliases = [PathAlias(urlPath: "/uploads", directory: "/var/lib/shop/uploads")]
        let site = try await database.sites.add(settings)
        let siteID = site.id
        let crawl = try storeCall { try database.crawls.begin(siteID: siteID) }
        _ = try storeCall { try database.crawls.finish(crawl, changes: InventoryChanges(inserting: []), issues: [], filesSeen: 0) }
        return (database, siteID)
    }

    @Test(arguments: neverPageRows) func neverAPage(row: NeverPageRow) async throws {
        let (database, siteID) = try await Self.database()
        var batch = TrafficBatch()
        var counts = TrafficCounts()
        counts.hits = row.ok + row.failed
        counts.status2xx = row.ok
        counts.status4xx = row.failed
        counts.firstSeen = 20_759 * 86_400
        counts.lastSeen = counts.firstSeen
        batch.paths[row.path] = counts
        batch.days[TrafficBatch.DayKey(day: 20_759, path: row.path)] = counts
        _ = try storeCall { try database.traffic.record(batch, siteID: siteID) }
        let flags = try await database.writer.write { db in
            try db.execute(
                sql: "INSERT INTO urls (site_id, path, file_path, owner, planned_owner, redirect_to, flags) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [siteID, row.path, row.filePath, row.filePath == nil ? "swift" : "php", row.planned, row.redirect, row.flags.rawValue]
            )
            try InventoryRules.markNeverPages(db, siteID: siteID)
            return URLFlags(rawValue: try Int.fetchOne(db, sql: "SELECT flags FROM urls WHERE path = ?", arguments: [row.path]) ?? 0)
        }
        #expect(flags.contains(.neverAPage) == row.neverAPage)
        // The flag is all the rule changes.
        #expect(flags.subtracting(.neverAPage) == row.flags)
    }

    /// A URL's drift: observed by a probe, and not the owner the plan (else the inventory) gives
    /// it; a URL planned to redirect keeps what its answer said.
    struct DriftRow: Sendable, CustomTestStringConvertible {
        var owner: Owner
        var planned: Owner?
        var observed: Owner?
        var redirect: String? = nil
        var before = false
        var drift: Bool
        var testDescription: String {
            "\(owner) planned \(planned.map(\.rawValue) ?? "-") observed \(observed.map(\.rawValue) ?? "-") → \(drift)"
        }
    }

    static let driftRows: [DriftRow] = [
        DriftRow(owner: .php, planned: nil, observed: .php, drift: false),
        DriftRow(owner: .php, planned: nil, observed: .swift, drift: true),
        DriftRow(owner: .php, planned: .swift, observed: .swift, drift: false),
        DriftRow(owner: .php, planned: .swift, observed: .php, drift: true),
        DriftRow(owner: .php, planned: nil, observed: nil, before: true, drift: false),
        DriftRow(owner: .static, planned: nil, observed: .static, before: true, drift: false),
        DriftRow(owner: .php, planned: .swift, observed: .php, redirect: "/new", before: false, drift: false),
        DriftRow(owner: .php, planned: .swift, observed: .swift, redirect: "/new", before: true, drift: true),
    ]

    @Test(arguments: driftRows) func drift(row: DriftRow) async throws {
        let (database, siteID) = try await Self.database()
        let drift = try await database.writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO urls (site_id, path, file_path, owner, planned_owner, observed_owner, redirect_to, drift)
                    VALUES (?, '/p.php', 'p.php', ?, ?, ?, ?, ?)
                    """,
                arguments: [siteID, row.owner, row.planned, row.observed, row.redirect, row.before]
            )
            try InventoryRules.refreshDrift(db, siteID: siteID)
            return try Bool.fetchOne(db, sql: "SELECT drift FROM urls WHERE path = '/p.php'") ?? false
        }
        #expect(drift == row.drift)
    }

    /// Who answers a URL without a file: the front controller the user set, else the detected
    /// one unless declined, else the Swift fallback.
    @Test(
        arguments: [
            (nil, false, nil, nil),
            (nil, false, "/index.php", "/index.php"),
            (nil, true, "/index.php", nil),
            ("/app.php", false, "/index.php", "/app.php"),
            ("/app.php", true, "/index.php", "/app.php"),
        ] as [(String?, Bool, String?, String?)]
    )
    func routingFrontController(set: String?, declined: Bool, detected: String?, routing: String?) {
        #expect(InventoryRules.routingFrontController(set: set, declined: declined, detected: detected) == routing)
    }
}
