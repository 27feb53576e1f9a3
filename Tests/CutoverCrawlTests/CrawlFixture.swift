import CutoverCore
import CutoverCrawl
import CutoverStore
import CutoverTestSupport
import Foundation
import GRDB
import Logging

/// A temporary docroot and an SQLite file, with helpers to crawl and read back the inventory.
struct CrawlFixture {
    let root: TemporaryDirectory
    let docroot: String
    let database: AppDatabase
    let site: SiteRecord

    init(directoryIndex: [String] = SiteSettings.defaultDirectoryIndex) async throws {
        root = try TemporaryDirectory(prefix: "crawl")
        docroot = root.appending("htdocs")
        try FileManager.default.createDirectory(atPath: docroot, withIntermediateDirectories: true)
        database = try AppDatabase(path: root.appending("cutover.sqlite"))
        site = try await database.sites.add(
            SiteSettings(
                name: "test",
                docroot: docroot,
                publicURL: "http://127.0.0.1:1",
                backendURL: "http://127.0.0.1:2",
                directoryIndex: directoryIndex
            )
        )
    }

    func write(_ relative: String, _ contents: String = "x") throws {
        try root.write("htdocs/\(relative)", contents)
    }

    func remove(_ relative: String) throws {
        try FileManager.default.removeItem(atPath: "\(docroot)/\(relative)")
    }

    func symlink(_ relative: String, to target: String) throws {
        try FileManager.default.createSymbolicLink(atPath: "\(docroot)/\(relative)", withDestinationPath: target)
    }

    @discardableResult
    func crawl() throws -> CrawlResult {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return try Crawler(database: database, logger: logger).crawl(site: site)
    }

    func urls(includeGone: Bool = true) throws -> [String: URLRecord] {
        Dictionary(
            uniqueKeysWithValues: try database.inventory.urls(siteID: site.id, query: URLQuery(includeGone: includeGone)).map { ($0.path, $0) }
        )
    }

    func owners() throws -> [String: Owner] {
        try urls(includeGone: false).mapValues(\.owner)
    }

    /// Sets a file's modification time, so a change of content with the same size is still seen.
    func touch(_ relative: String, secondsAgo: TimeInterval) throws {
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-secondsAgo)], ofItemAtPath: "\(docroot)/\(relative)")
    }

    func cleanup() { root.remove() }
}
