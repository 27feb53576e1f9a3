import CutoverCore
import Foundation
import GRDB

/// One PHP file's includes as read from its source.
package struct PHPIncludeScan: Sendable, Hashable {
    package var filePath: String
    package var contentHash: String
    /// Included files in the docroot, relative to it.
    package var targets: [String]
    package var unresolved: Int

    package init(filePath: String, contentHash: String, targets: [String], unresolved: Int) {
        self.filePath = filePath
        self.contentHash = contentHash
        self.targets = targets
        self.unresolved = unresolved
    }
}

/// What reading the sources found: files read, files other files include, expressions not resolved.
package struct IncludeScanSummary: Sendable, Hashable, Codable {
    package var filesRead: Int
    package var includedFiles: Int
    package var unresolved: Int
}

extension CrawlStore {
    /// The site's PHP files (relative paths) with their content hash, and the hash each was
    /// last read at (nil: never read).
    @available(*, noasync)
    package func phpFilesToScan(siteID: SiteID) throws -> [(filePath: String, contentHash: String, scannedHash: String?)] {
        try writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT u.file_path, u.content_hash, s.content_hash AS scanned FROM urls u
                    LEFT JOIN php_include_scans s ON s.site_id = u.site_id AND s.file_path = u.file_path
                    WHERE u.site_id = ? AND u.owner = 'php' AND u.gone = 0 AND u.file_path IS NOT NULL AND u.content_hash IS NOT NULL
                    """,
                arguments: [siteID]
            ).map { ($0[0], $0[1], $0[2]) }
        }
    }

    /// Stores the files read now, forgets the scans of files the site no longer has, sets the
    /// `includedBySource` flag from every stored scan and re-marks includes; one transaction.
    @available(*, noasync)
    package func saveIncludeScans(siteID: SiteID, _ scans: [PHPIncludeScan]) throws -> IncludeScanSummary {
        try writer.write { db in
            let save = try db.makeStatement(
                sql: """
                    INSERT INTO php_include_scans (site_id, file_path, content_hash, targets, unresolved) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (site_id, file_path) DO UPDATE SET content_hash = excluded.content_hash, targets = excluded.targets,
                      unresolved = excluded.unresolved
                    """
            )
            for scan in scans {
                let targets = String(decoding: try JSONEncoder().encode(scan.targets), as: UTF8.self)
                try save.execute(arguments: [siteID, scan.filePath, scan.contentHash, targets, scan.unresolved])
            }
            try db.execute(
                sql: """
                    DELETE FROM php_include_scans WHERE site_id = ?1 AND file_path NOT IN (SELECT file_path FROM urls
                      WHERE site_id = ?1 AND gone = 0 AND owner = 'php' AND file_path IS NOT NULL)
                    """,
                arguments: [siteID]
            )
            let bit = URLFlags.includedBySource.rawValue
            // The included files once, keyed: a correlated lookup into every scan's JSON took
            // 215 s for 20,000 files.
            try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS cutover_included (file_path TEXT PRIMARY KEY) WITHOUT ROWID")
            try db.execute(sql: "DELETE FROM temp.cutover_included")
            try db.execute(
                sql: """
                    INSERT OR IGNORE INTO temp.cutover_included
                    SELECT t.value FROM php_include_scans s, json_each(s.targets) t WHERE s.site_id = ? AND t.value != s.file_path
                    """,
                arguments: [siteID]
            )
            let included = "(urls.file_path IN (SELECT file_path FROM temp.cutover_included))"
            try db.execute(
                sql: """
                    UPDATE urls SET flags = CASE WHEN \(included) THEN flags | \(bit) ELSE flags & ~\(bit) END
                    WHERE site_id = ?1 AND file_path IS NOT NULL AND ((flags & \(bit)) != 0) != \(included)
                    """,
                arguments: [siteID]
            )
            try InventoryRules.markIncludes(db, siteID: siteID)
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT (SELECT count(*) FROM php_include_scans WHERE site_id = ?1),
                      (SELECT count(DISTINCT file_path) FROM urls WHERE site_id = ?1 AND flags & \(bit) != 0),
                      (SELECT ifnull(sum(unresolved), 0) FROM php_include_scans WHERE site_id = ?1)
                    """,
                arguments: [siteID]
            )!
            return IncludeScanSummary(filesRead: row[0], includedFiles: row[1], unresolved: row[2])
        }
    }
}
