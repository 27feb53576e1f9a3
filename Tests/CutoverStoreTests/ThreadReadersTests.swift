import CutoverCore
import CutoverTestSupport
import Foundation
import GRDB
import Testing

@testable import CutoverStore

/// URL pages read on a thread's own read-only connection (`ThreadReaders`): the same rows as
/// through the pool, and every write committed before the read, however long the connection
/// has been open.
@Suite struct ThreadReadersTests {
    /// Runs `body` on a thread of its own (as NIO's blocking pool threads are) and returns its result.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    static func paths(_ database: AppDatabase, _ query: URLQuery) throws -> [String] {
        var paths: [String] = []
        try database.inventory.forEachURL(siteID: SiteID(1), query: query) { row in
            let owner = try row.requiredOwner().rawValue
            paths.append(String(decoding: row.text(.path)!, as: UTF8.self) + " " + owner)
        }
        return paths
    }

    @Test func pagesComeFromTheThreadsConnectionAndSeeEveryCommit() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = try AppDatabase(path: folder.appending("db.sqlite"))
        let settings = SiteSettings(name: "demo", docroot: "/srv/www", publicURL: "http://127.0.0.1:8081", backendURL: "http://127.0.0.1:8080")
        #expect(try await database.sites.add(settings).id == SiteID(1))
        try PageKeyStoreTests.crawl(database, siteID: SiteID(1), (0..<30).map { "/p\($0).php" })
        let query = URLQuery(limit: 10, offset: 5)

        let expected = try storeCall { try database.inventory.views(siteID: SiteID(1), query: query) }.map { "\($0.path) \($0.owner.rawValue)" }
        #expect(expected.count == 10)
        let readers = try #require(database.threadReaders)
        let opened = readers.openConnections
        let (first, afterOpen) = try await Self.onThread { (try Self.paths(database, query), readers.openConnections) }
        #expect(first == expected)
        #expect(afterOpen == opened + 1, "the read opened the thread's own connection")

        // A thread that keeps its connection sees writes committed after it was opened.
        let (before, after, connections) = try await Self.onThread {
            let before = try Self.paths(database, query)
            try database.writer.write { db in try db.execute(sql: "UPDATE urls SET owner = 'swift' WHERE path = '/p14.php'") }
            let after = try Self.paths(database, query)
            return (before, after, readers.openConnections)
        }
        #expect(before == expected)
        #expect(after.contains("/p14.php swift") && !after.contains("/p14.php php"), "\(after)")
        // A new thread may be given a finished one's id, and with it its connection.
        #expect(connections == afterOpen || connections == afterOpen + 1)
    }

    /// Many threads reading while another writes: each page is whole (no error, ten rows), and
    /// threads beyond the limit read through the pool.
    @Test func concurrentReadsWhileWriting() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = try AppDatabase(path: folder.appending("db.sqlite"))
        let settings = SiteSettings(name: "demo", docroot: "/srv/www", publicURL: "http://127.0.0.1:8081", backendURL: "http://127.0.0.1:8080")
        _ = try await database.sites.add(settings)
        try PageKeyStoreTests.crawl(database, siteID: SiteID(1), (0..<30).map { "/p\($0).php" })
        let query = URLQuery(limit: 10)
        let threads = ThreadReaders.maximumThreads + 4
        let counts = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<threads {
                group.addTask { try await Self.onThread { try (0..<20).map { _ in try Self.paths(database, query).count } } }
            }
            group.addTask {
                for round in 0..<20 {
                    let owner = round % 2 == 0 ? "swift" : "php"
                    try await database.writer.write { db in try db.execute(sql: "UPDATE urls SET owner = ?", arguments: [owner]) }
                }
                return []
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(counts.count == threads * 20)
        #expect(counts.allSatisfy { $0 == 10 })
        #expect(try #require(database.threadReaders).openConnections <= ThreadReaders.maximumThreads)
    }
}
