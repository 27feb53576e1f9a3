import CutoverCore
import Foundation
import GRDB

extension CrawlStore {
    /// The `.htaccess` files the last successful crawl found, by folder.
    package func htaccessFiles(siteID: SiteID) async throws -> [HtaccessFile] {
        try await writer.read { db in try CrawlStore.htaccessFiles(db, siteID: siteID) }
    }

    static func htaccessFiles(_ db: Database, siteID: SiteID) throws -> [HtaccessFile] {
        try Row.fetchAll(
            db,
            sql: "SELECT * FROM htaccess_files WHERE site_id = ? ORDER BY directory",
            arguments: [siteID]
        ).map { row in
            let options: String = row["rewrite_options"]
            return HtaccessFile(
                directory: row["directory"],
                rewriteEngine: row["rewrite_engine"],
                rewriteOptions: (try? JSONDecoder().decode([String].self, from: Data(options.utf8))) ?? [],
                ruleCount: row["rule_count"],
                fallbackResource: row["fallback_resource"],
                frontController: row["front_controller"]
            )
        }
    }

    /// Replaces the recorded `.htaccess` files of a site (inside the crawl's transaction).
    static func replaceHtaccessFiles(_ db: Database, siteID: SiteID, _ files: [HtaccessFile]) throws {
        try db.execute(sql: "DELETE FROM htaccess_files WHERE site_id = ?", arguments: [siteID])
        let insert = try db.makeStatement(
            sql: """
                INSERT INTO htaccess_files
                    (site_id, directory, rewrite_engine, rewrite_options, rule_count, fallback_resource, front_controller)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """
        )
        for file in files {
            let options = String(decoding: try JSONEncoder().encode(file.rewriteOptions), as: UTF8.self)
            try insert.execute(arguments: [
                siteID, file.directory, file.rewriteEngine, options, file.ruleCount, file.fallbackResource, file.frontController,
            ])
        }
    }
}
